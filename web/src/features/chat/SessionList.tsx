/** Earlier conversations (newest first) and NEW CHAT; picking one joins it over the socket. */
import { useChatStore } from "../../stores/chat";
import { formatUsd } from "../cost/formatUsd";

export function SessionList() {
  const sessions = useChatStore((s) => s.sessions);
  const current = useChatStore((s) => s.sessionId);
  const running = useChatStore((s) => s.running);
  const connected = useChatStore((s) => s.connected);
  const join = useChatStore((s) => s.join);
  const newChat = useChatStore((s) => s.newChat);
  return (
    <nav className="chat-sessions" aria-label="Conversations" data-testid="chat-sessions">
      <button type="button" className="btn btn--ghost btn--small chat-sessions__new" onClick={newChat} disabled={current === null && !running} data-testid="chat-new">
        + NEW CHAT
      </button>
      {sessions.length === 0 && <p className="muted">No conversations yet.</p>}
      <ul className="chat-sessions__list">
        {sessions.map((s) => (
          <li key={s.id}>
            <button
              type="button"
              className="chat-sessions__item"
              aria-current={s.id === current ? "true" : undefined}
              disabled={!connected}
              onClick={() => join(s.id)}
              title={s.title}
              data-testid={`chat-session-${s.id}`}
            >
              <span className="chat-sessions__title">{s.title}</span>
              <span className="chat-sessions__meta mono">
                {s.messageCount} msg · {formatUsd(s.costUsd)}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
