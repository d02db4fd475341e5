import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { eventMatches, eventsQuery, NO_FILTER } from "../lib/eventsApi";
import { stubApi } from "../test/fakeApi";
import { event, jsonResponse } from "../test/fixtures";
import { useAuthStore } from "./auth";
import { applyEventPush, mergeLoaded, useEventsStore } from "./events";

const t = (minute: number) => `2026-11-21T10:${String(minute).padStart(2, "0")}:00.000Z`;
const ids = () => useEventsStore.getState().events.map((e) => e.id);

beforeEach(() => {
  useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
  useEventsStore.getState().reset();
});
afterEach(() => vi.unstubAllGlobals());

describe("feed filters", () => {
  it("build the query the server understands, only with what is set", () => {
    expect(eventsQuery(NO_FILTER)).toBe("limit=100");
    expect(eventsQuery({ severity: "error", node: "pve 2", type: "alert", unresolvedOnly: true })).toBe(
      "limit=100&type=alert&severity=error&node=pve+2&unresolved=true",
    );
  });

  it("match live events by the same rule", () => {
    const f = { severity: "error" as const, node: "pve1", type: null, unresolvedOnly: true };
    expect(eventMatches(f, event("1"))).toBe(true);
    expect(eventMatches(f, event("2", { severity: "warning" }))).toBe(false);
    expect(eventMatches(f, event("3", { node: "pve2" }))).toBe(false);
    expect(eventMatches(f, event("4", { node: undefined }))).toBe(false);
    expect(eventMatches(f, event("5", { resolved: true }))).toBe(false);
    expect(eventMatches({ ...NO_FILTER, type: "action" }, event("6"))).toBe(false);
  });

  it("a push is inserted newest first, replaces its older copy, and leaves when it stops matching", () => {
    const f = { ...NO_FILTER, unresolvedOnly: true };
    let list = applyEventPush([], event("a", { timestamp: t(1) }), f);
    list = applyEventPush(list, event("b", { timestamp: t(3) }), f);
    list = applyEventPush(list, event("c", { timestamp: t(2) }), f);
    expect(list.map((e) => e.id)).toEqual(["b", "c", "a"]);
    list = applyEventPush(list, event("c", { timestamp: t(2), acknowledgedAt: t(4) }), f);
    expect(list.find((e) => e.id === "c")?.acknowledgedAt).toBe(t(4));
    list = applyEventPush(list, event("b", { timestamp: t(3), resolved: true }), f);
    expect(list.map((e) => e.id)).toEqual(["c", "a"]);
    // A non-matching push of an unknown id changes nothing (same array).
    expect(applyEventPush(list, event("z", { resolved: true }), f)).toBe(list);
  });

  it("a load's answer keeps pushes that arrived meanwhile", () => {
    const merged = mergeLoaded([event("a", { timestamp: t(1) })], [event("b", { timestamp: t(2) }), event("a", { timestamp: t(1), resolved: true })], NO_FILTER);
    expect(merged.map((e) => [e.id, e.resolved])).toEqual([
      ["b", false],
      ["a", true],
    ]);
  });
});

describe("events store", () => {
  it("loads with the filter, reloads when it changes, and merges pushes received during a load", async () => {
    let release!: (r: Response) => void;
    const api = stubApi((req) => {
      if (req.url === "/api/events?limit=100") return jsonResponse(200, { events: [event("old", { timestamp: t(1) })] });
      if (req.url === "/api/events?limit=100&severity=critical") return new Promise<Response>((r) => (release = r));
      return undefined;
    });
    await useEventsStore.getState().load();
    expect(ids()).toEqual(["old"]);
    expect(useEventsStore.getState()).toMatchObject({ loaded: true, error: null });

    useEventsStore.getState().setFilter({ severity: "critical" });
    expect(useEventsStore.getState().events).toEqual([]); // "old" is an error, not critical
    useEventsStore.getState().addEvent(event("live", { severity: "critical", timestamp: t(9) }));
    useEventsStore.getState().addEvent(event("noise", { severity: "info", timestamp: t(9) }));
    release(jsonResponse(200, { events: [event("crit", { severity: "critical", timestamp: t(5) })] }));
    await vi.waitFor(() => expect(ids()).toEqual(["live", "crit"]));
    expect(api.calls.map((c) => c.url)).toEqual(["/api/events?limit=100", "/api/events?limit=100&severity=critical"]);
  });

  it("keeps the last data and says why when a load fails", async () => {
    stubApi(() => jsonResponse(200, { events: [event("a")] }));
    await useEventsStore.getState().load();
    stubApi(() => jsonResponse(503, { error: { code: "unavailable", message: "database busy" } }));
    await useEventsStore.getState().load();
    expect(ids()).toEqual(["a"]);
    expect(useEventsStore.getState().error).toBe("Could not load the activity feed: database busy");
  });

  it("ack and resolve post to the server and apply its answer; failures are kept per event", async () => {
    const api = stubApi((req) => {
      if (req.method === "POST" && req.url === "/api/events/a/ack") return jsonResponse(200, event("a", { acknowledgedAt: t(7) }));
      if (req.method === "POST" && req.url === "/api/events/b/resolve") return jsonResponse(404, { error: { code: "not_found", message: "no event b" } });
      return undefined;
    });
    useEventsStore.getState().addEvent(event("a"));
    useEventsStore.getState().addEvent(event("b"));
    await useEventsStore.getState().act("a", "ack");
    expect(useEventsStore.getState().events.find((e) => e.id === "a")?.acknowledgedAt).toBe(t(7));
    await useEventsStore.getState().act("b", "resolve");
    expect(useEventsStore.getState().actionErrors.b).toBe("Could not resolve: no event b");
    expect(useEventsStore.getState().busy).toEqual({});
    expect(api.calls.map((c) => `${c.method} ${c.url}`)).toEqual(["POST /api/events/a/ack", "POST /api/events/b/resolve"]);
  });
});
