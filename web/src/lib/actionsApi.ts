/**
 * REST calls for tools, confirmations and the kill switch. Errors arrive as ApiError (lib/api)
 * with the server's code and message (`blocked`, `kill_switch`, `expired`, …), so callers show
 * the server's own words. Responses are checked before use: a malformed body becomes
 * ApiError("bad_response") rather than a crash somewhere in a component.
 */
import { ApiError, request } from "./api";
import type {
  Confirmation,
  ConfirmationEvent,
  ConfirmationStatus,
  Decision,
  DecisionResponse,
  EventSeverity,
  EventSource,
  EventType,
  ExecuteResponse,
  JarvisEvent,
  KillSwitchResponse,
  MonitorStatus,
  ToolArgs,
  ToolTier,
} from "./types/actions";

const TIERS: readonly ToolTier[] = ["green", "yellow", "red", "black"];
const CONFIRMATION_STATUSES: readonly ConfirmationStatus[] = ["pending", "approved", "denied", "expired", "executed", "failed"];

const isObject = (v: unknown): v is Record<string, unknown> => v != null && typeof v === "object" && !Array.isArray(v);
const isTier = (v: unknown): v is ToolTier => typeof v === "string" && (TIERS as readonly string[]).includes(v);

function badResponse(what: string): ApiError {
  return new ApiError(500, "bad_response", `The server sent an unexpected ${what}`);
}

/**
 * A confirmation record from the server. `tier` and `createdAt` fall back to what the caller
 * knows (the execute response's tier; "now") so a server that omits them still works.
 */
export function parseConfirmation(raw: unknown, fallbackTier: ToolTier = "red"): Confirmation | null {
  if (!isObject(raw)) return null;
  const { id, tool, args, summary, tier, expiresAt, createdAt } = raw;
  if ((typeof id !== "string" && typeof id !== "number") || typeof tool !== "string" || typeof expiresAt !== "string") return null;
  return {
    id: String(id),
    tool,
    args: isObject(args) ? (args as ToolArgs) : {},
    summary: typeof summary === "string" && summary !== "" ? summary : tool,
    tier: isTier(tier) ? tier : fallbackTier,
    expiresAt,
    createdAt: typeof createdAt === "string" ? createdAt : new Date().toISOString(),
  };
}

export function parseConfirmationEvent(raw: unknown): ConfirmationEvent | null {
  if (!isObject(raw)) return null;
  const { id, status, tool, summary, tier, expiresAt, args, createdAt } = raw;
  if (typeof id !== "string" && typeof id !== "number") return null;
  if (typeof status !== "string" || !(CONFIRMATION_STATUSES as readonly string[]).includes(status)) return null;
  const ev: ConfirmationEvent = {
    id: String(id),
    status: status as ConfirmationStatus,
    tool: typeof tool === "string" ? tool : "",
    summary: typeof summary === "string" ? summary : "",
    tier: isTier(tier) ? tier : "red",
    expiresAt: typeof expiresAt === "string" ? expiresAt : "",
  };
  if (isObject(args)) ev.args = args as ToolArgs;
  if (typeof createdAt === "string") ev.createdAt = createdAt;
  return ev;
}

type Tier = "critical" | "important" | "routine" | "background";

/** Per tier: a string (time) or a number (seconds) as sent, else null. */
function perTier<T>(raw: unknown, keep: (v: unknown) => v is T): Record<Tier, T | null> {
  const o = isObject(raw) ? raw : {};
  const pick = (k: string) => (keep(o[k]) ? (o[k] as T) : null);
  return { critical: pick("critical"), important: pick("important"), routine: pick("routine"), background: pick("background") };
}
const isString = (v: unknown): v is string => typeof v === "string";
const isSeconds = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v > 0;
const count = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);

/** The monitor status; only `killSwitch` is required (it is what the UI acts on), the rest is
 *  defaulted (no last runs, no intervals, nothing open). */
export function parseMonitorStatus(raw: unknown): MonitorStatus | null {
  if (!isObject(raw) || typeof raw.killSwitch !== "boolean") return null;
  return {
    running: raw.running === true,
    autonomyLevel: typeof raw.autonomyLevel === "number" ? raw.autonomyLevel : 0,
    killSwitch: raw.killSwitch,
    activeRemediations: count(raw.activeRemediations),
    lastPoll: perTier(raw.lastPoll, isString),
    openIncidents: count(raw.openIncidents),
    intervals: perTier(raw.intervals, isSeconds),
  };
}

