/**
 * REST calls of the monitor (`/api/monitor/*` except the kill switch, which is in
 * lib/actionsApi): incidents, silences, runbooks and their attempts, thresholds and the autonomy
 * level. Bodies are checked before use, so a malformed answer is an ApiError("bad_response")
 * rather than a crash in a component; the same parsers check the `/events` `incident` push.
 *
 * Parsing is strict where the UI routes on a value (ids, an incident's state) and tolerant
 * where it only displays one (a kind or timeline word the server adds later is shown as sent).
 */
import { ApiError, request } from "./api";
import type {
  ActionResult,
  AutonomyLevel,
  AutonomyLevelResponse,
  Incident,
  IncidentKind,
  IncidentState,
  Matcher,
  MonitorAction,
  NewSilence,
  RunbookView,
  Silence,
  ThresholdSettings,
  TimelineEntry,
  TimelineKind,
} from "./types/monitor";
import type { EventSeverity } from "./types/actions";

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v != null && typeof v === "object" && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) ? v : undefined);
const bad = (what: string) => new ApiError(500, "bad_response", `The server sent an unexpected ${what}`);

export const INCIDENT_STATES: readonly IncidentState[] = ["open", "acknowledged", "resolved"];
export const INCIDENT_KINDS: readonly IncidentKind[] = ["crash", "nodeoffline", "quorum", "threshold", "storage", "backup", "pve"];
export const SEVERITIES: readonly EventSeverity[] = ["info", "warning", "error", "critical"];
export const AUTONOMY_LEVELS: readonly AutonomyLevel[] = [0, 1, 2, 3, 4];

const isState = (v: unknown): v is IncidentState => typeof v === "string" && (INCIDENT_STATES as readonly string[]).includes(v);
const severity = (v: unknown): EventSeverity =>
  typeof v === "string" && (SEVERITIES as readonly string[]).includes(v) ? (v as EventSeverity) : "warning";
export const isAutonomyLevel = (v: unknown): v is AutonomyLevel => typeof v === "number" && (AUTONOMY_LEVELS as readonly number[]).includes(v);

function parseTimelineEntry(raw: unknown): TimelineEntry | null {
  if (!isObject(raw)) return null;
  const at = str(raw.at);
  if (!at) return null;
  const entry: TimelineEntry = { at, kind: (str(raw.kind) ?? "note") as TimelineKind, detail: str(raw.detail) ?? "" };
  const auditId = int(raw.auditId);
  if (auditId !== undefined) entry.auditId = auditId;
  return entry;
}

/** An incident from a REST body or the `incident` push; null when it cannot be placed. */
export function parseIncident(raw: unknown): Incident | null {
  if (!isObject(raw)) return null;
  const id = str(raw.id);
  const title = str(raw.title);
  const openedAt = str(raw.openedAt);
  if (!id || title === undefined || !openedAt || !isState(raw.state)) return null;
  const inc: Incident = {
    id,
    key: str(raw.key) ?? id,
    kind: (str(raw.kind) ?? "pve") as IncidentKind,
    severity: severity(raw.severity),
    state: raw.state,
    title,
    openedAt,
    occurrences: int(raw.occurrences) ?? 1,
    flapping: raw.flapping === true,
    escalated: raw.escalated === true,
    timeline: Array.isArray(raw.timeline) ? raw.timeline.map(parseTimelineEntry).filter((e): e is TimelineEntry => e !== null) : [],
  };
  const node = str(raw.node);
  if (node) inc.node = node;
  const vmid = int(raw.vmid);
  if (vmid !== undefined) inc.vmid = vmid;
  for (const k of ["acknowledgedAt", "resolvedAt", "suppressedBy"] as const) {
    const v = str(raw[k]);
    if (v) inc[k] = v;
  }
  return inc;
}

function parseMatcher(raw: unknown): Matcher {
  const m: Matcher = {};
  if (!isObject(raw)) return m;
  const node = str(raw.node);
  if (node) m.node = node;
  const vmid = int(raw.vmid);
  if (vmid !== undefined) m.vmid = vmid;
  const kind = str(raw.kind);
  if (kind) m.kind = kind as IncidentKind;
  return m;
}

export function parseSilence(raw: unknown): Silence | null {
  if (!isObject(raw)) return null;
  const id = str(raw.id);
  const expiresAt = str(raw.expiresAt);
  if (!id || !expiresAt) return null;
  return {
    id,
    matcher: parseMatcher(raw.matcher),
    reason: str(raw.reason) ?? "",
    createdBy: str(raw.createdBy) ?? "",
    createdAt: str(raw.createdAt) ?? "",
    expiresAt,
  };
}

const ACTION_RESULTS: readonly ActionResult[] = ["pending", "recommended", "success", "failure", "blocked", "escalated"];

function parseAction(raw: unknown): MonitorAction | null {
  if (!isObject(raw)) return null;
  const id = str(raw.id);
  const timestamp = str(raw.timestamp);
  if (!id || !timestamp) return null;
  const result = str(raw.result) ?? "pending";
  const action: MonitorAction = {
    id,
    timestamp,
    incidentId: str(raw.incidentId) ?? "",
    incidentKey: str(raw.incidentKey) ?? "",
    runbookId: str(raw.runbookId) ?? "",
    action: str(raw.action) ?? "",
    args: isObject(raw.args) ? raw.args : {},
    result: ((ACTION_RESULTS as readonly string[]).includes(result) ? result : "pending") as ActionResult,
    autonomyLevel: int(raw.autonomyLevel) ?? 0,
    attempt: int(raw.attempt) ?? 1,
  };
  for (const k of ["verification", "detail", "node", "verifyAt", "confirmationId", "finishedAt"] as const) {
    const v = str(raw[k]);
    if (v) action[k] = v;
  }
  const auditId = int(raw.auditId);
  if (auditId !== undefined) action.auditId = auditId;
  return action;
}

