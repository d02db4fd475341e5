/**
 * The activity feed: events matching the operator's filter, newest first, at most
 * {@link MAX_EVENTS}. Loaded with `GET /api/events` (on first view, on every filter change and
 * after every `/events` reconnect, so nothing missed while offline is lost) and kept current by
 * `event` pushes, which pass through the same filter. A repeated id replaces the older copy (an
 * event acknowledged or resolved is re-sent with the same id); one that no longer matches (it
 * was resolved while "unresolved only" is on) leaves the list.
 *
 * Pushes that arrive while a load is in flight are merged into its answer instead of being
 * overwritten by it.
 */
import { create } from "zustand";
import { ApiError } from "../lib/api";
import { changeEvent, eventMatches, fetchEvents, NO_FILTER, type EventFilter } from "../lib/eventsApi";
import type { JarvisEvent } from "../lib/types/actions";
import { withAuth } from "./auth";
import { resetOnSessionChange } from "./sessionScoped";

export const MAX_EVENTS = 100;

const time = (e: JarvisEvent) => {
  const t = Date.parse(e.timestamp);
  return Number.isNaN(t) ? 0 : t;
};

/** Newest first; ties keep their order (Array.prototype.sort is stable). */
const byNewest = (list: JarvisEvent[]) => [...list].sort((a, b) => time(b) - time(a));

/** The list after a push: replaced or inserted when it matches the filter, removed when not. */
export function applyEventPush(list: readonly JarvisEvent[], ev: JarvisEvent, filter: EventFilter, max = MAX_EVENTS): JarvisEvent[] {
  const rest = list.filter((e) => e.id !== ev.id);
  if (!eventMatches(filter, ev)) return rest.length === list.length ? (list as JarvisEvent[]) : rest;
  return byNewest([ev, ...rest]).slice(0, max);
}

/** A load's answer with the pushes that arrived meanwhile applied on top (they are newer). */
export function mergeLoaded(loaded: readonly JarvisEvent[], pushed: readonly JarvisEvent[], filter: EventFilter, max = MAX_EVENTS): JarvisEvent[] {
  let list = byNewest(loaded.filter((e) => eventMatches(filter, e))).slice(0, max);
  for (const ev of pushed) list = applyEventPush(list, ev, filter, max);
  return list;
}

export type EventAction = "ack" | "resolve";

interface EventsState {
  events: JarvisEvent[];
  filter: EventFilter;
  /** Whether the list came from the server at least once (the feed was opened). */
  loaded: boolean;
  loading: boolean;
  /** Why the last load failed (the list then holds the last good data). */
  error: string | null;
  /** `Date.now()` of the last good load. */
  loadedAt: number | null;
  /** Whether the `/events` socket is connected (null before the first attempt settles). */
  live: boolean | null;
  /** Per event id: an ack/resolve in flight. */
  busy: Record<string, EventAction>;
  /** Per event id: why the last ack/resolve failed. */
  actionErrors: Record<string, string>;

  /** A live `event` push. */
  addEvent: (event: JarvisEvent) => void;
  setFilter: (patch: Partial<EventFilter>) => void;
  /** Loads the list for the current filter. */
  load: () => Promise<void>;
  /** Reloads only when the feed has been loaded before (after a reconnect). */
  reloadIfLoaded: () => void;
  setLive: (live: boolean) => void;
  act: (id: string, action: EventAction) => Promise<void>;
  reset: () => void;
}

const initial = {
  events: [] as JarvisEvent[],
  filter: NO_FILTER,
  loaded: false,
  loading: false,
  error: null as string | null,
  loadedAt: null as number | null,
  live: null as boolean | null,
  busy: {} as Record<string, EventAction>,
  actionErrors: {} as Record<string, string>,
};

let loadSeq = 0;
/** Pushes seen since the load with this sequence number started. */
let pushedDuringLoad: JarvisEvent[] = [];

const message = (err: unknown, fallback: string) => (err instanceof ApiError ? err.message : fallback);

export const useEventsStore = create<EventsState>()((set, get) => ({
  ...initial,

  addEvent(event) {
    if (get().loading) pushedDuringLoad.push(event);
    set((s) => ({ events: applyEventPush(s.events, event, s.filter) }));
  },

  setFilter(patch) {
    // What is on screen and matches stays while the server's answer for the new filter comes.
    set((s) => {
      const filter = { ...s.filter, ...patch };
      return { filter, events: s.events.filter((e) => eventMatches(filter, e)) };
    });
    void get().load();
  },

  async load() {
    const mine = ++loadSeq;
    pushedDuringLoad = [];
    const filter = get().filter;
    set({ loading: true });
    try {
      const loaded = await withAuth((t) => fetchEvents(t, filter));
      if (mine !== loadSeq) return; // a newer filter owns the list
      set({
        events: mergeLoaded(loaded, pushedDuringLoad, filter),
        loaded: true,
        loading: false,
        error: null,
        loadedAt: Date.now(),
      });
    } catch (err) {
      if (mine !== loadSeq) return;
      set({ loading: false, error: `Could not load the activity feed: ${message(err, "request failed")}` });
    } finally {
      if (mine === loadSeq) pushedDuringLoad = [];
    }
  },

  reloadIfLoaded() {
    if (get().loaded) void get().load();
  },

  setLive(live) {
    set({ live });
  },

  async act(id, action) {
    if (get().busy[id]) return;
    set((s) => {
      const { [id]: _drop, ...actionErrors } = s.actionErrors;
      return { busy: { ...s.busy, [id]: action }, actionErrors };
    });
    try {
      const ev = await withAuth((t) => changeEvent(t, id, action));
      get().addEvent(ev);
    } catch (err) {
      const verb = action === "ack" ? "acknowledge" : "resolve";
      set((s) => ({ actionErrors: { ...s.actionErrors, [id]: `Could not ${verb}: ${message(err, "request failed")}` } }));
    } finally {
      set((s) => {
        const { [id]: _drop, ...busy } = s.busy;
        return { busy };
      });
    }
  },

  reset() {
    loadSeq += 1;
    pushedDuringLoad = [];
    set({ ...initial });
  },
}));

resetOnSessionChange(() => useEventsStore.getState().reset());
