/**
 * Pure bookkeeping of the incidents the UI knows, keyed by id: one copy per incident, whether it
 * came from a REST list, a single fetch, an ack/resolve answer or an `incident` push. The tabs
 * (open / acknowledged / resolved) are views of this one map, so an incident that changes state
 * moves tabs by itself.
 *
 * Copies can arrive out of order (a list requested before a push, answered after it). An
 * incident's timeline only ever grows, so the copy whose timeline reaches further is the newer
 * one; on a tie the incoming copy wins.
 */
import type { Incident, IncidentState } from "../lib/types/monitor";

export type IncidentMap = Readonly<Record<string, Incident>>;

/** How many incidents are kept; the oldest resolved ones go first. */
export const MAX_INCIDENTS = 500;

const ms = (iso: string | undefined) => {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
};
const lastAt = (inc: Incident) => ms(inc.timeline.at(-1)?.at);

/** Whether `incoming` is at least as recent as `current` (see module comment). */
export function isNewer(incoming: Incident, current: Incident): boolean {
  const a = lastAt(incoming);
  const b = lastAt(current);
  if (a !== b) return a > b;
  return incoming.timeline.length >= current.timeline.length;
}

/** The newest-first order of a tab: resolved ones by when they resolved, others by when they opened. */
function sortKey(inc: Incident): number {
  return inc.state === "resolved" ? ms(inc.resolvedAt) || ms(inc.openedAt) : ms(inc.openedAt);
}

function prune(map: Record<string, Incident>, max: number): Record<string, Incident> {
  const ids = Object.keys(map);
  if (ids.length <= max) return map;
  // Resolved first, then oldest first: what an operator needs least.
  const drop = new Set(
    Object.values(map)
      .sort((a, b) => Number(b.state === "resolved") - Number(a.state === "resolved") || sortKey(a) - sortKey(b))
      .slice(0, ids.length - max)
      .map((i) => i.id),
  );
  return Object.fromEntries(Object.entries(map).filter(([id]) => !drop.has(id)));
}

/** The map with `inc` in it, unless the map already holds a newer copy. */
export function upsertIncident(map: IncidentMap, inc: Incident, max = MAX_INCIDENTS): IncidentMap {
  const current = map[inc.id];
  if (current && !isNewer(inc, current)) return map;
  return prune({ ...map, [inc.id]: inc }, max);
}

/**
 * The map after a REST list of one state (`limit` asked for): every listed incident upserted,
 * and incidents the map still holds in that state but the server no longer lists (they changed
 * state while we were not listening) dropped — all of them when the list is complete (shorter
 * than `limit`), else those within the span the list covers. `pushed` are the pushes received
 * while the list was in flight; they are applied last.
 */
export function mergeIncidentList(
  map: IncidentMap,
  state: IncidentState,
  list: readonly Incident[],
  limit: number,
  pushed: readonly Incident[] = [],
): IncidentMap {
  const listed = new Set(list.map((i) => i.id));
  const complete = list.length < limit;
  const oldest = Math.min(...list.map(sortKey));
  const next: Record<string, Incident> = {};
  for (const inc of Object.values(map)) {
    const gone = inc.state === state && !listed.has(inc.id) && (complete || sortKey(inc) >= oldest);
    if (!gone) next[inc.id] = inc;
  }
  for (const inc of list) {
    const current = next[inc.id];
    // The list is the server's word on this state; only a copy that is provably newer wins.
    if (!current || isNewer(inc, current)) next[inc.id] = inc;
  }
  let merged: IncidentMap = prune(next, MAX_INCIDENTS);
  for (const inc of pushed) merged = upsertIncident(merged, inc);
  return merged;
}

/** The incidents of one tab, newest first. */
export function selectByState(map: IncidentMap, state: IncidentState): Incident[] {
  return Object.values(map)
    .filter((i) => i.state === state)
    .sort((a, b) => sortKey(b) - sortKey(a));
}
