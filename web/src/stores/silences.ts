/**
 * Silences (maintenance windows) in force: loaded with `GET /api/monitor/silences` when the
 * SILENCES tab is shown, after every change made here, and reloaded by the tab while it is open
 * (the server sends no push for them). Expired ones are dropped at display time. A draft matcher
 * can be handed over from an incident ("SILENCE…"), which the form then starts from.
 */
import { create } from "zustand";
import { ApiError } from "../lib/api";
import { createSilence, deleteSilence, fetchSilences } from "../lib/monitorApi";
import type { Matcher, NewSilence, Silence } from "../lib/types/monitor";
import { withAuth } from "./auth";
import { resetOnSessionChange } from "./sessionScoped";

interface SilencesState {
  silences: Silence[];
  loadedAt: number | null;
  loading: boolean;
  error: string | null;
  /** A matcher to start the form from (from an incident). */
  draft: Matcher | null;
  /** Bumped by every `setDraft` (the form restarts from the new draft). */
  draftRev: number;
  /** Ids being deleted. */
  deleting: Record<string, true>;

  load: () => Promise<void>;
  /** Creates one; resolves with null on success, else the reason it failed. */
  create: (body: NewSilence) => Promise<string | null>;
  remove: (id: string) => Promise<void>;
  setDraft: (m: Matcher | null) => void;
  reset: () => void;
}

const initial = {
  silences: [] as Silence[],
  loadedAt: null as number | null,
  loading: false,
  error: null as string | null,
  draft: null as Matcher | null,
  draftRev: 0,
  deleting: {} as Record<string, true>,
};

const message = (err: unknown) => (err instanceof ApiError ? err.message : "request failed");
const soonestFirst = (list: Silence[]) => [...list].sort((a, b) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt));
let seq = 0;

export const useSilencesStore = create<SilencesState>()((set, get) => ({
  ...initial,

  async load() {
    const mine = ++seq;
    set({ loading: true });
    try {
      const silences = await withAuth((t) => fetchSilences(t));
      if (mine !== seq) return;
      set({ silences: soonestFirst(silences), loadedAt: Date.now(), loading: false, error: null });
    } catch (err) {
      if (mine !== seq) return;
      set({ loading: false, error: `Could not load silences: ${message(err)}` });
    }
  },

  async create(body) {
    try {
      const silence = await withAuth((t) => createSilence(t, body));
      seq += 1; // an older load in flight must not drop the new one
      set((s) => ({ silences: soonestFirst([...s.silences.filter((x) => x.id !== silence.id), silence]) }));
      void get().load();
      return null;
    } catch (err) {
      return message(err);
    }
  },

  async remove(id) {
    set((s) => ({ deleting: { ...s.deleting, [id]: true }, error: null }));
    try {
      await withAuth((t) => deleteSilence(t, id));
      seq += 1;
      set((s) => ({ silences: s.silences.filter((x) => x.id !== id) }));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        set((s) => ({ silences: s.silences.filter((x) => x.id !== id) })); // gone already
      } else {
        set({ error: `Could not delete the silence: ${message(err)}` });
      }
    } finally {
      set((s) => {
        const { [id]: _drop, ...deleting } = s.deleting;
        return { deleting };
      });
    }
  },

  setDraft(draft) {
    set((s) => ({ draft, draftRev: s.draftRev + 1 }));
  },

  reset() {
    seq += 1;
    set({ ...initial });
  },
}));

resetOnSessionChange(() => useSilencesStore.getState().reset());