function parseRunbook(raw: unknown): RunbookView | null {
  if (!isObject(raw)) return null;
  const id = str(raw.id);
  if (!id) return null;
  const view: RunbookView = {
    id,
    trigger: (str(raw.trigger) ?? "") as IncidentKind,
    tool: str(raw.tool) ?? "",
    verify: (str(raw.verify) ?? "") as RunbookView["verify"],
    verifyAfterSeconds: int(raw.verifyAfterSeconds) ?? 0,
    maxAttempts: int(raw.maxAttempts) ?? 0,
    windowSeconds: int(raw.windowSeconds) ?? 0,
    cooldownSeconds: int(raw.cooldownSeconds) ?? 0,
    description: str(raw.description) ?? "",
    enabled: raw.enabled === true,
  };
  const guestType = str(raw.guestType);
  if (guestType === "qemu" || guestType === "lxc") view.guestType = guestType;
  return view;
}

function list<T>(body: unknown, key: string, parse: (raw: unknown) => T | null): T[] {
  if (!isObject(body) || !Array.isArray(body[key])) throw bad(`${key} list`);
  return (body[key] as unknown[]).map(parse).filter((x): x is T => x !== null);
}

/** `GET /api/monitor/incidents?state&limit` — newest first. */
export async function fetchIncidents(token: string, state: IncidentState, limit = 100, signal?: AbortSignal): Promise<Incident[]> {
  const body = await request<unknown>(`/api/monitor/incidents?state=${state}&limit=${limit}`, { token, signal });
  return list(body, "incidents", parseIncident);
}

/** `GET /api/monitor/incidents/{id}` (404 as ApiError). */
export async function fetchIncident(token: string, id: string, signal?: AbortSignal): Promise<Incident> {
  const inc = parseIncident(await request<unknown>(`/api/monitor/incidents/${encodeURIComponent(id)}`, { token, signal }));
  if (!inc) throw bad("incident");
  return inc;
}

/** `POST /api/monitor/incidents/{id}/ack|resolve` → the incident after the change (404, 409 `already_resolved`). */
export async function changeIncident(token: string, id: string, verb: "ack" | "resolve"): Promise<Incident> {
  const inc = parseIncident(await request<unknown>(`/api/monitor/incidents/${encodeURIComponent(id)}/${verb}`, { method: "POST", token }));
  if (!inc) throw bad("incident");
  return inc;
}

/** `GET /api/monitor/silences` — those in force, soonest to expire first. */
export async function fetchSilences(token: string, signal?: AbortSignal): Promise<Silence[]> {
  return list(await request<unknown>("/api/monitor/silences", { token, signal }), "silences", parseSilence);
}

/** `POST /api/monitor/silences` → 201 the silence (400 `invalid_silence` with the server's reason). */
export async function createSilence(token: string, body: NewSilence): Promise<Silence> {
  const silence = parseSilence(await request<unknown>("/api/monitor/silences", { method: "POST", token, body }));
  if (!silence) throw bad("silence");
  return silence;
}

/** `DELETE /api/monitor/silences/{id}` → 204 (404 when it is gone already). */
export async function deleteSilence(token: string, id: string): Promise<void> {
  await request<unknown>(`/api/monitor/silences/${encodeURIComponent(id)}`, { method: "DELETE", token });
}

/** `GET /api/monitor/actions?limit` — runbook attempts, newest first. */
export async function fetchActions(token: string, limit = 20, signal?: AbortSignal): Promise<MonitorAction[]> {
  return list(await request<unknown>(`/api/monitor/actions?limit=${limit}`, { token, signal }), "actions", parseAction);
}

/** `GET /api/monitor/runbooks`. */
export async function fetchRunbooks(token: string, signal?: AbortSignal): Promise<RunbookView[]> {
  return list(await request<unknown>("/api/monitor/runbooks", { token, signal }), "runbooks", parseRunbook);
}

/** `PUT /api/monitor/runbooks/{id} {enabled}` → every runbook after the change. */
export async function setRunbookEnabled(token: string, id: string, enabled: boolean): Promise<RunbookView[]> {
  const body = await request<unknown>(`/api/monitor/runbooks/${encodeURIComponent(id)}`, { method: "PUT", token, body: { enabled } });
  return list(body, "runbooks", parseRunbook);
}

/** `GET /api/monitor/thresholds` (shown read-only). */
export async function fetchThresholds(token: string, signal?: AbortSignal): Promise<ThresholdSettings> {
  const body = await request<unknown>("/api/monitor/thresholds", { token, signal });
  if (!isObject(body) || !isObject(body.defaults)) throw bad("threshold settings");
  return {
    defaults: body.defaults as ThresholdSettings["defaults"],
    nodes: isObject(body.nodes) ? (body.nodes as ThresholdSettings["nodes"]) : {},
    guests: isObject(body.guests) ? (body.guests as ThresholdSettings["guests"]) : {},
  };
}

/** `PUT /api/monitor/autonomy-level {level}` → the level now in force and what it does. */
export async function putAutonomyLevel(token: string, level: AutonomyLevel): Promise<AutonomyLevelResponse> {
  const body = await request<unknown>("/api/monitor/autonomy-level", { method: "PUT", token, body: { level } });
  if (!isObject(body) || !isAutonomyLevel(body.autonomyLevel)) throw bad("autonomy level response");
  return { autonomyLevel: body.autonomyLevel, description: str(body.description) ?? "" };
}
