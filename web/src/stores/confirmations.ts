/**
 * Pending RED-action confirmations, as the server knows them.
 *
 * Two sources feed it: `GET /api/confirmations` (on load and after every `/events` reconnect)
 * and the `/events` `confirmation` pushes. They are merged so that neither can undo the other:
 * - a push that says an id was decided/expired leaves a tombstone, so a REST answer that was
 *   already on its way cannot bring the confirmation back;
 * - a REST load replaces the list (it is the server's truth at that moment) except for pushes
 *   that arrived after the request was sent (`beginLoad` / `loadPending(list, since)`).
 * Expired ones are pruned locally every second as well (the server may not push `expired`).
 */
import { create } from "zustand";
import { resetOnSessionChange } from "./sessionScoped";
import { without } from "../lib/objects";
import type { Confirmation, ConfirmationEvent, ConfirmationStatus, Decision } from "../lib/types/actions";

export interface PendingConfirmation extends Confirmation {
  /** Store sequence number of the last change, for the REST/push merge. */
  seq: number;
  /** Known only from a push (no args yet): a REST reload will fill it in. */
  partial: boolean;
}

/** Decided, expired or gone: the status it ended with. */
export type ResolvedStatus = Exclude<ConfirmationStatus, "pending"> | "gone";

const MAX_TOMBSTONES = 200;

interface ConfirmationsState {
  pending: PendingConfirmation[];
  resolved: Record<string, ResolvedStatus>;
  /** Decisions in flight, by confirmation id (spinners, disabled buttons). */
  deciding: Record<string, Decision>;
  /** The confirmation shown in the dialog, if any. */
  dialogId: string | null;
  seq: number;

  /** Call before sending `GET /api/confirmations`; pass the result to loadPending. */
  beginLoad: () => number;
  loadPending: (list: Confirmation[], since: number, now?: number) => void;
  /** A confirmation this client just got from a 202. */
  upsert: (c: Confirmation) => void;
  /** A `/events` push. Returns the confirmation it removed (for the row that asked), if any. */
  applyEvent: (ev: ConfirmationEvent, now?: number) => PendingConfirmation | null;
  /** Removes one with a final status; returns what was removed. */
  resolve: (id: string, status: ResolvedStatus) => PendingConfirmation | null;
  /** Drops the expired ones; returns them. */
  prune: (now?: number) => PendingConfirmation[];
  setDeciding: (id: string, decision: Decision | null) => void;
  openDialog: (id: string) => void;
  closeDialog: () => void;
  reset: () => void;
}

export function isExpired(c: Pick<Confirmation, "expiresAt">, now: number): boolean {
  const at = Date.parse(c.expiresAt);
  return Number.isFinite(at) && at <= now;
}

/** Most urgent first (soonest expiry), then by id for a stable order. */
function sorted(list: PendingConfirmation[]): PendingConfirmation[] {
  return [...list].sort((a, b) => {
    const d = (Date.parse(a.expiresAt) || 0) - (Date.parse(b.expiresAt) || 0);
    return d !== 0 ? d : a.id.localeCompare(b.id);
  });
}

function addTombstone(resolved: Record<string, ResolvedStatus>, id: string, status: ResolvedStatus) {
  const entries = Object.entries({ ...without(resolved, id), [id]: status });
  // Oldest first (insertion order): keep the most recent ones.
  return Object.fromEntries(entries.slice(-MAX_TOMBSTONES));
}

const initial = {
  pending: [] as PendingConfirmation[],
  resolved: {} as Record<string, ResolvedStatus>,
  deciding: {} as Record<string, Decision>,
  dialogId: null as string | null,
  seq: 0,
};

export const useConfirmationsStore = create<ConfirmationsState>()((set, get) => ({
  ...initial,

  beginLoad() {
    return get().seq;
  },

  loadPending(list, since, now = Date.now()) {
    set((s) => {
      const seq = s.seq + 1;
      const byId = new Map<string, PendingConfirmation>();
      for (const c of list) {
        if (s.resolved[c.id] || isExpired(c, now)) continue;
        byId.set(c.id, { ...c, seq, partial: false });
      }
      // Pushes newer than the request keep their say (a just-created one the REST answer missed).
      for (const p of s.pending) {
        if (p.seq > since && !byId.has(p.id)) byId.set(p.id, p);
      }
      return { pending: sorted([...byId.values()]), seq };
    });
  },

  upsert(c) {
    set((s) => {
      if (s.resolved[c.id]) return s;
      const seq = s.seq + 1;
      const rest = s.pending.filter((p) => p.id !== c.id);
      return { pending: sorted([...rest, { ...c, seq, partial: false }]), seq };
    });
  },

  applyEvent(ev, now = Date.now()) {
    if (ev.status !== "pending") return get().resolve(ev.id, ev.status);
    const s = get();
    if (s.resolved[ev.id] || (ev.expiresAt !== "" && isExpired(ev, now))) return null;
    const seq = s.seq + 1;
    const existing = s.pending.find((p) => p.id === ev.id);
    const next: PendingConfirmation = existing
      ? {
          ...existing,
          summary: ev.summary || existing.summary,
          tier: ev.tier,
          expiresAt: ev.expiresAt || existing.expiresAt,
          ...(ev.args ? { args: ev.args, partial: false } : {}),
          seq,
        }
      : {
          id: ev.id,
          tool: ev.tool,
          args: ev.args ?? {},
          summary: ev.summary || ev.tool,
          tier: ev.tier,
          expiresAt: ev.expiresAt,
          createdAt: ev.createdAt ?? new Date(now).toISOString(),
          seq,
          // Without args (the minimal push) a REST reload fills the record in.
          partial: ev.args === undefined,
        };
    set({ pending: sorted([...s.pending.filter((p) => p.id !== ev.id), next]), seq });
    return null;
  },

  resolve(id, status) {
    const s = get();
    const removed = s.pending.find((p) => p.id === id) ?? null;
    set({
      pending: s.pending.filter((p) => p.id !== id),
      resolved: addTombstone(s.resolved, id, status),
      deciding: without(s.deciding, id),
      seq: s.seq + 1,
    });
    return removed;
  },

  prune(now = Date.now()) {
    const s = get();
    const gone = s.pending.filter((p) => isExpired(p, now) && !s.deciding[p.id]);
    if (gone.length === 0) return [];
    let resolved = s.resolved;
    for (const g of gone) resolved = addTombstone(resolved, g.id, "expired");
    set({ pending: s.pending.filter((p) => !gone.includes(p)), resolved, seq: s.seq + 1 });
    return gone;
  },

  setDeciding(id, decision) {
    set((s) => ({ deciding: decision ? { ...s.deciding, [id]: decision } : without(s.deciding, id) }));
  },

  openDialog(id) {
    set({ dialogId: id });
  },
  closeDialog() {
    set({ dialogId: null });
  },
  reset() {
    set({ ...initial });
  },
}));

resetOnSessionChange(() => useConfirmationsStore.getState().reset());
