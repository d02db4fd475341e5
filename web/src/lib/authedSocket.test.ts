import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "../stores/auth";
import { newFakeSocket, type FakeSocket } from "../test/fakeSocket";

const sockets: FakeSocket[] = [];
vi.mock("socket.io-client", () => ({
  io: (ns: string, opts: Record<string, unknown>) => newFakeSocket(sockets, ns, opts),
}));

const { openAuthedSocket, retryDelayMs, SESSION_ENDED_NOTICE } = await import("./authedSocket");

const socket = () => {
  const s = sockets.at(-1);
  if (!s) throw new Error("no socket");
  return s;
};

/** Opens a socket as a hook would, and connects it. */
function open(options: Parameters<typeof openAuthedSocket>[2] = {}) {
  const conn = openAuthedSocket("/ns", "tok", options);
  conn.socket.connect();
  return { conn, s: socket() };
}

beforeEach(() => {
  sockets.length = 0;
  vi.useFakeTimers();
  vi.stubGlobal("fetch", vi.fn(async () => new Response(null, { status: 204 })));
  useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("openAuthedSocket", () => {
  it("opens the namespace unconnected, with the token and the agreed backoff", () => {
    const conn = openAuthedSocket("/ns", "tok");
    expect(socket().namespace).toBe("/ns");
    expect(socket().opts).toEqual({
      path: "/socket.io",
      auth: { token: "tok" },
      autoConnect: false,
      forceNew: true,
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: 1_000,
      reconnectionDelayMax: 5_000,
    });
    expect(socket().connectCalls).toBe(0);
    expect(conn.socket).toBe(socket());
  });

  it("leaves forceNew out when asked to share the default manager", () => {
    openAuthedSocket("/ns", "tok", { forceNew: false });
    expect(socket().opts).not.toHaveProperty("forceNew");
  });

  it("backs off 1 s, 2 s, 4 s, then 5 s at most (1 s after a server-side disconnect)", () => {
    expect([0, 1, 2, 3, 4, 9].map(retryDelayMs)).toEqual([1_000, 1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it("retries refusals the library won't retry, with growing delays, and counts failures", () => {
    const onConnectError = vi.fn();
    const { conn, s } = open({ onConnectError });
    s.active = false;
    s.fire("connect_error", new Error("server busy"));
    expect(onConnectError).toHaveBeenLastCalledWith(expect.any(Error), 1);
    vi.advanceTimersByTime(999);
    expect(s.connectCalls).toBe(1);
    vi.advanceTimersByTime(1);
    expect(s.connectCalls).toBe(2);

    s.fire("connect_error", new Error("server busy"));
    s.fire("connect_error", new Error("server busy"));
    expect(conn.failures()).toBe(3);
    vi.advanceTimersByTime(3_999);
    expect(s.connectCalls).toBe(2);
    vi.advanceTimersByTime(1);
    expect(s.connectCalls).toBe(3);
  });

  it("leaves transport failures to the library's own reconnection", () => {
    const { s } = open();
    s.fire("connect_error", new Error("xhr poll error")); // still active: the manager retries
    vi.advanceTimersByTime(10_000);
    expect(s.connectCalls).toBe(1);
  });

  it("resets the failure count and the pending retry on connect", () => {
    const onConnect = vi.fn();
    const { conn, s } = open({ onConnect });
    s.active = false;
    s.fire("connect_error", new Error("server busy"));
    s.fire("connect");
    expect(onConnect).toHaveBeenCalledTimes(1);
    expect(conn.failures()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(s.connectCalls).toBe(1);
  });

  it("reconnects after a server-side disconnect, and reports the disconnect", () => {
    const onDisconnect = vi.fn();
    const { s } = open({ onDisconnect });
    s.fire("connect");
    s.fire("disconnect", "transport close");
    expect(onDisconnect).toHaveBeenLastCalledWith("transport close");
    vi.advanceTimersByTime(10_000);
    expect(s.connectCalls).toBe(1); // the library reconnects on its own

    s.fire("disconnect", "io server disconnect");
    vi.advanceTimersByTime(1_000);
    expect(s.connectCalls).toBe(2);
  });

  it("signs out with the notice on a refused token, and stops for good", () => {
    const onConnectError = vi.fn();
    const onDisconnect = vi.fn();
    const { s } = open({ onConnectError, onDisconnect });
    s.active = false;
    s.fire("connect_error", new Error("unauthorized"));
    expect(useAuthStore.getState().session).toBeNull();
    expect(useAuthStore.getState().notice).toBe(SESSION_ENDED_NOTICE);
    expect(s.disconnectCalls).toBe(1);
    expect(onConnectError).not.toHaveBeenCalled();

    s.fire("disconnect", "io server disconnect");
    s.fire("connect_error", new Error("server busy"));
    vi.advanceTimersByTime(10_000);
    expect(s.connectCalls).toBe(1);
    expect(onDisconnect).not.toHaveBeenCalled();
    expect(onConnectError).not.toHaveBeenCalled();
  });

  it("dispose stops a pending retry, removes the listeners and disconnects", () => {
    const onConnect = vi.fn();
    const { conn, s } = open({ onConnect });
    s.active = false;
    s.fire("connect_error", new Error("server busy"));
    conn.dispose();
    vi.advanceTimersByTime(10_000);
    expect(s.connectCalls).toBe(1);
    expect(s.disconnectCalls).toBe(1);
    expect(s.handlers.size).toBe(0);
    s.fire("connect");
    expect(onConnect).not.toHaveBeenCalled();
  });
});
