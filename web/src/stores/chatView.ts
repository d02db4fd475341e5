/**
 * What the chat shows: the transcript's view types and the state the reducer (chatReducer.ts)
 * works on. Messages carry their tool calls, route notices and usage.
 */
import type { ToolTier } from "../lib/types/actions";
import type { ChatProvider, StopReason, ToolCallStatus } from "../features/chat/types";

export interface ToolView {
  id: string;
  name: string;
  input: unknown;
  tier: ToolTier;
  /** `running` until a result, block or confirmation request arrives. */
  status: ToolCallStatus | "running";
  result: unknown;
  confirmationId: string | null;
  summary?: string;
  expiresAt?: string;
  /** Why it was blocked. */
  reason?: string;
  /** The operator's decision in flight or made here (buttons disabled). */
  decision?: "approve" | "deny";
  decisionError?: string;
}

export interface RouteView {
  provider: ChatProvider;
  model: string;
  reason: string;
  reasonCode?: string;
  fallback: boolean;
}

export interface MessageView {
  id: string;
  role: "user" | "assistant" | "error";
  content: string;
  provider: ChatProvider | null;
  model: string | null;
  tools: ToolView[];
  routes: RouteView[];
  streaming: boolean;
  usage: { inputTokens: number; outputTokens: number } | null;
  costUsd: number | null;
  stopReason?: StopReason;
  /** For role "error". */
  code?: string;
  /** An optimistic user message not yet stored by the server. */
  local?: boolean;
  createdAt: string;
}

export interface ChatCore {
  sessionId: string | null;
  title: string | null;
  messages: MessageView[];
  running: boolean;
  /** A message was sent without a session: adopt the session of the first event that comes. */
  awaitingSession: boolean;
  /** The route of the turn in progress (for messages after a tool round). */
  route: RouteView | null;
  /** Incremented on each `chat:done` (cost and session lists refresh on it). */
  doneSeq: number;
  seq: number;
}

export const initialCore: ChatCore = {
  sessionId: null,
  title: null,
  messages: [],
  running: false,
  awaitingSession: false,
  route: null,
  doneSeq: 0,
  seq: 0,
};
