/**
 * The `/events` Socket.IO connection: confirmations, the monitor's state (kill switch) and the
 * event feed. On every (re)connect the pending confirmations and the monitor status are reloaded
 * over REST, so anything missed while disconnected is caught up — including on first load, which
 * is what makes pending confirmations survive a page reload.
 *
 * Its own connection (`forceNew`), so its lifetime never depends on the `/cluster` socket's.
 * A refused token signs out, as on `/cluster`.
 */
import { useEffect } from "react";
import { io, type Socket } from "socket.io-client";
import { fetchMonitorStatus, parseConfirmationEvent, parseEvent, parseMonitorStatus } from "../../lib/actionsApi";
import { ApiError } from "../../lib/api";
import { useAuthStore, withAuth } from "../../stores/auth";
import { useEventsStore } from "../../stores/events";
import { useMonitorStore } from "../../stores/monitor";
import { isAuthError } from "../cluster/useClusterSocket";
import { expireConfirmations, handleConfirmationEvent, resyncConfirmations } from "../actions/flow";

const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 5_000;

interface ServerToClient {
  confirmation: (payload: unknown) => void;
  "monitor:status": (payload: unknown) => void;
  event: (payload: unknown) => void;
}

export type EventsSocket = Socket<ServerToClient, Record<string, never>>;

async function loadMonitorStatus(signal: AbortSignal): Promise<void> {
  try {
    const status = await withAuth((t) => fetchMonitorStatus(t, signal));
    useMonitorStore.getState().applyStatus(status);
  } catch (err) {
    if (err instanceof ApiError || (err instanceof DOMException && err.name === "AbortError")) return;
    console.warn("loading monitor status failed", err);
  }
}

export function useEventsSocket(token: string): void {
  useEffect(() => {
    const controller = new AbortController();
    // REST first: the dashboard shows pending confirmations and the kill switch even if the
    // socket is slow or blocked.
    void resyncConfirmations();
    void loadMonitorStatus(controller.signal);

    const socket: EventsSocket = io("/events", {
      path: "/socket.io",
      auth: { token },
      autoConnect: false,
      forceNew: true,
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: BASE_DELAY_MS,
      reconnectionDelayMax: MAX_DELAY_MS,
    });
    let disposed = false;
    let everConnected = false;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;

    const retryLater = () => {
      clearTimeout(retryTimer);
      const delay = Math.min(BASE_DELAY_MS * 2 ** Math.max(failures - 1, 0), MAX_DELAY_MS);
      retryTimer = setTimeout(() => {
        if (!disposed && !socket.connected) socket.connect();
      }, delay);
    };

    socket.on("confirmation", (payload) => {
      const ev = parseConfirmationEvent(payload);
      if (ev) handleConfirmationEvent(ev);
    });
    socket.on("monitor:status", (payload) => {
      const status = parseMonitorStatus(payload);
      if (status) useMonitorStore.getState().applyStatus(status);
    });
    socket.on("event", (payload) => {
      const ev = parseEvent(payload);
      if (ev) useEventsStore.getState().addEvent(ev);
    });

    socket.on("connect", () => {
      failures = 0;
      clearTimeout(retryTimer);
      // The first connect follows the REST load above; later ones catch up on what was missed.
      if (everConnected) {
        void resyncConfirmations();
        void loadMonitorStatus(controller.signal);
      }
      everConnected = true;
    });
    socket.on("disconnect", (reason) => {
      if (!disposed && reason === "io server disconnect") retryLater();
    });
    socket.on("connect_error", (err) => {
      if (disposed) return;
      if (isAuthError(err)) {
        disposed = true;
        socket.disconnect();
        useAuthStore.getState().signOut({ notifyServer: false, notice: "Session ended — sign in again." });
        return;
      }
      failures += 1;
      if (!socket.active) retryLater();
    });

    socket.connect();
    return () => {
      disposed = true;
      controller.abort();
      clearTimeout(retryTimer);
      socket.removeAllListeners();
      socket.disconnect();
    };
  }, [token]);
}

/** Drops expired confirmations once a second (the server need not push `expired`). */
export function useConfirmationExpiry(): void {
  useEffect(() => {
    const timer = setInterval(() => expireConfirmations(), 1_000);
    return () => clearInterval(timer);
  }, []);
}
