/**
 * Checks `/chat` payloads before they reach the store: a malformed push is dropped instead of
 * corrupting the transcript. Optional fields get safe defaults so a server that omits them
 * (or adds new ones) still works.
 */
import type { ToolTier } from "../../lib/types/actions";
import type {
  ChatConfirmNeeded,
  ChatJoinAck,
  ChatMessage,
  ChatProvider,
  ChatServerEvent,
  ChatServerEventName,
  ChatToolCall,
  StopReason,
  ToolCallStatus,
  ToolResultStatus,
} from "./types";

const TIERS: readonly string[] = ["green", "yellow", "red", "black"];
const PROVIDERS: readonly string[] = ["claude", "local", "slash"];
const RESULT_STATUSES: readonly string[] = ["ok", "error", "blocked", "denied", "expired", "aborted", "not_executed"];
const STATUSES: readonly string[] = [...RESULT_STATUSES, "pending"];
const STOP_REASONS: readonly string[] = ["end_turn", "max_iterations", "aborted", "error"];

export const isObject = (v: unknown): v is Record<string, unknown> => v != null && typeof v === "object" && !Array.isArray(v);
const str = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : fallback);
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const tier = (v: unknown): ToolTier => (typeof v === "string" && TIERS.includes(v) ? (v as ToolTier) : "green");
export const provider = (v: unknown): ChatProvider | null => (typeof v === "string" && PROVIDERS.includes(v) ? (v as ChatProvider) : null);
const text = (v: unknown): string => {
  if (typeof v === "string") return v;
  try {
    return JSON.stringify(v) ?? "";
  } catch {
    return "";
  }
};
/** The status of `chat:tool_result`; a server that sends none is read by `isError` alone. */
const resultStatus = (v: unknown, isError: boolean): ToolResultStatus =>
  typeof v === "string" && RESULT_STATUSES.includes(v) ? (v as ToolResultStatus) : isError ? "error" : "ok";
const id = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null);

export function parseToolCall(raw: unknown): ChatToolCall | null {
  if (!isObject(raw)) return null;
  const toolId = id(raw.id);
  if (!toolId) return null;
  return {
    id: toolId,
    name: str(raw.name, "tool"),
    input: raw.input ?? {},
    tier: tier(raw.tier),
    status: typeof raw.status === "string" && STATUSES.includes(raw.status) ? (raw.status as ToolCallStatus) : "ok",
    result: raw.result ?? null,
    confirmationId: id(raw.confirmationId),
  };
}

export function parseChatMessage(raw: unknown): ChatMessage | null {
  if (!isObject(raw)) return null;
  const msgId = id(raw.id);
  if (!msgId || (raw.role !== "user" && raw.role !== "assistant")) return null;
  return {
    id: msgId,
    sessionId: str(raw.sessionId),
    role: raw.role,
    content: str(raw.content),
    provider: provider(raw.provider),
    model: typeof raw.model === "string" ? raw.model : null,
    toolCalls: Array.isArray(raw.toolCalls) ? raw.toolCalls.map(parseToolCall).filter((t): t is ChatToolCall => t !== null) : [],
    inputTokens: num(raw.inputTokens),
    outputTokens: num(raw.outputTokens),
    costUsd: num(raw.costUsd),
    createdAt: str(raw.createdAt),
  };
}

export function parseConfirmNeeded(raw: unknown): ChatConfirmNeeded | null {
  if (!isObject(raw)) return null;
  const sessionId = id(raw.sessionId);
  const confirmationId = id(raw.confirmationId);
  const toolUseId = id(raw.toolUseId);
  if (!sessionId || !confirmationId || !toolUseId) return null;
  return {
    sessionId,
    confirmationId,
    toolUseId,
    toolName: str(raw.toolName, "tool"),
    toolInput: isObject(raw.toolInput) ? raw.toolInput : {},
    tier: tier(raw.tier ?? "red"),
    summary: str(raw.summary),
    expiresAt: str(raw.expiresAt),
  };
}

