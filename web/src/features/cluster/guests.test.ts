import { describe, expect, it } from "vitest";
import { vm } from "../../test/fixtures";
import { filterGuests, guestLabel, sortGuests } from "./guests";

describe("sortGuests", () => {
  it("orders running → paused → stopped → unknown, then by vmid, templates last", () => {
    const list = [
      vm(300, { status: "stopped" }),
      vm(900, { status: "stopped", template: true }),
      vm(200, { status: "running" }),
      vm(150, { status: "paused" }),
      vm(100, { status: "stopped" }),
      vm(120, { status: "running" }),
      vm(50, { status: "unknown" }),
    ];
    expect(sortGuests(list).map((v) => v.vmid)).toEqual([120, 200, 150, 100, 300, 50, 900]);
  });
  it("does not mutate its input", () => {
    const list = [vm(2, { status: "stopped" }), vm(1)];
    sortGuests(list);
    expect(list.map((v) => v.vmid)).toEqual([2, 1]);
  });
});

describe("filterGuests", () => {
  const list = [
    vm(100, { name: "web-frontend", type: "qemu", node: "pve1", tags: ["prod"] }),
    vm(101, { name: "db", type: "lxc", node: "pve2" }),
    vm(202, { name: "web-staging", type: "lxc", node: "pve2", tags: ["staging"] }),
  ];
  const ids = (l: typeof list) => l.map((v) => v.vmid);

  it("passes everything with an empty query and ALL", () => {
    expect(ids(filterGuests(list, "  ", "all"))).toEqual([100, 101, 202]);
  });
  it("filters by kind", () => {
    expect(ids(filterGuests(list, "", "qemu"))).toEqual([100]);
    expect(ids(filterGuests(list, "", "lxc"))).toEqual([101, 202]);
  });
  it("matches name, vmid, node and tags case-insensitively; all terms must match", () => {
    expect(ids(filterGuests(list, "WEB", "all"))).toEqual([100, 202]);
    expect(ids(filterGuests(list, "10", "all"))).toEqual([100, 101]);
    expect(ids(filterGuests(list, "web pve2", "all"))).toEqual([202]);
    expect(ids(filterGuests(list, "prod", "all"))).toEqual([100]);
    expect(ids(filterGuests(list, "web", "lxc"))).toEqual([202]);
    expect(ids(filterGuests(list, "nothing", "all"))).toEqual([]);
  });
});

describe("guestLabel", () => {
  it("falls back to VM/CT + vmid for unnamed guests", () => {
    expect(guestLabel(vm(7, { name: "" }))).toBe("VM 7");
    expect(guestLabel(vm(8, { name: " ", type: "lxc" }))).toBe("CT 8");
    expect(guestLabel(vm(9, { name: "x" }))).toBe("x");
  });
});
