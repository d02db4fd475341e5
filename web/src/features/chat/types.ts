/**
 * Wire types of the `/chat` socket and the chat REST routes (docs/protocol.md: the `/chat` row,
 * "[added] `/chat` as built" and "Chat history, cost, routing").
 *
 * REST bodies come from the ts-rs exports (src/types/generated), so a rename on the server breaks
 * the build here. `ChatMessage` and its tool calls are the generated shapes after parse.ts has
 * checked them (ids as strings, provider and tier narrowed). Socket event payloads are built
 * with `json!` on the server and are written by hand, mirroring the protocol.
 */
import type { ToolTier } from "../../lib/types/actions";
import type { ChatMessage as WireChatMessage } from "../../types/generated/ChatMessage";
import type { ToolCallView } from "../../types/generated/ToolCallView";

export type { ChatStatus } from "../../types/generated/ChatStatus";
export type { ChatSessionSummary } from "../../types/generated/ChatSessionSummary";
export type { SlashCommandInfo as SlashCommand } from "../../types/generated/SlashCommandInfo";
export type { ToolCallStatus } from "../../types/generated/ToolCallStatus";

export type ChatProvider = "claude" | "local" | "slash";

/** A tool call as stored with the assistant message that made it (tier defaulted, any result). */
export type ChatToolCall = Omit<ToolCallView, "tier" | "result"> & { tier: ToolTier; result: unknown };

/** `GET /api/chat/sessions/{id}` messages and `chat:join` / `chat:message` payloads. */
export type ChatMessage = Omit<WireChatMessage, "id" | "role" | "provider" | "toolCalls"> & {
  id: string;
  role: "user" | "assistant";
  provider: ChatProvider | null;
  toolCalls: ChatToolCall[];
};

export interface ChatRouteEvent {
  sessionId: string;
  provider: ChatProvider;
  model: string;
  reason: string;
  reasonCode?: string;
  fallback?: boolean;
}
export interface ChatTokenEvent {
  sessionId: string;
  text: string;
}
export interface ChatToolUseEvent {
  sessionId: string;
  toolUseId: string;
  toolName: string;
  toolInput: unknown;
  tier: ToolTier;
}
export interface ChatToolResultEvent {
  sessionId: string;
  toolUseId: string;
  result: unknown;
  isError: boolean;
}
export interface ChatConfirmNeeded {
  sessionId: string;
  confirmationId: string;
  toolUseId: string;
  toolName: string;
  toolInput: unknown;
  tier: ToolTier;
  summary: string;
  expiresAt: string;
}
export interface ChatBlockedEvent {
  sessionId: string;
  toolUseId: string;
  toolName: string;
  reason: string;
  tier: ToolTier;
}
export type StopReason = "end_turn" | "max_iterations" | "aborted" | "error";
export interface ChatDoneEvent {
  sessionId: string;
  provider: ChatProvider | null;
  model: string | null;
  usage: { inputTokens: number; outputTokens: number };
  costUsd: number;
  stopReason?: StopReason;
}
export interface ChatErrorEvent {
  sessionId: string;
  code: string;
  message: string;
}
export interface ChatMessageEvent {
  sessionId: string;
  message: ChatMessage;
}

/** `chat:join` ack. */
export interface ChatJoinAck {
  sessionId: string;
  title: string;
  messages: ChatMessage[];
  pending: ChatConfirmNeeded | null;
  running: boolean;
}

export interface ChatAckError {
  error: { code: string; message: string };
}

/** Every server → client event, tagged with its socket event name. */
export type ChatServerEvent =
  | { type: "chat:route"; payload: ChatRouteEvent }
  | { type: "chat:token"; payload: ChatTokenEvent }
  | { type: "chat:tool_use"; payload: ChatToolUseEvent }
  | { type: "chat:tool_result"; payload: ChatToolResultEvent }
  | { type: "chat:confirm_needed"; payload: ChatConfirmNeeded }
  | { type: "chat:blocked"; payload: ChatBlockedEvent }
  | { type: "chat:done"; payload: ChatDoneEvent }
  | { type: "chat:error"; payload: ChatErrorEvent }
  | { type: "chat:message"; payload: ChatMessageEvent };

export type ChatServerEventName = ChatServerEvent["type"];
