import { renderHook } from "@testing-library/react";
import { act } from "react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "../../stores/auth";
import { useClusterStore } from "../../stores/cluster";
import { node, vm } from "../../test/fixtures";

/** A stand-in for the socket.io client that lets the test play the server. */
class FakeSocket {
  handlers = new Map<string, ((...args: unknown[]) => void)[]>();
  managerHandlers = new Map<string, ((...args: unknown[]) => void)[]>();
  connected = false;
  active = true;
  emitted: string[] = [];
  connectCalls = 0;
  io = {
    on: (ev: string, fn: (...args: unknown[]) => void) => {
      this.managerHandlers.set(ev, [...(this.managerHandlers.get(ev) ?? []), fn]);
    },
    removeAllListeners: () => this.managerHandlers.clear(),
  };
  on(ev: string, fn: (...args: unknown[]) => void) {
    this.handlers.set(ev, [...(this.handlers.get(ev) ?? []), fn]);
    return this;
  }
  emit(ev: string) {
    this.emitted.push(ev);
  }
  connect() {
    this.connectCalls += 1;
  }
  disconnect() {
    this.connected = false;
  }
  removeAllListeners() {
    this.handlers.clear();
  }
  /** Server → client. */
  fire(ev: string, ...args: unknown[]) {
    if (ev === "connect") this.connected = true;
    if (ev === "disconnect") this.connected = false;
    act(() => {
      for (const fn of this.handlers.get(ev) ?? []) fn(...args);
      for (const fn of this.managerHandlers.get(ev) ?? []) fn(...args);
    });
  }
}

const sockets: FakeSocket[] = [];
const ioMock = vi.fn((_ns: string, _opts: Record<string, unknown>) => {
  const s = new FakeSocket();
  sockets.push(s);
  return s;
});
vi.mock("socket.io-client", () => ({ io: (ns: string, opts: Record<string, unknown>) => ioMock(ns, opts) }));

const { isAuthError, useClusterSocket } = await import("./useClusterSocket");

function lastSocket(): FakeSocket {
  const s = sockets.at(-1);
  if (!s) throw new Error("no socket was created");
  return s;
}

beforeEach(() => {
  sockets.length = 0;
  ioMock.mockClear();
  useClusterStore.getState().reset();
  useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
  vi.stubGlobal("fetch", vi.fn(async () => new Response(null, { status: 204 })));
});

describe("useClusterSocket", () => {
  it("connects to /cluster with the token and the agreed backoff", () => {
    renderHook(() => useClusterSocket("tok"));
    expect(ioMock).toHaveBeenCalledWith(
      "/cluster",
      expect.objectContaining({
        path: "/socket.io",
        auth: { token: "tok" },
        reconnectionDelay: 1000,
        reconnectionDelayMax: 5000,
        reconnectionAttempts: Infinity,
      }),
    );
    expect(sockets[0]?.connectCalls).toBe(1);
    expect(useClusterStore.getState().connection).toBe("connecting");
  });

  it("goes LIVE on connect and feeds each pushed section into the store", () => {
    renderHook(() => useClusterSocket("tok"));
    const s = lastSocket();
    s.fire("connect");
    expect(useClusterStore.getState().connection).toBe("live");
    s.fire("nodes", [node("pve1"), node("pve2")]);
    s.fire("vms", [vm(100)]);
    s.fire("quorum", { quorate: true, nodes: 2, expected: 2 });
    s.fire("freshness", { stale: true, error: "boom" });
    s.fire("temperature", [{ node: "pve1", zones: { cpu: 50 } }]);
    const st = useClusterStore.getState();
    expect(st.nodes.map((n) => n.name)).toEqual(["pve1", "pve2"]);
    expect(st.vms).toHaveLength(1);
    expect(st.quorum?.expected).toBe(2);
    expect(st.freshness?.stale).toBe(true);
    expect(st.temperatures.pve1).toEqual({ cpu: 50 });
  });

  it("ignores malformed pushes instead of wiping good data", () => {
    renderHook(() => useClusterSocket("tok"));
    const s = lastSocket();
    s.fire("nodes", [node("pve1")]);
    s.fire("nodes", null);
    s.fire("nodes", { not: "a list" });
    expect(useClusterStore.getState().nodes).toHaveLength(1);
  });

  it("keeps data and shows RECONNECTING then OFFLINE while the server is gone", () => {
    renderHook(() => useClusterSocket("tok"));
    const s = lastSocket();
    s.fire("connect");
    s.fire("nodes", [node("pve1")]);
    s.fire("disconnect", "transport close");
    expect(useClusterStore.getState().connection).toBe("reconnecting");
    s.fire("connect_error", new Error("xhr poll error"));
    s.fire("connect_error", new Error("xhr poll error"));
    expect(useClusterStore.getState().connection).toBe("reconnecting");
    s.fire("connect_error", new Error("xhr poll error"));
    expect(useClusterStore.getState().connection).toBe("offline");
    expect(useClusterStore.getState().nodes).toHaveLength(1);
    s.fire("connect");
    expect(useClusterStore.getState().connection).toBe("live");
  });

  it("signs out when the server refuses the token", () => {
    renderHook(() => useClusterSocket("tok"));
    lastSocket().active = false;
    lastSocket().fire("connect_error", new Error("unauthorized"));
    expect(useAuthStore.getState().session).toBeNull();
  });

  it("retries by itself after a non-auth middleware refusal (the library would not)", () => {
    vi.useFakeTimers();
    try {
      renderHook(() => useClusterSocket("tok"));
      const s = lastSocket();
      s.active = false;
      s.fire("connect_error", new Error("server busy"));
      expect(s.connectCalls).toBe(1);
      vi.advanceTimersByTime(1_000);
      expect(s.connectCalls).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("exposes refresh only while connected, and disconnects on unmount", () => {
    const { unmount } = renderHook(() => useClusterSocket("tok"));
    const s = lastSocket();
    useClusterStore.getState().requestRefresh?.();
    expect(s.emitted).toEqual([]);
    s.fire("connect");
    useClusterStore.getState().requestRefresh?.();
    expect(s.emitted).toEqual(["refresh"]);
    unmount();
    expect(useClusterStore.getState().requestRefresh).toBeNull();
    expect(s.connected).toBe(false);
  });
});

describe("isAuthError", () => {
  it("recognises token refusals only", () => {
    expect(isAuthError({ message: "unauthorized" })).toBe(true);
    expect(isAuthError({ message: "Invalid or expired token" })).toBe(true);
    expect(isAuthError({ message: "xhr poll error" })).toBe(false);
    expect(isAuthError(null)).toBe(false);
  });
});
