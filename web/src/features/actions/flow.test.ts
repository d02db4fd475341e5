import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "../../stores/auth";
import { useConfirmationsStore } from "../../stores/confirmations";
import { useGuestActionsStore } from "../../stores/guestActions";
import { confirmation, jsonResponse, vm } from "../../test/fixtures";
import { decide, handleConfirmationEvent, outcomeOfResult, runGuestAction } from "./flow";

type Route = (url: string, init: RequestInit | undefined) => Response | Promise<Response>;
let route: Route;
let fetchMock: ReturnType<typeof vi.fn>;

beforeEach(() => {
  useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
  useConfirmationsStore.getState().reset();
  useGuestActionsStore.getState().reset();
  route = () => jsonResponse(404, { error: { code: "not_found", message: "?" } });
  fetchMock = vi.fn(async (url: string, init?: RequestInit) => route(url, init));
  vi.stubGlobal("fetch", fetchMock);
});
afterEach(() => vi.unstubAllGlobals());

const guest = (vmid: number) => useGuestActionsStore.getState().byGuest[vmid];
const posts = (path: string) => fetchMock.mock.calls.filter(([url]) => url === path);

describe("runGuestAction", () => {
  it("YELLOW start runs directly: busy while in flight, then the task's outcome", async () => {
    let release!: (r: Response) => void;
    route = () => new Promise<Response>((r) => (release = r));
    const done = runGuestAction(vm(101, { status: "stopped" }), "start");
    expect(guest(101)).toMatchObject({ action: "start", busy: "executing" });
    release(jsonResponse(200, { status: "executed", tier: "yellow", result: { upid: "U", status: "OK", node: "pve1", vmid: 101, action: "start" }, auditId: 1 }));
    await done;
    expect(guest(101)).toMatchObject({ busy: null, outcome: { tone: "ok", text: "started · task OK" } });
    expect(JSON.parse(String(fetchMock.mock.calls[0]?.[1]?.body))).toEqual({ tool: "start_vm", args: { node: "pve1", vmid: 101 } });
  });

  it("containers use the *_container tools", async () => {
    route = () => jsonResponse(200, { status: "executed", tier: "yellow", result: { status: "OK" }, auditId: 1 });
    await runGuestAction(vm(200, { type: "lxc", status: "stopped" }), "start");
    expect(JSON.parse(String(fetchMock.mock.calls[0]?.[1]?.body))).toMatchObject({ tool: "start_container" });
  });

  it("RED stop: 202 puts the server's record in the pending list and opens the dialog on it", async () => {
    const c = confirmation("c1", { args: { node: "pve1", vmid: 100 } });
    route = () => jsonResponse(202, { status: "confirmation_required", tier: "red", confirmation: c });
    await runGuestAction(vm(100), "stop");
    const s = useConfirmationsStore.getState();
    expect(s.pending.map((p) => p.id)).toEqual(["c1"]);
    expect(s.dialogId).toBe("c1");
    expect(guest(100)).toBeUndefined();
  });

  it("asking again for an action already pending reopens its dialog instead of asking the server twice", async () => {
    useConfirmationsStore.getState().upsert(confirmation("c1", { tool: "stop_vm", args: { node: "pve1", vmid: 100 } }));
    await runGuestAction(vm(100), "stop");
    expect(fetchMock).not.toHaveBeenCalled();
    expect(useConfirmationsStore.getState().dialogId).toBe("c1");
  });

  it("423 and 403 put the server's own message in the row", async () => {
    route = () => jsonResponse(423, { error: { code: "kill_switch", message: "Kill switch is active" } });
    await runGuestAction(vm(101, { status: "stopped" }), "start");
    expect(guest(101)?.outcome).toEqual({ tone: "error", text: "Kill switch is active" });
    route = () => jsonResponse(403, { error: { code: "blocked", message: "VM 100 is protected" } });
    await runGuestAction(vm(100), "stop");
    expect(guest(100)?.outcome).toEqual({ tone: "error", text: "VM 100 is protected" });
  });

  it("a finished task with a non-OK status is an error", () => {
    expect(outcomeOfResult("stop", { status: "command 'qm stop' failed" })).toEqual({ tone: "error", text: "task failed: command 'qm stop' failed" });
  });
});

