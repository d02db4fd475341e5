/**
 * The incidents view: what the UI knows of the monitor's incidents (one map, see
 * `incidentsReducer.ts`), which tab is shown and which incident is expanded, loads per tab,
 * acknowledging and resolving, and opening one incident by id (the notification deep link
 * `/incidents/{id}`).
 *
 * Fed by `GET /api/monitor/incidents?state=…` (a tab whenever the view shows it, and the tabs
 * loaded before after every `/events` reconnect), `GET /api/monitor/incidents/{id}` (deep link) and the `/events` `incident` push.
 */
import { create } from "zustand";
import { ApiError } from "../lib/api";
import { changeIncident, fetchIncident, fetchIncidents } from "../lib/monitorApi";
import type { Incident, IncidentState } from "../lib/types/monitor";
import { withAuth } from "./auth";
import { mergeIncidentList, upsertIncident, type IncidentMap } from "./incidentsReducer";
import { resetOnSessionChange } from "./sessionScoped";

/** Incidents asked for per tab. */
export const INCIDENT_LIMIT = 100;

export type IncidentTab = IncidentState | "silences";
export type IncidentAction = "ack" | "resolve";

interface TabLoad {
  loading: boolean;
  /** `Date.now()` of the last good load; null before. */
  loadedAt: number | null;
  error: string | null;
}

/** The deep-linked incident while it is being looked up, or why it could not be shown. */
export interface Focus {
  id: string;
  status: "loading" | "missing" | "error";
  message?: string;
}

interface IncidentsState {
  byId: IncidentMap;
  tab: IncidentTab;
  expandedId: string | null;
  loads: Record<IncidentState, TabLoad>;
  busy: Record<string, IncidentAction>;
  actionErrors: Record<string, string>;
  focus: Focus | null;
  /** Bumped on every `incident` push (panels that show derived data reload on it). */
  pushRev: number;

  /** An `incident` push (or any fresh copy). */
  upsert: (inc: Incident) => void;
  setTab: (tab: IncidentTab) => void;
  toggleExpanded: (id: string) => void;
  load: (state: IncidentState) => Promise<void>;
  /** Reloads every tab loaded before (after a reconnect). */
  reloadLoaded: () => void;
  act: (id: string, action: IncidentAction) => Promise<void>;
  /** Shows one incident: its tab, expanded; fetched when not known yet. */
  openIncident: (id: string) => Promise<void>;
  reset: () => void;
}

const idle = (): TabLoad => ({ loading: false, loadedAt: null, error: null });
const initial = () => ({
  byId: {} as IncidentMap,
  tab: "open" as IncidentTab,
  expandedId: null as string | null,
  loads: { open: idle(), acknowledged: idle(), resolved: idle() },
  busy: {} as Record<string, IncidentAction>,
  actionErrors: {} as Record<string, string>,
  focus: null as Focus | null,
  pushRev: 0,
});

const message = (err: unknown) => (err instanceof ApiError ? err.message : "request failed");

/** Per tab: sequence of the load in flight and the pushes seen since it started. */
const inFlight: Record<IncidentState, { seq: number; pushed: Incident[] }> = {
  open: { seq: 0, pushed: [] },
  acknowledged: { seq: 0, pushed: [] },
  resolved: { seq: 0, pushed: [] },
};
let generation = 0;

export const useIncidentsStore = create<IncidentsState>()((set, get) => {
  const setLoad = (state: IncidentState, patch: Partial<TabLoad>) =>
    set((s) => ({ loads: { ...s.loads, [state]: { ...s.loads[state], ...patch } } }));

  return {
    ...initial(),

    upsert(inc) {
      for (const state of ["open", "acknowledged", "resolved"] as const) {
        if (get().loads[state].loading) inFlight[state].pushed.push(inc);
      }
      set((s) => ({ byId: upsertIncident(s.byId, inc), pushRev: s.pushRev + 1 }));
    },

    setTab(tab) {
      set({ tab });
    },

    toggleExpanded(id) {
      set((s) => ({ expandedId: s.expandedId === id ? null : id }));
    },

    async load(state) {
      const f = inFlight[state];
      const mine = ++f.seq;
      const gen = generation;
      f.pushed = [];
      setLoad(state, { loading: true });
      try {
        const list = await withAuth((t) => fetchIncidents(t, state, INCIDENT_LIMIT));
        if (mine !== f.seq || gen !== generation) return;
        set((s) => ({ byId: mergeIncidentList(s.byId, state, list, INCIDENT_LIMIT, f.pushed) }));
        setLoad(state, { loading: false, loadedAt: Date.now(), error: null });
      } catch (err) {
        if (mine !== f.seq || gen !== generation) return;
        setLoad(state, { loading: false, error: `Could not load ${state} incidents: ${message(err)}` });
      } finally {
        if (mine === f.seq) f.pushed = [];
      }
    },

    reloadLoaded() {
      for (const state of ["open", "acknowledged", "resolved"] as const) {
        if (get().loads[state].loadedAt !== null || get().loads[state].error !== null) void get().load(state);
      }
    },

    async act(id, action) {
      if (get().busy[id]) return;
      set((s) => {
        const { [id]: _drop, ...actionErrors } = s.actionErrors;
        return { busy: { ...s.busy, [id]: action }, actionErrors };
      });
      try {
        const inc = await withAuth((t) => changeIncident(t, id, action));
        set((s) => ({ byId: upsertIncident(s.byId, inc) }));
      } catch (err) {
        const verb = action === "ack" ? "acknowledge" : "resolve";
        set((s) => ({ actionErrors: { ...s.actionErrors, [id]: `Could not ${verb}: ${message(err)}` } }));
        // 409 (resolved meanwhile) or 404: our copy is out of date; fetch the server's.
        if (err instanceof ApiError && (err.status === 409 || err.status === 404)) {
          try {
            const inc = await withAuth((t) => fetchIncident(t, id));
            set((s) => ({ byId: upsertIncident(s.byId, inc) }));
          } catch {
            // Nothing better to show than the error above.
          }
        }
      } finally {
        set((s) => {
          const { [id]: _drop, ...busy } = s.busy;
          return { busy };
        });
      }
    },

    async openIncident(id) {
      const gen = generation;
      const known = get().byId[id];
      if (known) {
        set({ tab: known.state, expandedId: id, focus: null });
      } else {
        set({ expandedId: id, focus: { id, status: "loading" } });
      }
      try {
        const inc = await withAuth((t) => fetchIncident(t, id));
        if (gen !== generation) return;
        set((s) => {
          const byId = upsertIncident(s.byId, inc);
          // Follow the incident to its tab unless the operator moved on meanwhile.
          return { byId, ...(s.expandedId === id ? { tab: (byId[id] ?? inc).state, focus: null } : {}) };
        });
      } catch (err) {
        if (gen !== generation || known) return;
        const missing = err instanceof ApiError && err.status === 404;
        set({ focus: { id, status: missing ? "missing" : "error", message: missing ? `No incident ${id}` : `Could not load incident ${id}: ${message(err)}` } });
      }
    },

    reset() {
      generation += 1;
      for (const f of Object.values(inFlight)) {
        f.seq += 1;
        f.pushed = [];
      }
      set(initial());
    },
  };
});

resetOnSessionChange(() => useIncidentsStore.getState().reset());
