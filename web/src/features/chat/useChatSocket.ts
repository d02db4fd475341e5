/**
 * The `/chat` Socket.IO connection. Pushes go through parse → the chat store's reducer; the
 * store sends through the transport registered here. On every (re)connect the current session
 * (if any) is joined again and its history replaces the transcript, so a reload or a network
 * blip never leaves a stale or half-streamed view. Same auth and retry rules as `/events`.
 */
import { useEffect } from "react";
import { io, type Socket } from "socket.io-client";
import { useAuthStore } from "../../stores/auth";
import { useChatStore } from "../../stores/chat";
import { isAuthError } from "../cluster/useClusterSocket";
import { CHAT_EVENTS, parseServerEvent } from "./parse";

const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 5_000;

type ChatSocket = Socket<Record<string, (payload: unknown) => void>, Record<string, (payload: unknown, ack: (res: unknown) => void) => void>>;

export function useChatSocket(token: string): void {
  useEffect(() => {
    const store = useChatStore.getState;
    const socket: ChatSocket = io("/chat", {
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
    let failures = 0;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;

    const retryLater = () => {
      clearTimeout(retryTimer);
      const delay = Math.min(BASE_DELAY_MS * 2 ** Math.max(failures - 1, 0), MAX_DELAY_MS);
      retryTimer = setTimeout(() => {
        if (!disposed && !socket.connected) socket.connect();
      }, delay);
    };

    for (const name of CHAT_EVENTS) {
      socket.on(name, (payload: unknown) => {
        const ev = parseServerEvent(name, payload);
        if (ev) store().handle(ev);
      });
    }

    socket.on("connect", () => {
      failures = 0;
      clearTimeout(retryTimer);
      store().setConnected(true);
      const sessionId = store().sessionId;
      if (sessionId) store().join(sessionId);
    });
    socket.on("disconnect", (reason: unknown) => {
      if (disposed) return;
      store().setConnected(false);
      store().connectionLost();
      if (reason === "io server disconnect") retryLater();
    });
    socket.on("connect_error", (err: unknown) => {
      if (disposed) return;
      if (isAuthError(err as { message?: string })) {
        disposed = true;
        socket.disconnect();
        useAuthStore.getState().signOut({ notifyServer: false, notice: "Session ended — sign in again." });
        return;
      }
      failures += 1;
      if (!socket.active) retryLater();
    });

    store().setTransport((event, payload, ack) => {
      socket.emit(event, payload, ack);
    });
    socket.connect();
    return () => {
      disposed = true;
      clearTimeout(retryTimer);
      store().setTransport(null);
      store().setConnected(false);
      socket.removeAllListeners();
      socket.disconnect();
    };
  }, [token]);
}
