/**
 * One tool call inside an assistant message: running (spinner) → ok / error / denied / expired /
 * aborted / not executed with a collapsible result (the status the server sent); `blocked` shows the reason; `pending` shows the confirmation
 * card (summary, arguments, tier, countdown, AUTHORIZE / DENY through `chat:confirm`).
 */
import { useNow } from "../../lib/useNow";
import type { ToolArgs } from "../../lib/types/actions";
import { useChatStore } from "../../stores/chat";
import type { ToolView } from "../../stores/chatReducer";
import { ArgsList } from "../actions/ArgsList";
import { Countdown } from "../actions/Countdown";
import { TierBadge } from "../actions/TierBadge";

const STATUS_TEXT: Record<ToolView["status"], string> = {
  running: "RUNNING",
  ok: "OK",
  error: "ERROR",
  blocked: "BLOCKED",
  pending: "AWAITING AUTHORIZATION",
  denied: "DENIED",
  expired: "EXPIRED",
  aborted: "ABORTED",
  not_executed: "NOT EXECUTED",
};

const asArgs = (input: unknown): ToolArgs => (input != null && typeof input === "object" && !Array.isArray(input) ? (input as ToolArgs) : {});

function showResult(result: unknown): string {
  if (typeof result === "string") return result;
  try {
    return JSON.stringify(result, null, 2) ?? "";
  } catch {
    return String(result);
  }
}

export function ToolCard({ tool }: { tool: ToolView }) {
  const tone = tool.status === "ok" ? "ok" : tool.status === "running" || tool.status === "pending" ? "busy" : "bad";
  return (
    <div className={`chat-tool chat-tool--${tone}`} data-testid="chat-tool" data-tool={tool.name} data-status={tool.status} data-tool-id={tool.id}>
      <div className="chat-tool__head">
        {tool.status === "running" && <span className="spinner" aria-hidden="true" />}
        <span className="chat-tool__name mono">{tool.name}</span>
        <TierBadge tier={tool.tier} />
        <span className="chat-tool__status" data-testid="chat-tool-status">
          {STATUS_TEXT[tool.status]}
        </span>
      </div>
      {tool.status !== "pending" && <ArgsList args={asArgs(tool.input)} testId="chat-tool-args" />}
      {tool.status === "pending" && <ConfirmCard tool={tool} />}
      {tool.status === "blocked" && (
        <p className="chat-tool__blocked" role="note" data-testid="chat-blocked">
          Blocked{tool.reason ? `: ${tool.reason}` : ""}
        </p>
      )}
      {tool.result != null && tool.status !== "running" && (
        <details className="chat-tool__result" data-testid="chat-tool-result" open={tool.status !== "ok"}>
          <summary>{tool.status === "ok" ? "Result" : "Details"}</summary>
          <pre className="mono">{showResult(tool.result)}</pre>
        </details>
      )}
    </div>
  );
}

function ConfirmCard({ tool }: { tool: ToolView }) {
  const decide = useChatStore((s) => s.decide);
  const connected = useChatStore((s) => s.connected);
  const now = useNow(1_000);
  const expiresAt = tool.expiresAt ?? "";
  const remaining = Date.parse(expiresAt) - now;
  const expired = Number.isFinite(remaining) && remaining <= 0;
  const disabled = tool.decision != null || expired || !connected;
  return (
    <div className={`chat-confirm chat-confirm--${tool.tier}`} role="group" aria-label="Authorization required" data-testid="chat-confirm" data-confirmation-id={tool.confirmationId ?? ""}>
      <div className="chat-confirm__head">
        <span className="chat-confirm__title">AUTHORIZATION REQUIRED</span>
        {expiresAt && <Countdown expiresAt={expiresAt} expiredText="EXPIRED" testId="chat-confirm-expiry" />}
      </div>
      <p className="chat-confirm__summary" data-testid="chat-confirm-summary">
        {tool.summary || tool.name}
      </p>
      <ArgsList args={asArgs(tool.input)} testId="chat-confirm-args" />
      {tool.decisionError && (
        <p className="chat-confirm__error" role="alert" data-testid="chat-confirm-error">
          {tool.decisionError}
        </p>
      )}
      <div className="chat-confirm__buttons">
        <button type="button" className="btn btn--ghost btn--small" disabled={disabled} onClick={() => decide(tool.id, false)} data-testid="chat-confirm-deny">
          {tool.decision === "deny" && <span className="spinner" aria-hidden="true" />}
          DENY
        </button>
        <button type="button" className="btn btn--danger btn--small" disabled={disabled} onClick={() => decide(tool.id, true)} data-testid="chat-confirm-approve">
          {tool.decision === "approve" && <span className="spinner" aria-hidden="true" />}
          {tool.decision === "approve" ? "AUTHORIZING…" : "AUTHORIZE"}
        </button>
      </div>
    </div>
  );
}
