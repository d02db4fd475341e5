/**
 * The one way the UI opens a long-lived, authenticated Socket.IO namespace (`/cluster`,
 * `/events`, `/chat`). Each hook adds only its own pushes and state on top.
 *
 * - Auth: the token goes in the handshake (`auth: {token}`). A connect_error that means "your
 *   token is no good" ({@link isAuthError}) stops the socket for good and signs the operator out
 *   with the notice {@link SESSION_ENDED_NOTICE}.
 * - Reconnects forever with 1 s → 5 s backoff. socket.io's manager does that for transport
 *   failures; a refusal by the namespace middleware (other than auth) and a server-side
 *   disconnect ("io server disconnect") are *not* retried by the library, so we retry those
 *   ourselves with the same backoff ({@link retryDelayMs}). The retry goes through the auth
 *   middleware again, so a revoked token ends in a sign-out.
 * - `dispose()` (an effect's cleanup) stops everything: no further callbacks, no pending retry,
 *   no listeners, socket disconnected.
 *
 * The socket is returned unconnected: register your listeners, then call `socket.connect()`.
 * The terminal's socket is deliberately not built on this: a PTY does not survive a reconnect.
 */
import { io, type Socket } from "socket.io-client";
import { useAuthStore } from "../stores/auth";

export const BASE_DELAY_MS = 1_000;
export const MAX_DELAY_MS = 5_000;
export const SESSION_ENDED_NOTICE = "Session ended — sign in again.";

/** Whether a connect_error means "your token is no good" (→ sign out) rather than a network issue. */
export function isAuthError(err: { message?: string } | null | undefined): boolean {
  const msg = (err?.message ?? "").toLowerCase();
  return msg.includes("unauthorized") || msg.includes("unauthenticated") || msg.includes("token") || msg.includes("expired");
}

/** Our own retry delay after `failures` failed attempts in a row (0, 1, 2, 3, 4…): 1 s, 1 s, 2 s, 4 s, 5 s… */
export function retryDelayMs(failures: number): number {
  return Math.min(BASE_DELAY_MS * 2 ** Math.max(failures - 1, 0), MAX_DELAY_MS);
}

export interface AuthedSocketOptions {
  /** After every successful (re)connect; the failure count is already back to 0. */
  onConnect?: () => void;
  /** After a disconnect we did not cause (never after `dispose()` or an auth sign-out). */
  onDisconnect?: (reason: Socket.DisconnectReason) => void;
  /** After a failed attempt that is not an auth refusal; `failures` counts them in a row (≥ 1). */
  onConnectError?: (err: Error, failures: number) => void;
  /**
   * Give the namespace its own connection (socket.io `forceNew`), so its lifetime never depends
   * on another namespace's. Default true; `/cluster` uses the shared (multiplexed) manager.
   */
  forceNew?: boolean;
}

/** `S` is the namespace's typed socket, e.g. `Socket<ServerToClient, ClientToServer>`. */
export interface AuthedSocket<S extends Socket = Socket> {
  /** Not connected yet: add listeners, then `socket.connect()`. */
  socket: S;
  /** Failed attempts in a row since the last successful connect. */
  failures: () => number;
  /** Stops retries and callbacks, removes the socket's listeners and disconnects it. */
  dispose: () => void;
}

export function openAuthedSocket<S extends Socket = Socket>(namespace: string, token: string, options: AuthedSocketOptions = {}): AuthedSocket<S> {
  const { onConnect, onDisconnect, onConnectError, forceNew = true } = options;
  const socket = io(namespace, {
    path: "/socket.io",
    auth: { token },
    autoConnect: false,
    ...(forceNew ? { forceNew: true } : {}),
    reconnection: true,
    reconnectionAttempts: Infinity,
    reconnectionDelay: BASE_DELAY_MS,
    reconnectionDelayMax: MAX_DELAY_MS,
  });
  let disposed = false;
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  // Our own retry for what the manager won't retry (see module comment).
  const retryLater = () => {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      if (!disposed && !socket.connected) socket.connect();
    }, retryDelayMs(failures));
  };

  socket.on("connect", () => {
    failures = 0;
    clearTimeout(retryTimer);
    onConnect?.();
  });
  socket.on("disconnect", (reason) => {
    if (disposed) return;
    onDisconnect?.(reason);
    if (reason === "io server disconnect") retryLater();
  });
  socket.on("connect_error", (err) => {
    if (disposed) return;
    if (isAuthError(err)) {
      disposed = true;
      socket.disconnect();
      useAuthStore.getState().signOut({ notifyServer: false, notice: SESSION_ENDED_NOTICE });
      return;
    }
    failures += 1;
    onConnectError?.(err, failures);
    if (!socket.active) retryLater();
  });

  return {
    // The caller's event maps are only a typing of the same socket.
    socket: socket as S,
    failures: () => failures,
    dispose: () => {
      disposed = true;
      clearTimeout(retryTimer);
      socket.removeAllListeners();
      socket.disconnect();
    },
  };
}
