/**
 * The `/cluster` Socket.IO connection: feeds the cluster store and reports connection state.
 *
 * - Auth: the token goes in the handshake (`auth: {token}`); the server refuses a bad or expired
 *   one with connect_error "unauthorized", which signs the operator out.
 * - Reconnects forever with 1 s → 5 s backoff. socket.io's manager does that for transport
 *   failures; a refusal by the namespace middleware (other than auth) is *not* retried by the
 *   library, so we retry those ourselves with the same backoff.
 * - The state machine the top bar shows: connecting (first attempt) → live → reconnecting →
 *   offline (after several failures in a row, or when the browser says it is offline).
 */
import { useEffect } from "react";
import { io, type Socket } from "socket.io-client";
import { useAuthStore } from "../../stores/auth";
import { useClusterStore } from "../../stores/cluster";
import type { Freshness, Node, Quorum, Storage, TemperatureReading, Vm } from "../../types/cluster";

const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 5_000;
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

/** Whether a connect_error means "your token is no good" (→ sign out) rather than a network issue. */
export function isAuthError(err: { message?: string } | null | undefined): boolean {
  const msg = (err?.message ?? "").toLowerCase();
  return msg.includes("unauthorized") || msg.includes("unauthenticated") || msg.includes("token") || msg.includes("expired");
}

export function useClusterSocket(token: string): void {
  useEffect(() => {
    const store = useClusterStore.getState();
    const socket: ClusterSocket = io("/cluster", {
      path: "/socket.io",
      auth: { token },
      autoConnect: false,
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: BASE_DELAY_MS,
      reconnectionDelayMax: MAX_DELAY_MS,
    });

    let failures = 0;
    let everConnected = false;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let disposed = false;

    const markFailure = () => {
      failures += 1;
      if (!navigator.onLine || failures >= OFFLINE_AFTER_FAILURES) store.setConnection("offline");
      else store.setConnection(everConnected ? "reconnecting" : "connecting");
    };

    // Our own retry for refusals the manager won't retry (see module comment).
    const scheduleManualRetry = () => {
      clearTimeout(retryTimer);
      const delay = Math.min(BASE_DELAY_MS * 2 ** Math.max(failures - 1, 0), MAX_DELAY_MS);
      retryTimer = setTimeout(() => {
        if (!disposed && !socket.connected) socket.connect();
      }, delay);
    };

    // Only accept well-formed pushes: a bad payload must not replace good data with garbage.
    socket.on("nodes", (nodes) => Array.isArray(nodes) && store.setNodes(nodes));
    socket.on("vms", (vms) => Array.isArray(vms) && store.setVms(vms));
    socket.on("storage", (storage) => Array.isArray(storage) && store.setStorage(storage));
    socket.on("quorum", (quorum) => quorum != null && typeof quorum === "object" && store.setQuorum(quorum));
    socket.on("temperature", (readings) => Array.isArray(readings) && store.setTemperatures(readings));
    socket.on("freshness", (freshness) => freshness != null && typeof freshness === "object" && store.setFreshness(freshness));

    socket.on("connect", () => {
      failures = 0;
      everConnected = true;
      clearTimeout(retryTimer);
      store.setConnection("live");
    });

    socket.on("disconnect", (reason) => {
      if (disposed) return;
      store.setConnection("reconnecting");
      // A server-side disconnect is not retried by the client library; the reconnect goes
      // through the auth middleware again, so a revoked token ends in a sign-out.
      if (reason === "io server disconnect") scheduleManualRetry();
    });

    socket.on("connect_error", (err) => {
      if (disposed) return;
      if (isAuthError(err)) {
        disposed = true;
        socket.disconnect();
        useAuthStore.getState().signOut({ notifyServer: false, notice: "Session ended — sign in again." });
        return;
      }
      markFailure();
      if (!socket.active) scheduleManualRetry();
    });

    socket.io.on("reconnect_attempt", () => {
      if (failures < OFFLINE_AFTER_FAILURES && navigator.onLine) {
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
      disposed = true;
      clearTimeout(retryTimer);
      window.removeEventListener("offline", onOffline);
      window.removeEventListener("online", onOnline);
      store.setRefresher(null);
      socket.removeAllListeners();
      socket.io.removeAllListeners();
      socket.disconnect();
    };
  }, [token]);
}
