/**
 * CHAT (UI-04): the conversation with J.A.R.V.I.S. over the `/chat` socket (connected by the
 * dashboard, so a turn keeps streaming while another tab is shown). Sessions on the left, the
 * transcript (an aria-live region) and the prompt on the right.
 */
import { useEffect, useRef } from "react";
import { ApiError } from "../../lib/api";
import { useChatStore } from "../../stores/chat";
import { withAuth } from "../../stores/auth";
import { ChatInput } from "./ChatInput";
import { fetchChatSessions, fetchChatStatus } from "./chatApi";
import { MessageItem } from "./MessageItem";
import { SessionList } from "./SessionList";
import type { ChatStatus } from "./types";
import "./chat.css";

const quiet = (err: unknown) => {
  if (err instanceof ApiError || (err instanceof DOMException && err.name === "AbortError")) return;
  console.warn("chat request failed", err);
};

/** Provider status once per mount; the session list on mount and after every finished turn. */
function useChatData(): void {
  const doneSeq = useChatStore((s) => s.doneSeq);
  const sessionId = useChatStore((s) => s.sessionId);
  useEffect(() => {
    const controller = new AbortController();
    withAuth((t) => fetchChatStatus(t, controller.signal))
      .then((status) => useChatStore.getState().setStatus(status))
      .catch(quiet);
    return () => controller.abort();
  }, []);
  useEffect(() => {
    const controller = new AbortController();
    withAuth((t) => fetchChatSessions(t, 30, controller.signal))
      .then((sessions) => useChatStore.getState().setSessions(sessions))
      .catch(quiet);
    return () => controller.abort();
  }, [doneSeq, sessionId]);
}

function NoProvider({ status }: { status: ChatStatus }) {
  return (
    <div className="chat-empty" data-testid="chat-empty" data-configured="false">
      <p className="chat-empty__title">No LLM configured — slash commands still work</p>
      <p className="dim">Set ANTHROPIC_API_KEY or LOCAL_LLM_ENDPOINT to chat in plain language.</p>
      {status.slashCommands.length > 0 && (
        <dl className="kv chat-empty__commands">
          {status.slashCommands.map((c) => (
            <div key={c.command} className="confirm__arg">
              <dt className="mono">{c.usage}</dt>
              <dd>{c.description}</dd>
            </div>
          ))}
        </dl>
      )}
    </div>
  );
}

function Welcome({ label }: { label: string }) {
  return (
    <div className="chat-empty" data-testid="chat-empty" data-configured="true">
      <p className="chat-empty__title">◈ {label === "JARVIS" ? "J.A.R.V.I.S." : label} online</p>
      <p className="dim">Ask about the cluster, or type / for commands.</p>
    </div>
  );
}

/** Distance from the bottom (px) within which the transcript keeps following new output. */
const STICK_PX = 48;

function Transcript() {
  const messages = useChatStore((s) => s.messages);
  const joining = useChatStore((s) => s.joining);
  const status = useChatStore((s) => s.status);
  const box = useRef<HTMLDivElement>(null);
  /** Whether the operator is at the bottom (not reading further up). */
  const stick = useRef(true);
  const last = messages.at(-1);
  // Changes when the last reply grows or one of its cards changes state.
  const lastKey = last ? `${messages.length}:${last.content.length}:${last.tools.map((t) => t.status).join()}` : "";
  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lastKey]);
  const onScroll = () => {
    const el = box.current;
    if (el) stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX;
  };

  const noProvider = status != null && !status.claude.configured && !status.local.configured && !status.scripted;
  return (
    <div className="chat-transcript" ref={box} onScroll={onScroll}>
      {messages.length === 0 && !joining && status && (noProvider ? <NoProvider status={status} /> : <Welcome label={status.label} />)}
      {joining && messages.length === 0 && <p className="muted">Loading conversation…</p>}
      <ol className="chat-messages" aria-live="polite" aria-relevant="additions text" aria-label="Conversation" data-testid="chat-messages">
        {messages.map((m) => (
          <MessageItem key={m.id} m={m} />
        ))}
      </ol>
    </div>
  );
}

export function ChatPanel() {
  useChatData();
  const notice = useChatStore((s) => s.notice);
  const dismiss = useChatStore((s) => s.dismissNotice);
  const connected = useChatStore((s) => s.connected);
  const running = useChatStore((s) => s.running);
  const title = useChatStore((s) => s.title ?? s.sessions.find((x) => x.id === s.sessionId)?.title ?? null);
  return (
    <div className="chat" data-testid="chat-panel" data-running={running ? "true" : "false"} data-connected={connected ? "true" : "false"}>
      <SessionList />
      <div className="chat__main">
        <div className="chat__header">
          <span className="chat__title" data-testid="chat-title">
            {title ?? "New conversation"}
          </span>
          {!connected && <span className="chat__offline">OFFLINE — reconnecting…</span>}
        </div>
        <Transcript />
        {notice && (
          <p className="chat__notice" role="alert" data-testid="chat-notice">
            {notice}
            <button type="button" className="pending__dismiss" aria-label="Dismiss" onClick={dismiss}>
              ×
            </button>
          </p>
        )}
        <ChatInput />
      </div>
    </div>
  );
}
