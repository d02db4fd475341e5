import { beforeEach, describe, expect, it, vi } from "vitest";
import { registerSessionControl, useTerminalStore } from "./terminal";

const store = () => useTerminalStore.getState();

beforeEach(() => store().reset());

describe("terminal tabs", () => {
  it("numbers tabs from 1, never reusing a number, and activates the new one", () => {
    expect(store().open("pve1")).toBe(1);
    expect(store().open("pve2")).toBe(2);
    store().close(1);
    expect(store().open("pve3")).toBe(3);
    expect(store().tabs.map((t) => [t.id, t.node])).toEqual([
      [2, "pve2"],
      [3, "pve3"],
    ]);
    expect(store().activeId).toBe(3);
  });

  it("closing the active tab activates its left neighbour (or the first)", () => {
    store().open("a");
    store().open("b");
    store().open("c");
    store().activate(2);
    store().close(2);
    expect(store().activeId).toBe(1);
    store().close(1);
    expect(store().activeId).toBe(3);
    store().close(3);
    expect(store().activeId).toBeNull();
  });

  it("closing a live tab stops its session; a finished one is not stopped again", () => {
    const stop1 = vi.fn();
    const stop2 = vi.fn();
    store().open("a");
    store().open("b");
    registerSessionControl(1, { stop: stop1, focus: vi.fn() });
    registerSessionControl(2, { stop: stop2, focus: vi.fn() });
    store().setStatus(2, "closed", "exit 0");
    store().close(1);
    store().close(2);
    expect(stop1).toHaveBeenCalledTimes(1);
    expect(stop2).not.toHaveBeenCalled();
  });

  it("a finished session stays finished; unknown ids are ignored", () => {
    store().open("a");
    store().setStatus(1, "ready", "a");
    store().setStatus(1, "error", "ssh_failed: nope");
    store().setStatus(1, "ready", "a");
    store().setStatus(42, "ready", null);
    expect(store().tabs).toEqual([{ id: 1, node: "a", status: "error", detail: "ssh_failed: nope" }]);
  });

  it("opening a session expands a collapsed panel; toggle flips it", () => {
    store().toggleCollapsed();
    expect(store().collapsed).toBe(true);
    store().open("a");
    expect(store().collapsed).toBe(false);
    store().toggleCollapsed();
    expect(store().collapsed).toBe(true);
  });
});
