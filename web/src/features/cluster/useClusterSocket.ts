/**
 * The `/cluster` Socket.IO connection: feeds the cluster store and reports connection state.
 *
 * - Auth, reconnects (forever, 1 s → 5 s backoff, including the refusals and server-side
 *   disconnects the library won't retry) and the sign-out on a refused token: `lib/authedSocket`.
 * - The state machine the top bar shows: connecting (first attempt) → live → reconnecting →
 *   offline (after several failures in a row, or when the browser says it is offline).
 */
import { useEffect } from "react";
import type { Socket } from "socket.io-client";
import { openAuthedSocket } from "../../lib/authedSocket";
import { useClusterStore } from "../../stores/cluster";
import type { Freshness, Node, Quorum, Storage, TemperatureReading, Vm } from "../../types/cluster";

/** Consecutive failed attempts after which RECONNECTING becomes OFFLINE (≈ 10 s). */
const OFFLINE_AFTER_FAILURES = 3;

interface ServerToClient {
  nodes: (nodes: Node[]) => void;
  vms: (vms: Vm[]) => void;
  storage: (storage: Storage[]) => void;
  quorum: (quorum: Quorum) => void;
  temperature: (readings: TemperatureReading[]) => void;
  freshness: (freshness: Freshness) => void;
}

interface ClientToServer {
  refresh: () => void;
}

export type ClusterSocket = Socket<ServerToClient, ClientToServer>;

/** Kept here too for existing importers; lives in `lib/authedSocket`. */
export { isAuthError } from "../../lib/authedSocket";

export function useClusterSocket(token: string): void {
  useEffect(() => {
    const store = useClusterStore.getState();
    let everConnected = false;
    const { socket, failures, dispose } = openAuthedSocket<ClusterSocket>("/cluster", token, {
      // Shares socket.io's default (multiplexed) manager, as it always has.
      forceNew: false,
      onConnect: () => {
        everConnected = true;
        store.setConnection("live");
      },
      onDisconnect: () => store.setConnection("reconnecting"),
      onConnectError: (_err, failed) => {
        if (!navigator.onLine || failed >= OFFLINE_AFTER_FAILURES) store.setConnection("offline");
        else store.setConnection(everConnected ? "reconnecting" : "connecting");
      },
    });

    // Only accept well-formed pushes: a bad payload must not replace good data with garbage.
    socket.on("nodes", (nodes) => Array.isArray(nodes) && store.setNodes(nodes));
    socket.on("vms", (vms) => Array.isArray(vms) && store.setVms(vms));
    socket.on("storage", (storage) => Array.isArray(storage) && store.setStorage(storage));
    socket.on("quorum", (quorum) => quorum != null && typeof quorum === "object" && store.setQuorum(quorum));
    socket.on("temperature", (readings) => Array.isArray(readings) && store.setTemperatures(readings));
    socket.on("freshness", (freshness) => freshness != null && typeof freshness === "object" && store.setFreshness(freshness));

    socket.io.on("reconnect_attempt", () => {
      if (failures() < OFFLINE_AFTER_FAILURES && navigator.onLine) {
        store.setConnection(everConnected ? "reconnecting" : "connecting");
      }
    });

    const onOffline = () => store.setConnection("offline");
    const onOnline = () => {
      if (!socket.connected) {
        store.setConnection("reconnecting");
        socket.connect();
      }
    };
    window.addEventListener("offline", onOffline);
    window.addEventListener("online", onOnline);

    store.setRefresher(() => {
      if (socket.connected) socket.emit("refresh");
    });
    store.setConnection("connecting");
    socket.connect();

    return () => {
      window.removeEventListener("offline", onOffline);
      window.removeEventListener("online", onOnline);
      store.setRefresher(null);
      socket.io.removeAllListeners();
      dispose();
    };
  }, [token]);
}
