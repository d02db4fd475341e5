/**
 * What each guest row shows about actions on it: busy (a request in flight — its buttons are
 * disabled) and the last outcome (success, denial, or the server's error message). Keyed by vmid.
 * Success notes clear themselves after a while; errors stay until dismissed or the next action.
 */
import { create } from "zustand";
import { resetOnSessionChange } from "./sessionScoped";
import { without } from "../lib/objects";
import type { GuestAction } from "../features/actions/guestTools";

export type GuestBusy = "executing" | "approving" | "denying";
export type OutcomeTone = "ok" | "info" | "error";

export interface GuestOutcome {
  tone: OutcomeTone;
  text: string;
}

export interface GuestActionState {
  action: GuestAction | null;
  busy: GuestBusy | null;
  outcome: GuestOutcome | null;
}

export const OUTCOME_TTL_MS = 10_000;

interface GuestActionsState {
  byGuest: Record<number, GuestActionState>;
  setBusy: (vmid: number, action: GuestAction | null, busy: GuestBusy) => void;
  setOutcome: (vmid: number, action: GuestAction | null, outcome: GuestOutcome) => void;
  clear: (vmid: number) => void;
  reset: () => void;
}

const timers = new Map<number, ReturnType<typeof setTimeout>>();

function cancelTimer(vmid: number) {
  const t = timers.get(vmid);
  if (t !== undefined) clearTimeout(t);
  timers.delete(vmid);
}

export const useGuestActionsStore = create<GuestActionsState>()((set, get) => ({
  byGuest: {},

  setBusy(vmid, action, busy) {
    cancelTimer(vmid);
    set((s) => ({ byGuest: { ...s.byGuest, [vmid]: { action: action ?? s.byGuest[vmid]?.action ?? null, busy, outcome: null } } }));
  },

  setOutcome(vmid, action, outcome) {
    cancelTimer(vmid);
    set((s) => ({ byGuest: { ...s.byGuest, [vmid]: { action: action ?? s.byGuest[vmid]?.action ?? null, busy: null, outcome } } }));
    if (outcome.tone !== "error") {
      timers.set(
        vmid,
        setTimeout(() => {
          timers.delete(vmid);
          if (get().byGuest[vmid]?.outcome === outcome) get().clear(vmid);
        }, OUTCOME_TTL_MS),
      );
    }
  },

  clear(vmid) {
    cancelTimer(vmid);
    set((s) => {
      if (!(vmid in s.byGuest)) return s;
      return { byGuest: without(s.byGuest, vmid) };
    });
  },

  reset() {
    for (const vmid of [...timers.keys()]) cancelTimer(vmid);
    set({ byGuest: {} });
  },
}));

resetOnSessionChange(() => useGuestActionsStore.getState().reset());