/** A server push as a tagged event, or null when it is not one we can use. */
export function parseServerEvent(type: ChatServerEventName, raw: unknown): ChatServerEvent | null {
  if (!isObject(raw)) return null;
  const sessionId = id(raw.sessionId);
  if (!sessionId) return null;
  switch (type) {
    case "chat:route": {
      const p = provider(raw.provider);
      if (!p) return null;
      return {
        type,
        payload: {
          sessionId,
          provider: p,
          model: str(raw.model),
          reason: str(raw.reason),
          reasonCode: str(raw.reasonCode),
          fallback: raw.fallback === true,
        },
      };
    }
    case "chat:token":
      return typeof raw.text === "string" ? { type, payload: { sessionId, text: raw.text } } : null;
    case "chat:tool_use": {
      const toolUseId = id(raw.toolUseId);
      if (!toolUseId) return null;
      return { type, payload: { sessionId, toolUseId, toolName: str(raw.toolName, "tool"), toolInput: raw.toolInput ?? {}, tier: tier(raw.tier) } };
    }
    case "chat:tool_result": {
      const toolUseId = id(raw.toolUseId);
      if (!toolUseId) return null;
      const isError = raw.isError === true;
      return { type, payload: { sessionId, toolUseId, result: text(raw.result ?? ""), isError, status: resultStatus(raw.status, isError) } };
    }
    case "chat:confirm_needed": {
      const payload = parseConfirmNeeded(raw);
      return payload ? { type, payload } : null;
    }
    case "chat:blocked": {
      const toolUseId = id(raw.toolUseId);
      if (!toolUseId) return null;
      return { type, payload: { sessionId, toolUseId, toolName: str(raw.toolName, "tool"), reason: str(raw.reason), tier: tier(raw.tier ?? "black") } };
    }
    case "chat:done": {
      const usage = isObject(raw.usage) ? raw.usage : {};
      const stop = str(raw.stopReason);
      return {
        type,
        payload: {
          sessionId,
          provider: provider(raw.provider),
          model: typeof raw.model === "string" ? raw.model : null,
          usage: { inputTokens: num(usage.inputTokens), outputTokens: num(usage.outputTokens) },
          costUsd: num(raw.costUsd),
          ...(STOP_REASONS.includes(stop) ? { stopReason: stop as StopReason } : {}),
        },
      };
    }
    case "chat:error":
      return { type, payload: { sessionId, code: str(raw.code, "error"), message: str(raw.message, "Something went wrong") } };
    case "chat:message": {
      const message = parseChatMessage(raw.message);
      return message ? { type, payload: { sessionId, message } } : null;
    }
  }
}

export function parseJoinAck(raw: unknown): ChatJoinAck | null {
  if (!isObject(raw)) return null;
  const sessionId = id(raw.sessionId);
  if (!sessionId || !Array.isArray(raw.messages)) return null;
  return {
    sessionId,
    title: str(raw.title),
    messages: raw.messages.map(parseChatMessage).filter((m): m is ChatMessage => m !== null),
    pending: raw.pending == null ? null : parseConfirmNeeded({ sessionId, ...(isObject(raw.pending) ? raw.pending : {}) }),
    running: raw.running === true,
  };
}

/** The `{error: {code, message}}` of an ack, if it is one. */
export function ackError(raw: unknown): { code: string; message: string } | null {
  if (!isObject(raw) || !isObject(raw.error)) return null;
  return { code: str(raw.error.code, "error"), message: str(raw.error.message, "Request failed") };
}

export const CHAT_EVENTS: readonly ChatServerEventName[] = [
  "chat:route",
  "chat:token",
  "chat:tool_use",
  "chat:tool_result",
  "chat:confirm_needed",
  "chat:blocked",
  "chat:done",
  "chat:error",
  "chat:message",
];
