import { describe, expect, it } from "vitest";
import { incident } from "../test/fixtures";
import type { Incident } from "../lib/types/monitor";
import { isNewer, mergeIncidentList, selectByState, upsertIncident, type IncidentMap } from "./incidentsReducer";

const entry = (at: string, kind: Incident["timeline"][number]["kind"] = "note") => ({ at, kind, detail: kind });
const acked = (inc: Incident): Incident => ({
  ...inc,
  state: "acknowledged",
  acknowledgedAt: "2026-11-21T10:05:00.000Z",
  timeline: [...inc.timeline, entry("2026-11-21T10:05:00.000Z", "acknowledged")],
});
const ids = (list: Incident[]) => list.map((i) => i.id);

describe("incidents reducer", () => {
  it("an upsert from the socket adds, replaces and moves an incident between tabs", () => {
    let map: IncidentMap = {};
    map = upsertIncident(map, incident("a"));
    map = upsertIncident(map, incident("b", { openedAt: "2026-11-21T10:01:00.000Z" }));
    expect(ids(selectByState(map, "open"))).toEqual(["b", "a"]);
    map = upsertIncident(map, acked(incident("a")));
    expect(ids(selectByState(map, "open"))).toEqual(["b"]);
    expect(ids(selectByState(map, "acknowledged"))).toEqual(["a"]);
    expect(map.a?.acknowledgedAt).toBe("2026-11-21T10:05:00.000Z");
  });

  it("ignores an older copy that arrives after a newer one", () => {
    const newer = acked(incident("a"));
    const map = upsertIncident({ a: newer }, incident("a"));
    expect(map.a).toBe(newer);
    expect(isNewer(incident("a"), newer)).toBe(false);
    // Same reach: the incoming copy wins (the server said it last).
    expect(isNewer(incident("a", { title: "x" }), incident("a"))).toBe(true);
    // A longer timeline with the same last time is newer.
    const longer = incident("a", { timeline: [...incident("a").timeline, entry("2026-11-21T10:00:00.000Z")] });
    expect(isNewer(longer, incident("a"))).toBe(true);
    expect(isNewer(incident("a"), longer)).toBe(false);
  });

  it("a complete list drops incidents that left its state while we were away", () => {
    const map: IncidentMap = { a: incident("a"), b: incident("b"), r: incident("r", { state: "resolved" }) };
    const merged = mergeIncidentList(map, "open", [incident("b")], 100);
    expect(ids(selectByState(merged, "open"))).toEqual(["b"]);
    expect(merged.a).toBeUndefined();
    expect(merged.r).toBeDefined(); // another state: untouched
  });

  it("a list cut at its limit only drops what falls inside the span it covers", () => {
    const old = incident("old", { openedAt: "2026-11-20T00:00:00.000Z" });
    const gone = incident("gone", { openedAt: "2026-11-21T10:30:00.000Z" });
    const listed = [incident("n1", { openedAt: "2026-11-21T11:00:00.000Z" }), incident("n2", { openedAt: "2026-11-21T10:00:00.000Z" })];
    const merged = mergeIncidentList({ old, gone }, "open", listed, 2);
    expect(ids(selectByState(merged, "open"))).toEqual(["n1", "n2", "old"]);
  });

  it("pushes received while the list was in flight win over it", () => {
    const pushed = acked(incident("a"));
    const merged = mergeIncidentList({ a: pushed }, "open", [incident("a")], 100, [pushed]);
    expect(merged.a?.state).toBe("acknowledged");
    expect(selectByState(merged, "open")).toEqual([]);
  });

  it("keeps at most the given number, dropping the oldest resolved ones first", () => {
    let map: IncidentMap = {};
    map = upsertIncident(map, incident("r1", { state: "resolved", resolvedAt: "2026-11-21T09:00:00.000Z" }), 3);
    map = upsertIncident(map, incident("r2", { state: "resolved", resolvedAt: "2026-11-21T12:00:00.000Z" }), 3);
    map = upsertIncident(map, incident("o1", { openedAt: "2026-11-01T00:00:00.000Z" }), 3);
    map = upsertIncident(map, incident("o2"), 3);
    expect(Object.keys(map).sort()).toEqual(["o1", "o2", "r2"]);
  });

  it("orders resolved incidents by when they resolved", () => {
    const map: IncidentMap = {
      x: incident("x", { state: "resolved", openedAt: "2026-11-21T12:00:00.000Z", resolvedAt: "2026-11-21T12:01:00.000Z" }),
      y: incident("y", { state: "resolved", openedAt: "2026-11-21T08:00:00.000Z", resolvedAt: "2026-11-21T13:00:00.000Z" }),
    };
    expect(ids(selectByState(map, "resolved"))).toEqual(["y", "x"]);
  });
});