describe("decide", () => {
  beforeEach(() => useConfirmationsStore.getState().upsert(confirmation("c1", { args: { node: "pve1", vmid: 100 } })));

  it("approve → POST {decision: approve}; executed clears it and tells the row", async () => {
    route = () => jsonResponse(200, { status: "executed", result: { upid: "U", status: "OK", node: "pve1", vmid: 100, action: "stop" } });
    const out = await decide("c1", "approve");
    expect(out).toMatchObject({ ok: true, status: "executed" });
    expect(posts("/api/confirmations/c1")).toHaveLength(1);
    expect(JSON.parse(String(posts("/api/confirmations/c1")[0]?.[1]?.body))).toEqual({ decision: "approve" });
    expect(useConfirmationsStore.getState().pending).toEqual([]);
    expect(guest(100)?.outcome).toEqual({ tone: "ok", text: "stopped · task OK" });
  });

  it("deny → denied, nothing done", async () => {
    route = () => jsonResponse(200, { status: "denied" });
    await expect(decide("c1", "deny")).resolves.toMatchObject({ ok: true, status: "denied" });
    expect(useConfirmationsStore.getState().resolved.c1).toBe("denied");
    expect(guest(100)?.outcome?.text).toMatch(/denied/);
  });

  it("410 expired → final, removed, row says expired — ask again", async () => {
    route = () => jsonResponse(410, { error: { code: "expired", message: "gone" } });
    await expect(decide("c1", "approve")).resolves.toMatchObject({ ok: false, final: true, message: "expired — ask again" });
    expect(useConfirmationsStore.getState().pending).toEqual([]);
    expect(guest(100)?.outcome).toEqual({ tone: "error", text: "expired — ask again" });
  });

  it("423 at approval keeps it pending (asks the server again) and shows the message", async () => {
    route = (url) =>
      url === "/api/confirmations"
        ? jsonResponse(200, { confirmations: [confirmation("c1", { args: { node: "pve1", vmid: 100 } })] })
        : jsonResponse(423, { error: { code: "kill_switch", message: "Kill switch is active" } });
    const out = await decide("c1", "approve");
    expect(out).toMatchObject({ ok: false, final: false, message: "Kill switch is active" });
    await vi.waitFor(() => expect(posts("/api/confirmations")).toHaveLength(1));
    expect(useConfirmationsStore.getState().pending.map((p) => p.id)).toEqual(["c1"]);
    expect(useConfirmationsStore.getState().deciding).toEqual({});
  });
});

describe("handleConfirmationEvent", () => {
  it("an unknown pending one (from chat/MCP) triggers a reload to get its args", async () => {
    route = () => jsonResponse(200, { confirmations: [confirmation("x", { args: { node: "pve2", vmid: 222 } })] });
    handleConfirmationEvent({ id: "x", status: "pending", tool: "stop_vm", summary: "Stop VM 222", tier: "red", expiresAt: new Date(Date.now() + 60_000).toISOString() });
    expect(useConfirmationsStore.getState().pending[0]?.partial).toBe(true);
    await vi.waitFor(() => expect(useConfirmationsStore.getState().pending[0]?.args).toEqual({ node: "pve2", vmid: 222 }));
  });

  it("a pending push with the full record needs no reload", () => {
    handleConfirmationEvent({
      id: "y",
      status: "pending",
      tool: "stop_vm",
      summary: "Stop VM 101",
      tier: "red",
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      args: { node: "pve1", vmid: 101 },
    });
    expect(useConfirmationsStore.getState().pending[0]).toMatchObject({ id: "y", partial: false });
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("decided elsewhere: the row of that guest says so", () => {
    useConfirmationsStore.getState().upsert(confirmation("c1", { tool: "restart_container", args: { node: "pve1", vmid: 300 } }));
    handleConfirmationEvent({ id: "c1", status: "executed", tool: "restart_container", summary: "", tier: "red", expiresAt: "" });
    expect(guest(300)?.outcome).toEqual({ tone: "ok", text: "restarted · executed" });
    expect(useConfirmationsStore.getState().pending).toEqual([]);
  });
});
