/** One transcript entry: a user bubble, an assistant reply (badge, route, markdown, tools, usage) or an error line. */
import { memo } from "react";
import { useChatStore } from "../../stores/chat";
import type { MessageView, RouteView } from "../../stores/chatReducer";
import type { ChatProvider } from "./types";
import { Markdown } from "./Markdown";
import { ToolCard } from "./ToolCard";
import { formatUsd } from "../cost/formatUsd";

const PROVIDER_NAME: Record<ChatProvider, string> = { claude: "Claude", local: "Local", slash: "Slash command" };

function RouteLine({ route }: { route: RouteView }) {
  if (route.fallback) {
    return (
      <p className="chat-route chat-route--fallback" role="status" data-testid="chat-fallback">
        ⚠ Fallback → {PROVIDER_NAME[route.provider]}
        {route.reason ? ` · ${route.reason}` : ""}
      </p>
    );
  }
  return (
    <p className="chat-route" data-testid="chat-route" data-provider={route.provider} data-reason-code={route.reasonCode}>
      → {PROVIDER_NAME[route.provider]}
      {route.reason ? ` · ${route.reason}` : ""}
    </p>
  );
}

function ProviderBadge({ provider, model }: { provider: ChatProvider | null; model: string | null }) {
  const scripted = useChatStore((s) => s.status?.scripted === true);
  const label = provider ? provider.toUpperCase() : "JARVIS";
  const showModel = model && provider !== "slash";
  return (
    <span className="chat-badge" data-testid="chat-provider-badge" data-provider={provider ?? "unknown"} title={model ?? undefined}>
      <span className={`chat-badge__provider chat-badge__provider--${provider ?? "unknown"}`}>{label}</span>
      {showModel && <span className="chat-badge__model mono">{model}</span>}
      {scripted && <span className="chat-badge__scripted">scripted demo</span>}
    </span>
  );
}

export const MessageItem = memo(function MessageItem({ m }: { m: MessageView }) {
  if (m.role === "user") {
    return (
      <li className={`chat-msg chat-msg--user${m.local ? " is-local" : ""}`} data-testid="chat-message" data-role="user">
        <div className="chat-bubble">{m.content}</div>
      </li>
    );
  }
  if (m.role === "error") {
    return (
      <li className="chat-msg chat-msg--error" data-testid="chat-error" data-code={m.code} role="alert">
        ✕ {m.content}
      </li>
    );
  }
  const waiting = m.streaming && m.content === "" && m.tools.length === 0;
  return (
    <li
      className="chat-msg chat-msg--assistant"
      data-testid="chat-message"
      data-role="assistant"
      data-streaming={m.streaming ? "true" : "false"}
      data-stop-reason={m.stopReason}
      aria-busy={m.streaming}
    >
      <div className="chat-msg__meta">
        <ProviderBadge provider={m.provider} model={m.model} />
        {m.streaming && <span className="spinner" aria-label="Answering" />}
      </div>
      {m.routes.map((r, i) => (
        <RouteLine key={i} route={r} />
      ))}
      {m.content !== "" && <Markdown text={m.content} testId="chat-text" />}
      {waiting && <p className="chat-msg__thinking dim">thinking…</p>}
      {m.tools.map((t) => (
        <ToolCard key={t.id} tool={t} />
      ))}
      {m.usage && (
        <p className="chat-usage dim mono" data-testid="chat-usage">
          {m.usage.inputTokens.toLocaleString("en-US")} in · {m.usage.outputTokens.toLocaleString("en-US")} out
          {m.costUsd != null ? ` · ${formatUsd(m.costUsd)}` : ""}
          {m.stopReason && m.stopReason !== "end_turn" ? ` · ${m.stopReason.replace("_", " ")}` : ""}
        </p>
      )}
      {!m.usage && m.stopReason === "aborted" && <p className="chat-usage dim mono">aborted</p>}
    </li>
  );
});
