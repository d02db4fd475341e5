/** REST calls of the chat panel: provider status and slash commands, the session list. */
import { ApiError, request } from "../../lib/api";
import { isObject } from "./parse";
import type { ChatSessionSummary, ChatStatus, SlashCommand } from "./types";

const bad = (what: string) => new ApiError(500, "bad_response", `The server sent an unexpected ${what}`);

function provider(raw: unknown): { configured: boolean; model: string | null } {
  if (!isObject(raw)) return { configured: false, model: null };
  return { configured: raw.configured === true, model: typeof raw.model === "string" && raw.model !== "" ? raw.model : null };
}

function slash(raw: unknown): SlashCommand | null {
  if (!isObject(raw) || typeof raw.command !== "string") return null;
  return {
    command: raw.command,
    usage: typeof raw.usage === "string" ? raw.usage : raw.command,
    description: typeof raw.description === "string" ? raw.description : "",
  };
}

/** `GET /api/chat/status`. */
export async function fetchChatStatus(token: string, signal?: AbortSignal): Promise<ChatStatus> {
  const body = await request<unknown>("/api/chat/status", { token, signal });
  if (!isObject(body)) throw bad("chat status");
  const scripted = body.scripted === true;
  return {
    claude: provider(body.claude),
    local: provider(body.local),
    scripted,
    label: typeof body.label === "string" && body.label !== "" ? body.label : scripted ? "scripted demo" : "JARVIS",
    slashCommands: Array.isArray(body.slashCommands) ? body.slashCommands.map(slash).filter((c): c is SlashCommand => c !== null) : [],
  };
}

function session(raw: unknown): ChatSessionSummary | null {
  if (!isObject(raw) || (typeof raw.id !== "string" && typeof raw.id !== "number")) return null;
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  return {
    id: String(raw.id),
    title: typeof raw.title === "string" && raw.title !== "" ? raw.title : "Untitled",
    createdAt: typeof raw.createdAt === "string" ? raw.createdAt : "",
    updatedAt: typeof raw.updatedAt === "string" ? raw.updatedAt : "",
    messageCount: n(raw.messageCount),
    costUsd: n(raw.costUsd),
  };
}

/** `GET /api/chat/sessions?limit` → newest first. */
export async function fetchChatSessions(token: string, limit = 30, signal?: AbortSignal): Promise<ChatSessionSummary[]> {
  const body = await request<unknown>(`/api/chat/sessions?limit=${limit}`, { token, signal });
  if (!isObject(body) || !Array.isArray(body.sessions)) throw bad("session list");
  return body.sessions.map(session).filter((s): s is ChatSessionSummary => s !== null);
}
