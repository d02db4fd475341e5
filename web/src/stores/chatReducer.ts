/**
 * The chat transcript as a pure function of the server's `/chat` events, so every event's effect
 * is unit-testable without a socket. The store (stores/chat.ts) holds a `ChatCore` and feeds
 * `reduceChat` / `applyJoin`.
 *
 * Shape of a turn, live and replayed alike: the user message, then one assistant message per LLM
 * call (the tool calls it made are folded into it, with their results), the next call's text in a
 * new message. Events for a session other than the current one are ignored.
 */
import type { ChatConfirmNeeded, ChatJoinAck, ChatMessage, ChatRouteEvent, ChatServerEvent } from "../features/chat/types";
import type { ChatCore, MessageView, RouteView, ToolView } from "./chatView";

export { initialCore, type ChatCore, type MessageView, type RouteView, type ToolView } from "./chatView";

const nowIso = () => new Date().toISOString();

export function fromWire(m: ChatMessage): MessageView {
  const hasUsage = m.role === "assistant" && (m.inputTokens > 0 || m.outputTokens > 0 || m.costUsd > 0);
  return {
    id: m.id,
    role: m.role,
    content: m.content,
    provider: m.provider,
    model: m.model,
    tools: m.toolCalls.map((t) => ({ ...t })),
    routes: [],
    streaming: false,
    usage: hasUsage ? { inputTokens: m.inputTokens, outputTokens: m.outputTokens } : null,
    costUsd: hasUsage ? m.costUsd : null,
    createdAt: m.createdAt,
  };
}

function newAssistant(core: ChatCore, patch: Partial<MessageView> = {}): [ChatCore, MessageView] {
  const seq = core.seq + 1;
  const msg: MessageView = {
    id: `live-${seq}`,
    role: "assistant",
    content: "",
    provider: core.route?.provider ?? null,
    model: core.route?.model ?? null,
    tools: [],
    routes: [],
    streaming: true,
    usage: null,
    costUsd: null,
    createdAt: nowIso(),
    ...patch,
  };
  return [{ ...core, seq, messages: [...core.messages, msg] }, msg];
}

const replaceLast = (core: ChatCore, msg: MessageView): ChatCore => ({ ...core, messages: [...core.messages.slice(0, -1), msg] });

/** The streaming assistant message at the end, or a new one. */
function current(core: ChatCore): [ChatCore, MessageView] {
  const last = core.messages.at(-1);
  if (last?.role === "assistant" && last.streaming) return [core, last];
  return newAssistant(core);
}

/** Applies `fn` to the tool call `toolUseId` (newest first); adds it to the current message if unknown. */
function updateTool(core: ChatCore, toolUseId: string, base: () => ToolView, fn: (t: ToolView) => ToolView): ChatCore {
  for (let i = core.messages.length - 1; i >= 0; i -= 1) {
    const m = core.messages[i] as MessageView;
    const idx = m.tools.findIndex((t) => t.id === toolUseId);
    if (idx === -1) continue;
    const tools = m.tools.map((t, j) => (j === idx ? fn(t) : t));
    const messages = core.messages.map((x, j) => (j === i ? { ...m, tools } : x));
    return { ...core, messages };
  }
  const [next, msg] = current(core);
  return replaceLast(next, { ...msg, tools: [...msg.tools, fn(base())] });
}

const routeOf = (r: ChatRouteEvent): RouteView => ({
  provider: r.provider,
  model: r.model,
  reason: r.reason,
  ...(r.reasonCode ? { reasonCode: r.reasonCode } : {}),
  fallback: r.fallback,
});

function confirmNeeded(core: ChatCore, p: ChatConfirmNeeded): ChatCore {
  const base = (): ToolView => ({ id: p.toolUseId, name: p.toolName, input: p.toolInput, tier: p.tier, status: "running", result: null, confirmationId: null });
  return updateTool(core, p.toolUseId, base, (t) => ({
    ...t,
    status: "pending",
    tier: p.tier,
    confirmationId: p.confirmationId,
    summary: p.summary,
    expiresAt: p.expiresAt,
  }));
}

/** Index of the first message of the turn in progress (after the last user message). */
function turnStart(messages: MessageView[]): number {
  for (let i = messages.length - 1; i >= 0; i -= 1) if (messages[i]?.role === "user") return i + 1;
  return 0;
}

