/**
 * The `/events` Socket.IO connection: confirmations, the monitor's state (kill switch) and the
 * event feed. On every (re)connect the pending confirmations and the monitor status are reloaded
 * over REST, so anything missed while disconnected is caught up — including on first load, which
 * is what makes pending confirmations survive a page reload.
 *
 * Its own connection (`forceNew`), so its lifetime never depends on the `/cluster` socket's.
 * Auth, retries and sign-out: `lib/authedSocket`.
 */
import { useEffect } from "react";
import type { Socket } from "socket.io-client";
import { fetchMonitorStatus, parseConfirmationEvent, parseEvent, parseMonitorStatus } from "../../lib/actionsApi";
import { ApiError } from "../../lib/api";
import { openAuthedSocket } from "../../lib/authedSocket";
import { withAuth } from "../../stores/auth";
import { useEventsStore } from "../../stores/events";
import { useMonitorStore } from "../../stores/monitor";
import { expireConfirmations, handleConfirmationEvent, resyncConfirmations } from "../actions/flow";

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

    let everConnected = false;
    const { socket, dispose } = openAuthedSocket<EventsSocket>("/events", token, {
      onConnect: () => {
        // The first connect follows the REST load above; later ones catch up on what was missed.
        if (everConnected) {
          void resyncConfirmations();
          void loadMonitorStatus(controller.signal);
        }
        everConnected = true;
      },
    });

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

    socket.connect();
    return () => {
      controller.abort();
      dispose();
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
