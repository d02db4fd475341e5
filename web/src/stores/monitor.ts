/**
 * The monitor's state as the top bar shows it: the kill switch, the autonomy level, whether the
 * monitor runs and when each tier last ran.
 *
 * Fed by `GET /api/monitor/status` (on load, after every `/events` reconnect and polled, because
 * the server pushes `monitor:status` only when something other than `lastPoll` changes) and the
 * `monitor:status` push. A polled answer that was overtaken by a push while in flight, or that
 * lands while a kill switch toggle or level change of ours is waiting for its answer, only
 * contributes its run times: the push or our change is newer for everything else.
 *
 * Kill switch toggling is optimistic (the banner and the disabled buttons appear at once — it is
 * the emergency brake) and reverts when the server refuses or cannot be reached. If the server
 * pushed a new state while our request was in flight, that push is the truth and is kept instead
 * of reverting. The autonomy level is *not* optimistic: the selector shows the level the server
 * answered with, and its description of it.
 */
import { create } from "zustand";
import { resetOnSessionChange } from "./sessionScoped";
import { putKillSwitch } from "../lib/actionsApi";
import { ApiError } from "../lib/api";
import { putAutonomyLevel } from "../lib/monitorApi";
import type { MonitorStatus } from "../lib/types/actions";
import type { AutonomyLevel } from "../lib/types/monitor";
import { withAuth } from "./auth";

interface MonitorState {
  status: MonitorStatus | null;
  /** null until the server has told us. */
  killSwitch: boolean | null;
  /** A PUT is in flight. */
  toggling: boolean;
  /** Why the last toggle failed (shown next to the toggle). */
  error: string | null;
  /** Bumped on every state the server reports. */
  serverRev: number;
  /** `Date.now()` when the server last told us its status. */
  statusAt: number | null;
  /** The level a PUT is asking for. */
  levelPending: AutonomyLevel | null;
  /** Why the last level change failed. */
  levelError: string | null;
  /** The server's answer to the last level change. */
  levelAnswer: { level: AutonomyLevel; description: string } | null;

  applyStatus: (status: MonitorStatus) => void;
  /** A polled status; `revAtStart` is `serverRev` when the request went out. */
  applyPolledStatus: (status: MonitorStatus, revAtStart: number) => void;
  setKillSwitch: (active: boolean) => Promise<void>;
  setAutonomyLevel: (level: AutonomyLevel) => Promise<void>;
  clearLevelMessages: () => void;
  clearError: () => void;
  reset: () => void;
}

const initial = {
  status: null as MonitorStatus | null,
  killSwitch: null as boolean | null,
  toggling: false,
  error: null as string | null,
  serverRev: 0,
  statusAt: null as number | null,
  levelPending: null as AutonomyLevel | null,
  levelError: null as string | null,
  levelAnswer: null as { level: AutonomyLevel; description: string } | null,
};

let requestSeq = 0;
let levelSeq = 0;

export const useMonitorStore = create<MonitorState>()((set, get) => ({
  ...initial,

  applyStatus(status) {
    set((s) => ({ status, killSwitch: status.killSwitch, serverRev: s.serverRev + 1, statusAt: Date.now() }));
  },

  applyPolledStatus(status, revAtStart) {
    const { serverRev, status: current, toggling, levelPending } = get();
    // A toggle or level change in flight owns those fields until the server answers it.
    const overtaken = serverRev !== revAtStart || toggling || levelPending !== null;
    if (!overtaken || !current) {
      get().applyStatus(status);
      return;
    }
    // Overtaken by a push or a change of ours: keep that state, take only the run times.
    set({ status: { ...current, lastPoll: status.lastPoll, intervals: status.intervals }, statusAt: Date.now() });
  },

  async setAutonomyLevel(level) {
    const mine = ++levelSeq;
    set({ levelPending: level, levelError: null, levelAnswer: null });
    try {
      const res = await withAuth((t) => putAutonomyLevel(t, level));
      if (mine !== levelSeq) return;
      set((s) => ({
        levelPending: null,
        levelAnswer: { level: res.autonomyLevel, description: res.description },
        status: s.status ? { ...s.status, autonomyLevel: res.autonomyLevel } : s.status,
        serverRev: s.serverRev + 1,
      }));
    } catch (err) {
      if (mine !== levelSeq) return;
      const why = err instanceof ApiError ? err.message : "request failed";
      set({ levelPending: null, levelError: `Could not set level ${level}: ${why}` });
    }
  },

  clearLevelMessages() {
    set({ levelError: null, levelAnswer: null });
  },

  async setKillSwitch(active) {
    const before = get().killSwitch;
    const revAtStart = get().serverRev;
    const mine = ++requestSeq;
    set({ killSwitch: active, toggling: true, error: null });
    try {
      const res = await withAuth((t) => putKillSwitch(t, active));
      if (mine !== requestSeq) return; // a newer toggle owns the state now
      set((s) => ({
        killSwitch: res.killSwitch,
        toggling: false,
        status: s.status ? { ...s.status, killSwitch: res.killSwitch } : s.status,
        serverRev: s.serverRev + 1,
      }));
    } catch (err) {
      if (mine !== requestSeq) return;
      const why = err instanceof ApiError ? err.message : "request failed";
      const pushed = get().serverRev !== revAtStart;
      set({
        killSwitch: pushed ? get().killSwitch : before,
        toggling: false,
        error: `Could not ${active ? "engage" : "release"} the kill switch: ${why}`,
      });
    }
  },

  clearError() {
    set({ error: null });
  },

  reset() {
    requestSeq += 1;
    levelSeq += 1;
    set({ ...initial });
  },
}));

resetOnSessionChange(() => useMonitorStore.getState().reset());
