import { beforeEach, describe, expect, it } from "vitest";
import { node, quorum, snapshot, storage, vm } from "../test/fixtures";
import { computeStaleness, useClusterStore } from "./cluster";

const state = () => useClusterStore.getState();

beforeEach(() => state().reset());

describe("cluster store", () => {
  it("loads a REST snapshot into every section", () => {
    state().loadSnapshot(snapshot());
    expect(state().nodes.map((n) => n.name)).toEqual(["pve1", "pve2", "pve3"]);
    expect(state().vms).toHaveLength(2);
    expect(state().storage).toHaveLength(1);
    expect(state().quorum).toEqual(quorum);
    expect(state().freshness?.stale).toBe(false);
  });

  it("replaces one section per push and leaves the others alone", () => {
    state().loadSnapshot(snapshot());
    const vmsBefore = state().vms;
    const storageBefore = state().storage;
    state().setNodes([node("pve1", { cpu: 0.9 })]);
    expect(state().nodes).toHaveLength(1);
    expect(state().nodes[0]?.cpu).toBe(0.9);
    expect(state().vms).toBe(vmsBefore);
    expect(state().storage).toBe(storageBefore);
  });

  it("keeps unchanged items' identity across pushes (so memoised rows skip re-rendering)", () => {
    state().setVms([vm(100), vm(101)]);
    const first = state().vms;
    state().setVms([vm(100), vm(101, { status: "stopped" })]);
    expect(state().vms[0]).toBe(first[0]);
    expect(state().vms[1]).not.toBe(first[1]);
    expect(state().vms[1]?.status).toBe("stopped");
  });

  it("ignores a REST snapshot that lands after live data (it would be older)", () => {
    state().setNodes([node("live")]);
    state().loadSnapshot(snapshot());
    expect(state().nodes.map((n) => n.name)).toEqual(["live"]);
  });

  it("keeps the last data when freshness turns stale (never blanks)", () => {
    state().loadSnapshot(snapshot());
    state().setFreshness({ stale: true, error: "PVE unreachable", updatedAt: "2026-11-21T10:00:00Z" });
    expect(state().nodes).toHaveLength(3);
    expect(state().freshness).toMatchObject({ stale: true, error: "PVE unreachable" });
  });

  it("merges temperature pushes by node name", () => {
    state().setTemperatures([{ node: "pve1", zones: { x86_pkg_temp: 51 } }]);
    const zones = state().temperatures.pve1;
    expect(zones).toEqual({ x86_pkg_temp: 51 });
    state().setTemperatures([
      { node: "pve1", zones: { x86_pkg_temp: 51 } },
      { node: "pve2", zones: { acpitz: 40 } },
    ]);
    expect(state().temperatures.pve1).toBe(zones);
    expect(state().temperatures.pve2).toEqual({ acpitz: 40 });
  });

  it("reset clears data and connection state", () => {
    state().loadSnapshot(snapshot());
    state().setStorage([storage("x", "pve1")]);
    state().setConnection("live");
    state().reset();
    expect(state().nodes).toEqual([]);
    expect(state().hasLiveData).toBe(false);
    expect(state().connection).toBe("connecting");
  });
});

describe("computeStaleness", () => {
  it("is fresh when the server says so and the socket is live", () => {
    expect(computeStaleness({ stale: false }, "live", true).stale).toBe(false);
  });
  it("is stale with the server's reason when the poll failed", () => {
    const s = computeStaleness({ stale: true, error: "timeout", updatedAt: "2026-11-21T10:00:00Z" }, "live", true);
    expect(s).toEqual({ stale: true, reason: "timeout", updatedAt: "2026-11-21T10:00:00Z" });
  });
  it("is stale when the socket is down and there is data on screen", () => {
    expect(computeStaleness({ stale: false }, "reconnecting", true)).toMatchObject({
      stale: true,
      reason: "connection to Jarvis lost",
    });
    expect(computeStaleness({ stale: false }, "offline", true).stale).toBe(true);
  });
  it("does not flag the first connection attempt or a socket loss with nothing shown", () => {
    expect(computeStaleness(null, "connecting", true).stale).toBe(false);
    expect(computeStaleness(null, "offline", false).stale).toBe(false);
  });
});