const EVENT_TYPES: readonly EventType[] = ["alert", "action", "status", "metric"];
const SEVERITIES: readonly EventSeverity[] = ["info", "warning", "error", "critical"];
const SOURCES: readonly EventSource[] = ["monitor", "user", "jarvis", "system"];
const oneOf = <T extends string>(v: unknown, allowed: readonly T[], fallback: T): T =>
  typeof v === "string" && (allowed as readonly string[]).includes(v) ? (v as T) : fallback;

/** An activity event (REST or the `event` push); id and title are required, the rest defaulted. */
export function parseEvent(raw: unknown): JarvisEvent | null {
  if (!isObject(raw)) return null;
  if ((typeof raw.id !== "string" && typeof raw.id !== "number") || typeof raw.title !== "string") return null;
  const ev: JarvisEvent = {
    id: String(raw.id),
    type: oneOf(raw.type, EVENT_TYPES, "status"),
    severity: oneOf(raw.severity, SEVERITIES, "info"),
    title: raw.title,
    message: typeof raw.message === "string" ? raw.message : "",
    source: oneOf(raw.source, SOURCES, "system"),
    timestamp: typeof raw.timestamp === "string" ? raw.timestamp : "",
    resolved: raw.resolved === true,
  };
  if (typeof raw.node === "string" && raw.node !== "") ev.node = raw.node;
  if (typeof raw.acknowledgedAt === "string") ev.acknowledgedAt = raw.acknowledgedAt;
  return ev;
}

/**
 * `POST /api/tools/execute`. Resolves with the executed result (200) or the server's
 * confirmation record (202); rejects with ApiError for 400/403/404/423/502/504.
 */
export async function executeTool(token: string, tool: string, args: ToolArgs): Promise<ExecuteResponse> {
  const body = await request<unknown>("/api/tools/execute", { method: "POST", token, body: { tool, args } });
  if (!isObject(body)) throw badResponse("execute response");
  const tier = isTier(body.tier) ? body.tier : "yellow";
  if (body.status === "executed") {
    return { status: "executed", tier, result: body.result, auditId: (body.auditId as string | number | undefined) ?? "" };
  }
  if (body.status === "confirmation_required") {
    const confirmation = parseConfirmation(body.confirmation, tier);
    if (!confirmation) throw badResponse("confirmation");
    return { status: "confirmation_required", tier: confirmation.tier, confirmation };
  }
  throw badResponse("execute response");
}

/** `GET /api/confirmations` → the pending ones. */
export async function fetchConfirmations(token: string, signal?: AbortSignal): Promise<Confirmation[]> {
  const body = await request<unknown>("/api/confirmations", { token, signal });
  if (!isObject(body) || !Array.isArray(body.confirmations)) throw badResponse("confirmation list");
  return body.confirmations.map((c) => parseConfirmation(c)).filter((c): c is Confirmation => c !== null);
}

/** `POST /api/confirmations/{id}` → executed / denied; 404, 410 expired|already_decided, 423, 403 as ApiError. */
export async function decideConfirmation(token: string, id: string, decision: Decision): Promise<DecisionResponse> {
  const body = await request<unknown>(`/api/confirmations/${encodeURIComponent(id)}`, {
    method: "POST",
    token,
    body: { decision },
  });
  if (!isObject(body) || (body.status !== "executed" && body.status !== "denied")) throw badResponse("decision response");
  return { status: body.status, result: body.result };
}

export async function fetchMonitorStatus(token: string, signal?: AbortSignal): Promise<MonitorStatus> {
  const body = await request<unknown>("/api/monitor/status", { token, signal });
  const status = parseMonitorStatus(body);
  if (!status) throw badResponse("monitor status");
  return status;
}

/** `PUT /api/monitor/killswitch` → the kill switch state now in force. */
export async function putKillSwitch(token: string, active: boolean): Promise<KillSwitchResponse> {
  const body = await request<unknown>("/api/monitor/killswitch", { method: "PUT", token, body: { active } });
  if (!isObject(body) || typeof body.killSwitch !== "boolean") throw badResponse("kill switch response");
  return { killSwitch: body.killSwitch };
}
