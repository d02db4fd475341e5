import { describe, expect, it } from "vitest";
import { GiB, node, storage, vm } from "../../test/fixtures";
import { summarize, uniqueStorage } from "./summary";

describe("uniqueStorage", () => {
  it("lists a shared pool once and local pools per node", () => {
    const list = uniqueStorage([
      storage("local", "pve2"),
      storage("ceph", "pve2", { shared: true }),
      storage("local", "pve1"),
      storage("ceph", "pve1", { shared: true }),
    ]);
    expect(list.map((s) => `${s.storage}@${s.node}`)).toEqual(["ceph@pve1", "local@pve1", "local@pve2"]);
  });
});

describe("summarize", () => {
  it("counts guests without templates and weights CPU by cores of online nodes", () => {
    const s = summarize(
      [
        node("a", { cpu: 0.5, maxcpu: 4, mem: 4 * GiB, maxmem: 16 * GiB }),
        node("b", { cpu: 0.25, maxcpu: 12, mem: 12 * GiB, maxmem: 48 * GiB }),
        node("c", { status: "offline", cpu: 0, maxcpu: 8, mem: 0, maxmem: 64 * GiB }),
      ],
      [
        vm(1, { status: "running" }),
        vm(2, { status: "stopped" }),
        vm(3, { type: "lxc", status: "running" }),
        vm(4, { status: "stopped", template: true }),
      ],
      [storage("local", "a", { used: 10 * GiB, total: 100 * GiB }), storage("nfs", "a", { shared: true, used: 30 * GiB, total: 100 * GiB }), storage("nfs", "b", { shared: true, used: 30 * GiB, total: 100 * GiB })],
    );
    expect(s.nodesOnline).toBe(2);
    expect(s.nodesTotal).toBe(3);
    expect(s.guestsRunning).toBe(2);
    expect(s.guestsTotal).toBe(3);
    expect([s.vmsRunning, s.vmsTotal, s.ctsRunning, s.ctsTotal]).toEqual([1, 2, 1, 1]);
    expect(s.cores).toBe(16);
    expect(s.cpu).toBeCloseTo((0.5 * 4 + 0.25 * 12) / 16);
    expect(s.memUsed).toBe(16 * GiB);
    expect(s.memTotal).toBe(64 * GiB);
    expect(s.storageUsed).toBe(40 * GiB);
    expect(s.storageTotal).toBe(200 * GiB);
  });

  it("is all zeros for an empty cluster", () => {
    const s = summarize([], [], []);
    expect(s.cpu).toBe(0);
    expect(s.nodesTotal).toBe(0);
  });
});
