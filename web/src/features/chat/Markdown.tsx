import { memo, useMemo } from "react";
import { renderMarkdown } from "./markdown";

/** Assistant text rendered as markdown (sanitized; see markdown.ts). */
export const Markdown = memo(function Markdown({ text, testId }: { text: string; testId?: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return <div className="chat-md" data-testid={testId} dangerouslySetInnerHTML={{ __html: html }} />;
});
