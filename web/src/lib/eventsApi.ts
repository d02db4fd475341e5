/**
 * `/api/events` (the activity feed): the filtered list and acknowledging or resolving one event.
 * The filter is the same object the store applies to live pushes (`eventMatches`), so what the
 * server returned and what arrives later follow one rule.
 */
import { ApiError, request } from "./api";
import { parseEvent } from "./actionsApi";
import type { EventSeverity, EventType, JarvisEvent } from "./types/actions";

/** What the feed shows; null = any. */
export interface EventFilter {
  severity: EventSeverity | null;
  node: string | null;
  type: EventType | null;
  unresolvedOnly: boolean;
}

export const NO_FILTER: EventFilter = { severity: null, node: null, type: null, unresolvedOnly: false };

/** How many events the feed asks for (the server allows 1..1000). */
export const FEED_LIMIT = 100;

/** The query string of `GET /api/events` for a filter (only the parameters that are set). */
export function eventsQuery(filter: EventFilter, limit = FEED_LIMIT): string {
  const q = new URLSearchParams({ limit: String(limit) });
  if (filter.type) q.set("type", filter.type);
  if (filter.severity) q.set("severity", filter.severity);
  if (filter.node) q.set("node", filter.node);
  if (filter.unresolvedOnly) q.set("unresolved", "true");
  return q.toString();
}

/** Whether an event belongs in a feed with this filter (the server's rule, for live pushes). */
export function eventMatches(filter: EventFilter, ev: JarvisEvent): boolean {
  if (filter.severity && ev.severity !== filter.severity) return false;
  if (filter.type && ev.type !== filter.type) return false;
  if (filter.node && ev.node !== filter.node) return false;
  if (filter.unresolvedOnly && ev.resolved) return false;
  return true;
}

const bad = (what: string) => new ApiError(500, "bad_response", `The server sent an unexpected ${what}`);

/** `GET /api/events?…` — newest first. */
export async function fetchEvents(token: string, filter: EventFilter, signal?: AbortSignal): Promise<JarvisEvent[]> {
  const body = await request<unknown>(`/api/events?${eventsQuery(filter)}`, { token, signal });
  if (body == null || typeof body !== "object" || !Array.isArray((body as { events?: unknown }).events)) throw bad("event list");
  return ((body as { events: unknown[] }).events).map(parseEvent).filter((e): e is JarvisEvent => e !== null);
}

/** `POST /api/events/{id}/ack|resolve` → the event after the change (404 when unknown). */
export async function changeEvent(token: string, id: string, verb: "ack" | "resolve"): Promise<JarvisEvent> {
  const ev = parseEvent(await request<unknown>(`/api/events/${encodeURIComponent(id)}/${verb}`, { method: "POST", token }));
  if (!ev) throw bad("event");
  return ev;
}
