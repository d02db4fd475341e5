/**
 * The one client-side copy of the cluster, fed by `GET /api/cluster` once and then by the
 * `/cluster` socket. Each push replaces one section; items are structurally shared with the
 * previous state (lib/reconcile) so memoised rows re-render only when their own data changed.
 *
 * Nothing here is ever cleared on a disconnect or a failed poll: the last data stays on screen
 * and the staleness marker says how old it is (LIVE-04), instead of blanking the dashboard.
 */
import { create } from "zustand";
import { reconcileList, reconcileValue } from "../lib/reconcile";
import type {
  ClusterSnapshot,
  Freshness,
  Node,
  Quorum,
  Storage,
  TemperatureReading,
  Vm,
} from "../types/cluster";

/** Socket state as the top bar shows it. */
export type ConnectionState = "connecting" | "live" | "reconnecting" | "offline";

export type Zones = Record<string, number>;

export interface ClusterState {
  nodes: Node[];
  vms: Vm[];
  storage: Storage[];
  quorum: Quorum | null;
  freshness: Freshness | null;
  /** Node name → sensor → °C, from `temperature` pushes (preferred over `Node.temperatures`). */
  temperatures: Record<string, Zones>;
  /** A socket push has arrived: a REST snapshot finishing later is older and must not win. */
  hasLiveData: boolean;
  connection: ConnectionState;
  /** Asks the server for a fresh snapshot on this socket (set while a socket exists). */
  requestRefresh: (() => void) | null;

  loadSnapshot: (snapshot: ClusterSnapshot) => void;
  setNodes: (nodes: Node[]) => void;
  setVms: (vms: Vm[]) => void;
  setStorage: (storage: Storage[]) => void;
  setQuorum: (quorum: Quorum) => void;
  setFreshness: (freshness: Freshness) => void;
  setTemperatures: (readings: TemperatureReading[]) => void;
  setConnection: (connection: ConnectionState) => void;
  setRefresher: (refresh: (() => void) | null) => void;
  reset: () => void;
}

const nodeKey = (n: Node) => n.name;
const vmKey = (v: Vm) => String(v.vmid);
const storageKey = (s: Storage) => `${s.storage}\u0000${s.node}`;

const initial = {
  nodes: [] as Node[],
  vms: [] as Vm[],
  storage: [] as Storage[],
  quorum: null,
  freshness: null,
  temperatures: {} as Record<string, Zones>,
  hasLiveData: false,
  connection: "connecting" as ConnectionState,
  requestRefresh: null,
};

export const useClusterStore = create<ClusterState>()((set, get) => ({
  ...initial,

  loadSnapshot(snapshot) {
    if (get().hasLiveData) return;
    const s = get();
    set({
      nodes: reconcileList(s.nodes, snapshot.nodes, nodeKey),
      vms: reconcileList(s.vms, snapshot.vms, vmKey),
      storage: reconcileList(s.storage, snapshot.storage, storageKey),
      quorum: reconcileValue(s.quorum, snapshot.quorum),
      freshness: reconcileValue(s.freshness, snapshot.freshness),
    });
  },
  setNodes(nodes) {
    set((s) => ({ nodes: reconcileList(s.nodes, nodes, nodeKey), hasLiveData: true }));
  },
  setVms(vms) {
    set((s) => ({ vms: reconcileList(s.vms, vms, vmKey), hasLiveData: true }));
  },
  setStorage(storage) {
    set((s) => ({ storage: reconcileList(s.storage, storage, storageKey), hasLiveData: true }));
  },
  setQuorum(quorum) {
    set((s) => ({ quorum: reconcileValue(s.quorum, quorum), hasLiveData: true }));
  },
  setFreshness(freshness) {
    set((s) => ({ freshness: reconcileValue(s.freshness, freshness), hasLiveData: true }));
  },
  setTemperatures(readings) {
    set((s) => {
      const next: Record<string, Zones> = {};
      for (const r of readings) next[r.node] = reconcileValue(s.temperatures[r.node], r.zones) ?? r.zones;
      return { temperatures: reconcileValue(s.temperatures, next), hasLiveData: true };
    });
  },
  setConnection(connection) {
    if (get().connection !== connection) set({ connection });
  },
  setRefresher(requestRefresh) {
    set({ requestRefresh });
  },
  reset() {
    set({ ...initial });
  },
}));

export interface Staleness {
  stale: boolean;
  /** Last successful poll (ISO), if any. */
  updatedAt: string | undefined;
  /** Why: the server's poll error, or the lost socket. */
  reason: string | null;
}

/**
 * Whether what is on screen may be out of date: the server says its last poll failed, or our
 * socket is down (so we would not hear about changes). A socket that is still making its first
 * connection does not count, or every page load would flash the badge.
 */
export function computeStaleness(
  freshness: Freshness | null,
  connection: ConnectionState,
  hasData: boolean,
): Staleness {
  const socketDown = hasData && (connection === "reconnecting" || connection === "offline");
  const serverStale = freshness?.stale === true;
  const reasons: string[] = [];
  if (serverStale && freshness?.error) reasons.push(freshness.error);
  if (socketDown) reasons.push("connection to Jarvis lost");
  return {
    stale: serverStale || socketDown,
    updatedAt: freshness?.updatedAt,
    reason: reasons.length > 0 ? reasons.join(" · ") : null,
  };
}
