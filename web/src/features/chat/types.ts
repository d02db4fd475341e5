/**
 * Wire types of the `/chat` socket and the chat REST routes (docs/protocol.md: the `/chat` row,
 * "[added] `/chat` as built" and "Chat history, cost, routing").
 *
 * Every shape comes from the ts-rs exports (src/types/generated) — the server builds each socket
 * payload from a typed struct — so a rename on the server breaks the build here. Where parse.ts
 * narrows a field after checking it (message ids as strings, an unknown provider as null), the
 * type says so by deriving from the generated one.
 */
import type { ToolTier } from "../../lib/types/actions";
import type { ChatDoneEvent as WireChatDoneEvent } from "../../types/generated/ChatDoneEvent";
import type { ChatJoinAck as WireChatJoinAck } from "../../types/generated/ChatJoinAck";
import type { ChatMessage as WireChatMessage } from "../../types/generated/ChatMessage";
import type { ChatMessageEvent as WireChatMessageEvent } from "../../types/generated/ChatMessageEvent";
import type { ChatBlockedEvent } from "../../types/generated/ChatBlockedEvent";
import type { ChatErrorEvent } from "../../types/generated/ChatErrorEvent";
import type { ChatRouteEvent } from "../../types/generated/ChatRouteEvent";
import type { ChatTokenEvent } from "../../types/generated/ChatTokenEvent";
import type { ChatToolResultEvent } from "../../types/generated/ChatToolResultEvent";
import type { ChatToolUseEvent } from "../../types/generated/ChatToolUseEvent";
import type { ConfirmNeeded } from "../../types/generated/ConfirmNeeded";
import type { StopReason } from "../../types/generated/StopReason";
import type { ToolCallView } from "../../types/generated/ToolCallView";

export type { ChatStatus } from "../../types/generated/ChatStatus";
export type { ChatSessionSummary } from "../../types/generated/ChatSessionSummary";
export type { SlashCommandInfo as SlashCommand } from "../../types/generated/SlashCommandInfo";
export type { ToolCallStatus } from "../../types/generated/ToolCallStatus";
export type { ToolResultStatus } from "../../types/generated/ToolResultStatus";
export type { ChatBlockedEvent, ChatErrorEvent, ChatRouteEvent, ChatTokenEvent, ChatToolResultEvent, ChatToolUseEvent, StopReason };

export type ChatProvider = ChatRouteEvent["provider"];

/** A tool call as stored with the assistant message that made it (tier defaulted, any result). */
export type ChatToolCall = Omit<ToolCallView, "tier" | "result"> & { tier: ToolTier; result: unknown };

/** `GET /api/chat/sessions/{id}` messages and `chat:join` / `chat:message` payloads. */
export type ChatMessage = Omit<WireChatMessage, "id" | "role" | "provider" | "toolCalls"> & {
  id: string;
  role: "user" | "assistant";
  provider: ChatProvider | null;
  toolCalls: ChatToolCall[];
};

/** `chat:confirm_needed`, and the pending confirmation `chat:join` replays. */
export type ChatConfirmNeeded = ConfirmNeeded;

/** `chat:done`; an unknown provider or stop reason is dropped by parse.ts. */
export type ChatDoneEvent = Omit<WireChatDoneEvent, "provider" | "model" | "stopReason"> & {
  provider: ChatProvider | null;
  model: string | null;
  stopReason?: StopReason;
};

export type ChatMessageEvent = Omit<WireChatMessageEvent, "message"> & { message: ChatMessage };

/** `chat:join` ack. */
export type ChatJoinAck = Omit<WireChatJoinAck, "messages"> & { messages: ChatMessage[] };

export type { ChatOkAck } from "../../types/generated/ChatOkAck";
export type { ChatSendAck } from "../../types/generated/ChatSendAck";

/** The `{error: {code, message}}` an ack carries on failure (the REST error body). */
export type { ErrorBody as ChatAckError } from "../../types/generated/ErrorBody";

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
