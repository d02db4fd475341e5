import { describe, expect, it, vi } from "vitest";

async function freshUiStore() {
  vi.resetModules();
  return (await import("./ui")).useUiStore;
}

describe("ui store", () => {
  it("defaults to jarvis mode and the amber theme", async () => {
    const store = await freshUiStore();
    expect(store.getState()).toMatchObject({ visualMode: "jarvis", colorTheme: "amber", focusedPanel: null });
  });

  it("persists mode and theme and restores them on the next load", async () => {
    let store = await freshUiStore();
    store.getState().setColorTheme("cyan");
    store.getState().setVisualMode("ops");
    store = await freshUiStore();
    expect(store.getState()).toMatchObject({ visualMode: "ops", colorTheme: "cyan" });
  });

  it("ignores unknown stored values instead of applying them", async () => {
    localStorage.setItem("jarvis-ui", JSON.stringify({ visualMode: "disco", colorTheme: "pink" }));
    const store = await freshUiStore();
    expect(store.getState()).toMatchObject({ visualMode: "jarvis", colorTheme: "amber" });
  });
});