/** One server event. Returns `core` itself when the event is not for this session. */
export function reduceChat(core: ChatCore, ev: ChatServerEvent): ChatCore {
  const sid = ev.payload.sessionId;
  if (core.sessionId !== sid) {
    if (core.sessionId !== null || !core.awaitingSession) return core;
    core = { ...core, sessionId: sid, awaitingSession: false };
  }
  switch (ev.type) {
    case "chat:message": {
      const m = ev.payload.message;
      if (m.role !== "user" || core.messages.some((x) => x.id === m.id)) return core;
      const localIdx = core.messages.findIndex((x) => x.local && x.content === m.content);
      const view = fromWire(m);
      if (localIdx !== -1) return { ...core, messages: core.messages.map((x, i) => (i === localIdx ? view : x)) };
      return { ...core, messages: [...core.messages, view] };
    }
    case "chat:route": {
      const route = routeOf(ev.payload);
      const last = core.messages.at(-1);
      const base = { ...core, route, running: true };
      if (last?.role === "assistant" && last.streaming && ((last.content === "" && last.tools.length === 0) || route.fallback)) {
        return replaceLast(base, { ...last, provider: route.provider, model: route.model, routes: [...last.routes, route] });
      }
      return newAssistant(base, { routes: [route] })[0];
    }
    case "chat:token": {
      const last = core.messages.at(-1);
      const base = { ...core, running: true };
      if (last?.role === "assistant" && last.streaming && last.tools.length === 0) {
        return replaceLast(base, { ...last, content: last.content + ev.payload.text });
      }
      return newAssistant(base, { content: ev.payload.text })[0];
    }
    case "chat:tool_use": {
      const p = ev.payload;
      const base = (): ToolView => ({ id: p.toolUseId, name: p.toolName, input: p.toolInput, tier: p.tier, status: "running", result: null, confirmationId: null });
      return updateTool({ ...core, running: true }, p.toolUseId, base, (t) => ({ ...t, name: p.toolName, input: p.toolInput, tier: p.tier }));
    }
    case "chat:confirm_needed":
      return confirmNeeded(core, ev.payload);
    case "chat:blocked": {
      const p = ev.payload;
      const base = (): ToolView => ({ id: p.toolUseId, name: p.toolName, input: {}, tier: p.tier, status: "running", result: null, confirmationId: null });
      return updateTool(core, p.toolUseId, base, (t) => ({ ...t, status: "blocked", reason: p.reason, tier: p.tier }));
    }
    case "chat:tool_result": {
      const p = ev.payload;
      const base = (): ToolView => ({ id: p.toolUseId, name: "tool", input: {}, tier: "green", status: "running", result: null, confirmationId: null });
      return updateTool(core, p.toolUseId, base, (t) => ({ ...t, status: p.status, result: p.result }));
    }
    case "chat:done": {
      const p = ev.payload;
      const start = turnStart(core.messages);
      let lastAssistant = -1;
      core.messages.forEach((m, i) => {
        if (i >= start && m.role === "assistant") lastAssistant = i;
      });
      const cut = p.stopReason === "aborted" || p.stopReason === "error";
      const messages = core.messages.map((m, i) => {
        if (i < start || m.role !== "assistant") return m;
        const tools = cut ? m.tools.map((t) => (t.status === "running" || t.status === "pending" ? { ...t, status: "aborted" as const } : t)) : m.tools;
        const done = { ...m, streaming: false, tools };
        if (i !== lastAssistant) return done;
        return {
          ...done,
          provider: p.provider ?? m.provider,
          model: p.model ?? m.model,
          usage: p.usage,
          costUsd: p.costUsd,
          ...(p.stopReason ? { stopReason: p.stopReason } : {}),
        };
      });
      return { ...core, messages, running: false, route: null, doneSeq: core.doneSeq + 1 };
    }
    case "chat:error": {
      const seq = core.seq + 1;
      const messages = core.messages.map((m) => (m.streaming ? { ...m, streaming: false } : m));
      const err: MessageView = {
        id: `error-${seq}`,
        role: "error",
        content: ev.payload.message,
        code: ev.payload.code,
        provider: null,
        model: null,
        tools: [],
        routes: [],
        streaming: false,
        usage: null,
        costUsd: null,
        createdAt: nowIso(),
      };
      return { ...core, seq, messages: [...messages, err], running: false, route: null };
    }
  }
}

/** The `chat:join` ack: the session's history replaces whatever was shown (reconnect replay). */
export function applyJoin(core: ChatCore, ack: ChatJoinAck): ChatCore {
  let next: ChatCore = {
    ...core,
    sessionId: ack.sessionId,
    title: ack.title || null,
    messages: ack.messages.map(fromWire),
    running: ack.running,
    awaitingSession: false,
    route: null,
  };
  if (ack.pending) {
    next = confirmNeeded(next, { ...ack.pending, sessionId: ack.sessionId });
    // The replayed message is complete; new text after the decision starts a new one.
    next = { ...next, messages: next.messages.map((m) => (m.streaming ? { ...m, streaming: false } : m)) };
  }
  return next;
}

/** The optimistic user message shown as soon as the operator sends. */
export function addLocalUserMessage(core: ChatCore, text: string): ChatCore {
  const seq = core.seq + 1;
  const msg: MessageView = {
    id: `local-${seq}`,
    role: "user",
    content: text,
    provider: null,
    model: null,
    tools: [],
    routes: [],
    streaming: false,
    usage: null,
    costUsd: null,
    local: true,
    createdAt: nowIso(),
  };
  return { ...core, seq, messages: [...core.messages, msg], running: true, awaitingSession: core.sessionId === null };
}

/** Records (or clears) the operator's decision on a tool call. */
export function setDecision(core: ChatCore, toolUseId: string, decision: "approve" | "deny" | null, error?: string): ChatCore {
  const messages = core.messages.map((m) => {
    if (!m.tools.some((t) => t.id === toolUseId)) return m;
    return {
      ...m,
      tools: m.tools.map((t) => {
        if (t.id !== toolUseId) return t;
        const { decision: _d, decisionError: _e, ...rest } = t;
        return { ...rest, ...(decision ? { decision } : {}), ...(error ? { decisionError: error } : {}) };
      }),
    };
  });
  return { ...core, messages };
}
