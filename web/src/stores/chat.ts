/**
 * The chat: the transcript of the current session (a pure reducer, stores/chatReducer.ts), what
 * the server says about providers and slash commands, the session list, and the `/chat` socket
 * through which messages, decisions and aborts go (set by features/chat/useChatSocket).
 *
 * The current session id survives a reload (sessionStorage, per tab): on every (re)connect the
 * socket joins it again and the ack's history replaces the transcript. Signing out forgets it.
 */
import { create } from "zustand";
import { parseJoinAck, ackError } from "../features/chat/parse";
import type { ChatSendAck, ChatServerEvent, ChatSessionSummary, ChatStatus } from "../features/chat/types";
import { addLocalUserMessage, applyJoin, initialCore, reduceChat, setDecision, type ChatCore, type ToolView } from "./chatReducer";
import { resetOnSessionChange } from "./sessionScoped";

export const CHAT_SESSION_KEY = "jarvis-chat-session";

/** Sends one client event with an ack callback (the socket's `emit`). */
export type ChatTransport = (event: string, payload: unknown, ack: (response: unknown) => void) => void;

function readSessionId(): string | null {
  try {
    return globalThis.sessionStorage?.getItem(CHAT_SESSION_KEY) || null;
  } catch {
    return null;
  }
}

function persistSessionId(id: string | null): void {
  try {
    if (id) globalThis.sessionStorage?.setItem(CHAT_SESSION_KEY, id);
    else globalThis.sessionStorage?.removeItem(CHAT_SESSION_KEY);
  } catch {
    // Storage disabled: the session lasts for this page only.
  }
}

interface ChatState extends ChatCore {
  connected: boolean;
  /** A `chat:join` in flight (history loading). */
  joining: boolean;
  aborting: boolean;
  /** Why the last send, join or abort failed (shown above the input). */
  notice: string | null;
  status: ChatStatus | null;
  sessions: ChatSessionSummary[];
  transport: ChatTransport | null;

  setTransport: (t: ChatTransport | null) => void;
  setConnected: (connected: boolean) => void;
  /** The socket dropped: a message sent without a session and not yet acked is given up. */
  connectionLost: () => void;
  setStatus: (status: ChatStatus | null) => void;
  setSessions: (sessions: ChatSessionSummary[]) => void;
  /** A server push (already parsed). */
  handle: (ev: ChatServerEvent) => void;
  send: (text: string) => boolean;
  join: (sessionId: string) => void;
  newChat: () => void;
  /** `chat:confirm` for the pending call `toolUseId` (once; again only after a refused decision). */
  decide: (toolUseId: string, approve: boolean) => void;
  abort: () => void;
  dismissNotice: () => void;
  reset: () => void;
}

function findTool(messages: ChatCore["messages"], id: string): ToolView | undefined {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const hit = messages[i]?.tools.find((t) => t.id === id);
    if (hit) return hit;
  }
  return undefined;
}

const core = (s: ChatState): ChatCore => ({
  sessionId: s.sessionId,
  title: s.title,
  messages: s.messages,
  running: s.running,
  awaitingSession: s.awaitingSession,
  route: s.route,
  doneSeq: s.doneSeq,
  seq: s.seq,
});

export const useChatStore = create<ChatState>()((set, get) => {
  /** Applies a core update and keeps the persisted session id in step. */
  const update = (fn: (c: ChatCore) => ChatCore) => {
    const before = get().sessionId;
    const next = fn(core(get()));
    set(next);
    if (next.sessionId !== before) persistSessionId(next.sessionId);
  };

  return {
    ...initialCore,
    sessionId: readSessionId(),
    connected: false,
    joining: false,
    aborting: false,
    notice: null,
    status: null,
    sessions: [],
    transport: null,

    setTransport: (transport) => set({ transport }),
    setConnected: (connected) => set({ connected }),
    connectionLost() {
      const s = get();
      // Sessions already known are rejoined on reconnect (the ack says whether a turn still runs).
      if (s.sessionId !== null || !s.awaitingSession) return;
      set({
        running: false,
        awaitingSession: false,
        messages: s.messages.filter((m) => !m.local),
        notice: "Connection lost before the message was accepted — send it again.",
      });
    },
    setStatus: (status) => set({ status }),
    setSessions: (sessions) => set({ sessions }),

    handle(ev) {
      update((c) => reduceChat(c, ev));
      if (ev.type === "chat:done" || ev.type === "chat:error") set({ aborting: false });
    },

    send(text) {
      const s = get();
      const message = text.trim();
      if (!message || s.running || !s.transport || !s.connected) return false;
      update((c) => addLocalUserMessage(c, message));
      set({ notice: null });
      const sessionId = s.sessionId;
      s.transport("chat:send", sessionId ? { sessionId, message } : { message }, (res) => {
        const err = ackError(res);
        if (err) {
          // Nothing was stored: take the optimistic message back so it can be edited and resent.
          set((st) => ({
            messages: st.messages.filter((m) => !(m.local && m.content === message)),
            running: false,
            awaitingSession: false,
            notice: err.message,
          }));
          return;
        }
        const ackId = res && typeof res === "object" ? (res as Partial<Record<keyof ChatSendAck, unknown>>).sessionId : null;
        if (typeof ackId === "string" && get().sessionId === null && get().awaitingSession) {
          update((c) => ({ ...c, sessionId: ackId, awaitingSession: false }));
        }
      });
      return true;
    },

    join(sessionId) {
      const { transport } = get();
      if (!transport) return;
      if (sessionId !== get().sessionId) update(() => ({ ...initialCore, sessionId, doneSeq: get().doneSeq, seq: get().seq }));
      set({ joining: true, notice: null, aborting: false });
      transport("chat:join", { sessionId }, (res) => {
        if (get().sessionId !== sessionId) return; // switched away meanwhile
        const err = ackError(res);
        const ack = err ? null : parseJoinAck(res);
        if (!ack) {
          // Unknown (deleted, another database) or unreadable: start over rather than show nothing.
          update((c) => ({ ...initialCore, doneSeq: c.doneSeq, seq: c.seq }));
          set({ joining: false, notice: err?.code === "not_found" ? null : (err?.message ?? "Could not load the conversation") });
          return;
        }
        update((c) => applyJoin(c, ack));
        set({ joining: false });
      });
    },

    newChat() {
      update((c) => ({ ...initialCore, doneSeq: c.doneSeq, seq: c.seq }));
      set({ joining: false, aborting: false, notice: null });
    },

    decide(toolUseId, approve) {
      const { transport, sessionId, messages } = get();
      const tool = findTool(messages, toolUseId);
      if (!transport || !sessionId || !tool?.confirmationId || tool.decision || tool.status !== "pending") return;
      const toolId = tool.id;
      update((c) => setDecision(c, toolId, approve ? "approve" : "deny"));
      transport("chat:confirm", { sessionId, confirmationId: tool.confirmationId, approve }, (res) => {
        const err = ackError(res);
        if (err) update((c) => setDecision(c, toolId, null, err.message));
      });
    },

    abort() {
      const { transport, sessionId, running } = get();
      if (!transport || !sessionId || !running) return;
      set({ aborting: true });
      transport("chat:abort", { sessionId }, (res) => {
        const err = ackError(res);
        if (err) set({ aborting: false, notice: err.message });
      });
    },

    dismissNotice: () => set({ notice: null }),

    reset() {
      persistSessionId(null);
      set({ ...initialCore, sessionId: null, joining: false, aborting: false, notice: null, status: null, sessions: [] });
    },
  };
});

resetOnSessionChange(() => useChatStore.getState().reset());
