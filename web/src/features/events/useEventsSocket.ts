/**
 * The `/events` Socket.IO connection: confirmations, the monitor's state (kill switch, level),
 * incidents and the event feed. On every (re)connect the pending confirmations and the monitor
 * status are reloaded over REST, and so are the feed and the incident tabs already shown, so
 * anything missed while disconnected is caught up — including on first load, which is what makes
 * pending confirmations survive a page reload.
 *
 * The monitor status is also polled every {@link STATUS_POLL_MS}: the server pushes it only when
 * something other than the tiers' last run times changes, and those times are what tells the
 * operator the monitor is alive.
 *
 * Its own connection (`forceNew`), so its lifetime never depends on the `/cluster` socket's.
 * Auth, retries and sign-out: `lib/authedSocket`.
 */
import { useEffect } from "react";
import type { Socket } from "socket.io-client";
import { fetchMonitorStatus, parseConfirmationEvent, parseEvent, parseMonitorStatus } from "../../lib/actionsApi";
import { ApiError } from "../../lib/api";
import { openAuthedSocket } from "../../lib/authedSocket";
import { parseIncident } from "../../lib/monitorApi";
import { withAuth } from "../../stores/auth";
import { useEventsStore } from "../../stores/events";
import { useIncidentsStore } from "../../stores/incidents";
import { useMonitorStore } from "../../stores/monitor";
import { expireConfirmations, handleConfirmationEvent, resyncConfirmations } from "../actions/flow";

interface ServerToClient {
  confirmation: (payload: unknown) => void;
  "monitor:status": (payload: unknown) => void;
  event: (payload: unknown) => void;
  incident: (payload: unknown) => void;
}

export type EventsSocket = Socket<ServerToClient, Record<string, never>>;

/** How often the monitor status is re-read (its tiers run every 12 s by default). */
export const STATUS_POLL_MS = 10_000;

async function loadMonitorStatus(signal: AbortSignal): Promise<void> {
  const revAtStart = useMonitorStore.getState().serverRev;
  try {
    const status = await withAuth((t) => fetchMonitorStatus(t, signal));
    useMonitorStore.getState().applyPolledStatus(status, revAtStart);
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
    const poll = setInterval(() => void loadMonitorStatus(controller.signal), STATUS_POLL_MS);

    let everConnected = false;
    const { socket, dispose } = openAuthedSocket<EventsSocket>("/events", token, {
      onConnect: () => {
        useEventsStore.getState().setLive(true);
        // The first connect follows the REST load above; later ones catch up on what was missed.
        if (everConnected) {
          void resyncConfirmations();
          void loadMonitorStatus(controller.signal);
          useEventsStore.getState().reloadIfLoaded();
          useIncidentsStore.getState().reloadLoaded();
        }
        everConnected = true;
      },
      onDisconnect: () => useEventsStore.getState().setLive(false),
      onConnectError: () => useEventsStore.getState().setLive(false),
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
    socket.on("incident", (payload) => {
      const inc = parseIncident(payload);
      if (inc) useIncidentsStore.getState().upsert(inc);
    });

    socket.connect();
    return () => {
      controller.abort();
      clearInterval(poll);
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
