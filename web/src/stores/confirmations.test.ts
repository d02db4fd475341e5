import { beforeEach, describe, expect, it } from "vitest";
import { confirmation } from "../test/fixtures";
import { useConfirmationsStore } from "./confirmations";

const store = () => useConfirmationsStore.getState();
const ids = () => store().pending.map((p) => p.id);
const NOW = Date.parse("2026-11-21T10:00:00Z");

beforeEach(() => store().reset());

describe("confirmations store", () => {
  it("loads the REST list, most urgent first, skipping already expired ones", () => {
    const since = store().beginLoad();
    store().loadPending(
      [confirmation("late", {}, 200_000, NOW), confirmation("soon", {}, 20_000, NOW), confirmation("old", {}, -1, NOW)],
      since,
      NOW,
    );
    expect(ids()).toEqual(["soon", "late"]);
  });

  it("merges pushes: a new pending one is added (partial), a decided one removed and not brought back by a late REST answer", () => {
    const since = store().beginLoad(); // REST request sent…
    store().applyEvent({ id: "new", status: "pending", tool: "stop_vm", summary: "Stop VM 5", tier: "red", expiresAt: new Date(NOW + 60_000).toISOString() }, NOW);
    store().applyEvent({ id: "gone", status: "executed", tool: "stop_vm", summary: "", tier: "red", expiresAt: "" }, NOW);
    // …and answered with a list that still had "gone" and did not yet have "new".
    store().loadPending([confirmation("gone", {}, 60_000, NOW), confirmation("kept", {}, 90_000, NOW)], since, NOW);
    expect(ids()).toEqual(["new", "kept"]);
    expect(store().pending.find((p) => p.id === "new")?.partial).toBe(true);
    expect(store().resolved.gone).toBe("executed");
  });

  it("a REST load replaces what it does not list any more (decided while we were away)", () => {
    store().upsert(confirmation("a", {}, 60_000, NOW));
    store().upsert(confirmation("b", {}, 60_000, NOW));
    const since = store().beginLoad();
    store().loadPending([confirmation("b", {}, 60_000, NOW)], since, NOW);
    expect(ids()).toEqual(["b"]);
  });

  it("the REST record fills in a push-only (partial) entry", () => {
    store().applyEvent({ id: "x", status: "pending", tool: "stop_vm", summary: "Stop", tier: "red", expiresAt: new Date(NOW + 60_000).toISOString() }, NOW);
    const since = store().beginLoad();
    store().loadPending([confirmation("x", { args: { node: "pve2", vmid: 205 } }, 60_000, NOW)], since, NOW);
    expect(store().pending[0]).toMatchObject({ id: "x", partial: false, args: { node: "pve2", vmid: 205 } });
  });

  it("a push carrying the whole record (args, createdAt) is complete at once", () => {
    store().applyEvent(
      {
        id: "full",
        status: "pending",
        tool: "shutdown_vm",
        summary: "Shut down VM 101",
        tier: "red",
        expiresAt: new Date(NOW + 60_000).toISOString(),
        args: { node: "pve1", vmid: 101 },
        createdAt: "2026-11-21T09:59:00Z",
      },
      NOW,
    );
    expect(store().pending[0]).toMatchObject({ partial: false, args: { node: "pve1", vmid: 101 }, createdAt: "2026-11-21T09:59:00Z" });
  });

  it("applyEvent returns the removed record (with its args) for denied / expired / failed", () => {
    store().upsert(confirmation("a", { args: { node: "pve1", vmid: 300 } }, 60_000, NOW));
    const removed = store().applyEvent({ id: "a", status: "denied", tool: "stop_vm", summary: "", tier: "red", expiresAt: "" }, NOW);
    expect(removed?.args.vmid).toBe(300);
    expect(ids()).toEqual([]);
    // A repeat of an already-final event, or a stale "pending", changes nothing.
    store().applyEvent({ id: "a", status: "pending", tool: "stop_vm", summary: "", tier: "red", expiresAt: new Date(NOW + 1000).toISOString() }, NOW);
    expect(ids()).toEqual([]);
  });

  it("prune drops expired ones (not those being decided) and remembers them as expired", () => {
    store().upsert(confirmation("a", {}, 1_000, NOW));
    store().upsert(confirmation("b", {}, 1_000, NOW));
    store().upsert(confirmation("c", {}, 60_000, NOW));
    store().setDeciding("b", "approve");
    const gone = store().prune(NOW + 2_000);
    expect(gone.map((g) => g.id)).toEqual(["a"]);
    expect(ids()).toEqual(["b", "c"]);
    expect(store().resolved.a).toBe("expired");
  });

  it("resolve clears the decision in flight and the tombstone blocks a later upsert", () => {
    store().upsert(confirmation("a", {}, 60_000, NOW));
    store().setDeciding("a", "deny");
    store().resolve("a", "denied");
    expect(store().deciding).toEqual({});
    store().upsert(confirmation("a", {}, 60_000, NOW));
    expect(ids()).toEqual([]);
  });
});
