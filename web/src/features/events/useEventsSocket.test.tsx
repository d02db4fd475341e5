import { renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "../../stores/auth";
import { useConfirmationsStore } from "../../stores/confirmations";
import { MAX_EVENTS, useEventsStore } from "../../stores/events";
import { useIncidentsStore } from "../../stores/incidents";
import { useMonitorStore } from "../../stores/monitor";
import { newFakeSocket, type FakeSocket } from "../../test/fakeSocket";
import { confirmation, event, incident, jsonResponse, monitorStatus } from "../../test/fixtures";

const sockets: FakeSocket[] = [];
vi.mock("socket.io-client", () => ({
  io: (ns: string, opts: Record<string, unknown>) => newFakeSocket(sockets, ns, opts),
}));

const { STATUS_POLL_MS, useEventsSocket } = await import("./useEventsSocket");

const status = (killSwitch: boolean) => monitorStatus({ autonomyLevel: 1, killSwitch });
let pendingOnServer = [confirmation("rest-1", {}, 120_000)];
let fetchMock: ReturnType<typeof vi.fn>;

beforeEach(() => {
  sockets.length = 0;
  useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
  useConfirmationsStore.getState().reset();
  useMonitorStore.getState().reset();
  useEventsStore.getState().reset();
  useIncidentsStore.getState().reset();
  pendingOnServer = [confirmation("rest-1", {}, 120_000)];
  fetchMock = vi.fn(async (url: string) => {
    if (url === "/api/confirmations") return jsonResponse(200, { confirmations: pendingOnServer });
    if (url === "/api/monitor/status") return jsonResponse(200, status(false));
    if (url === "/api/monitor/incidents?state=open&limit=100") return jsonResponse(200, { incidents: [incident("rest")] });
    if (url === "/api/events?limit=100") return jsonResponse(200, { events: [event("rest-ev")] });
    return jsonResponse(404, { error: { code: "not_found", message: "?" } });
  });
  vi.stubGlobal("fetch", fetchMock);
});
afterEach(() => vi.unstubAllGlobals());

const socket = () => {
  const s = sockets.at(-1);
  if (!s) throw new Error("no socket");
  return s;
};
const pendingIds = () => useConfirmationsStore.getState().pending.map((p) => p.id);
const calls = (url: string) => fetchMock.mock.calls.filter(([u]) => u === url).length;

describe("useEventsSocket", () => {
  it("connects to /events on its own connection with the token", () => {
    renderHook(() => useEventsSocket("tok"));
    expect(socket().namespace).toBe("/events");
    expect(socket().opts).toMatchObject({ path: "/socket.io", auth: { token: "tok" }, forceNew: true });
    expect(socket().connectCalls).toBe(1);
  });

  it("loads pending confirmations and the kill switch over REST on mount (survives reload)", async () => {
    renderHook(() => useEventsSocket("tok"));
    await vi.waitFor(() => expect(pendingIds()).toEqual(["rest-1"]));
    await vi.waitFor(() => expect(useMonitorStore.getState().killSwitch).toBe(false));
  });

  it("merges confirmation pushes with the REST list and drops decided ones", async () => {
    renderHook(() => useEventsSocket("tok"));
    await vi.waitFor(() => expect(pendingIds()).toEqual(["rest-1"]));
    const s = socket();
    s.fire("connect");
    const newOne = confirmation("push-1", { summary: "Stop CT 201" }, 60_000);
    pendingOnServer = [...pendingOnServer, newOne];
    s.fire("confirmation", { id: "push-1", status: "pending", tool: "stop_container", summary: "Stop CT 201", tier: "red", expiresAt: newOne.expiresAt });
    expect(pendingIds()).toEqual(["push-1", "rest-1"]);
    // The unknown one was fetched in full (args) from the server.
    await vi.waitFor(() => expect(useConfirmationsStore.getState().pending.find((p) => p.id === "push-1")?.partial).toBe(false));
    s.fire("confirmation", { id: "rest-1", status: "expired", tool: "stop_vm", summary: "", tier: "red", expiresAt: "" });
    s.fire("confirmation", { id: "push-1", status: "denied", tool: "stop_container", summary: "", tier: "red", expiresAt: "" });
    expect(pendingIds()).toEqual([]);
    s.fire("confirmation", { garbage: true });
    expect(pendingIds()).toEqual([]);
  });

  it("applies monitor:status pushes (kill switch from another operator)", () => {
    renderHook(() => useEventsSocket("tok"));
    socket().fire("monitor:status", status(true));
    expect(useMonitorStore.getState().killSwitch).toBe(true);
    socket().fire("monitor:status", { nonsense: 1 });
    expect(useMonitorStore.getState().killSwitch).toBe(true);
  });

  it("keeps the latest 100 events, newest first", () => {
    renderHook(() => useEventsSocket("tok"));
    for (let i = 0; i < MAX_EVENTS + 5; i += 1) {
      socket().fire("event", { id: i, type: "status", severity: "info", title: `e${i}`, message: "", source: "monitor", timestamp: "t", resolved: false });
    }
    const events = useEventsStore.getState().events;
    expect(events).toHaveLength(MAX_EVENTS);
    expect(events[0]?.title).toBe(`e${MAX_EVENTS + 4}`);
  });

  it("catches up over REST after a reconnect", async () => {
    renderHook(() => useEventsSocket("tok"));
    await vi.waitFor(() => expect(calls("/api/confirmations")).toBe(1));
    socket().fire("connect");
    expect(calls("/api/confirmations")).toBe(1); // first connect: the mount load covers it
    socket().fire("disconnect", "transport close");
    pendingOnServer = [];
    socket().fire("connect");
    await vi.waitFor(() => expect(calls("/api/confirmations")).toBe(2));
    await vi.waitFor(() => expect(pendingIds()).toEqual([]));
    expect(calls("/api/monitor/status")).toBe(2);
  });

  it("upserts incident pushes and ignores malformed ones", () => {
    renderHook(() => useEventsSocket("tok"));
    socket().fire("incident", incident("i1"));
    socket().fire("incident", { ...incident("i1"), state: "acknowledged", timeline: [...incident("i1").timeline, { at: "2026-11-21T10:01:00.000Z", kind: "acknowledged", detail: "" }] });
    socket().fire("incident", { id: "broken", state: "sideways" });
    socket().fire("incident", "nonsense");
    expect(Object.keys(useIncidentsStore.getState().byId)).toEqual(["i1"]);
    expect(useIncidentsStore.getState().byId.i1?.state).toBe("acknowledged");
    expect(useIncidentsStore.getState().pushRev).toBe(2);
  });

  it("tracks the connection and, after a reconnect, reloads the feed and the incident tabs already shown", async () => {
    await useIncidentsStore.getState().load("open");
    await useEventsStore.getState().load();
    renderHook(() => useEventsSocket("tok"));
    socket().fire("connect");
    expect(useEventsStore.getState().live).toBe(true);
    socket().fire("disconnect", "transport close");
    expect(useEventsStore.getState().live).toBe(false);
    socket().fire("connect");
    await vi.waitFor(() => expect(calls("/api/monitor/incidents?state=open&limit=100")).toBe(2));
    expect(calls("/api/events?limit=100")).toBe(2);
    // Tabs never shown are not loaded behind the operator's back.
    expect(calls("/api/monitor/incidents?state=resolved&limit=100")).toBe(0);
    expect(useEventsStore.getState().live).toBe(true);
  });

  it("polls the monitor status (the server does not push run times)", async () => {
    vi.useFakeTimers();
    try {
      renderHook(() => useEventsSocket("tok"));
      await vi.advanceTimersByTimeAsync(0);
      expect(calls("/api/monitor/status")).toBe(1);
      await vi.advanceTimersByTimeAsync(STATUS_POLL_MS * 2);
      expect(calls("/api/monitor/status")).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it("signs out when the token is refused, and disconnects on unmount", () => {
    const { unmount } = renderHook(() => useEventsSocket("tok"));
    const s = socket();
    s.fire("connect_error", new Error("unauthorized"));
    expect(useAuthStore.getState().session).toBeNull();
    unmount();
    expect(s.disconnectCalls).toBeGreaterThan(0);
  });
});
