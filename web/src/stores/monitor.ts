/**
 * The monitor's state as the top bar shows it, above all the kill switch.
 *
 * Fed by `GET /api/monitor/status` and `/events` `monitor:status`. Toggling is optimistic (the
 * banner and the disabled buttons appear at once — it is the emergency brake) and reverts when
 * the server refuses or cannot be reached. If the server pushed a new state while our request
 * was in flight, that push is the truth and is kept instead of reverting.
 */
import { create } from "zustand";
import { resetOnSessionChange } from "./sessionScoped";
import { putKillSwitch } from "../lib/actionsApi";
import { ApiError } from "../lib/api";
import type { MonitorStatus } from "../lib/types/actions";
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

  applyStatus: (status: MonitorStatus) => void;
  setKillSwitch: (active: boolean) => Promise<void>;
  clearError: () => void;
  reset: () => void;
}

const initial = {
  status: null as MonitorStatus | null,
  killSwitch: null as boolean | null,
  toggling: false,
  error: null as string | null,
  serverRev: 0,
};

let requestSeq = 0;

export const useMonitorStore = create<MonitorState>()((set, get) => ({
  ...initial,

  applyStatus(status) {
    set((s) => ({ status, killSwitch: status.killSwitch, serverRev: s.serverRev + 1 }));
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
    set({ ...initial });
  },
}));

resetOnSessionChange(() => useMonitorStore.getState().reset());
