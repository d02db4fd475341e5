import { afterEach, describe, expect, it, vi } from "vitest";
import { confirmation, jsonResponse } from "../test/fixtures";
import {
  decideConfirmation,
  executeTool,
  fetchConfirmations,
  fetchMonitorStatus,
  parseConfirmationEvent,
  putKillSwitch,
} from "./actionsApi";
import { ApiError } from "./api";

afterEach(() => vi.unstubAllGlobals());

function stubFetch(...responses: Response[]) {
  const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => {
    const next = responses.shift();
    if (!next) throw new Error("unexpected extra request");
    return next;
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

const sentBody = (mock: ReturnType<typeof stubFetch>, call = 0): unknown => JSON.parse(String(mock.mock.calls[call]?.[1]?.body));

describe("executeTool", () => {
  it("posts {tool, args} with the token and no confirmed flag; 200 → executed with the result", async () => {
    const fetchMock = stubFetch(
      jsonResponse(200, { status: "executed", tier: "yellow", result: { upid: "UPID:x", status: "OK", node: "pve1", vmid: 101, action: "start" }, auditId: 7 }),
    );
    const res = await executeTool("tok", "start_vm", { node: "pve1", vmid: 101 });
    expect(res).toEqual({
      status: "executed",
      tier: "yellow",
      result: { upid: "UPID:x", status: "OK", node: "pve1", vmid: 101, action: "start" },
      auditId: 7,
    });
    expect(fetchMock.mock.calls[0]?.[0]).toBe("/api/tools/execute");
    expect(fetchMock.mock.calls[0]?.[1]).toMatchObject({ method: "POST", headers: { Authorization: "Bearer tok" } });
    expect(sentBody(fetchMock)).toEqual({ tool: "start_vm", args: { node: "pve1", vmid: 101 } });
    expect(JSON.stringify(sentBody(fetchMock))).not.toContain("confirmed");
  });

  it("202 → the server's confirmation record, vmid still an integer", async () => {
    const c = confirmation("c-1", { tool: "stop_vm", args: { node: "pve1", vmid: 100 } });
    stubFetch(jsonResponse(202, { status: "confirmation_required", tier: "red", confirmation: c }));
    const res = await executeTool("tok", "stop_vm", { node: "pve1", vmid: 100 });
    expect(res.status).toBe("confirmation_required");
    if (res.status !== "confirmation_required") return;
    expect(res.confirmation).toEqual(c);
    expect(res.confirmation.args.vmid).toBe(100);
  });

  it("a 202 record without tier/createdAt takes the response's tier", async () => {
    stubFetch(
      jsonResponse(202, {
        status: "confirmation_required",
        tier: "red",
        confirmation: { id: 9, tool: "stop_vm", args: { node: "a", vmid: 1 }, summary: "Stop", expiresAt: "2099-01-01T00:00:00Z" },
      }),
    );
    const res = await executeTool("tok", "stop_vm", { node: "a", vmid: 1 });
    expect(res).toMatchObject({ status: "confirmation_required", confirmation: { id: "9", tier: "red" } });
  });

  it("423 kill_switch and 403 blocked surface as ApiError with the server's message", async () => {
    stubFetch(
      jsonResponse(423, { error: { code: "kill_switch", message: "Kill switch is active: no actions run" } }),
      jsonResponse(403, { error: { code: "blocked", message: "VM 100 is protected" } }),
    );
    const killed = await executeTool("tok", "start_vm", { node: "a", vmid: 1 }).catch((e: unknown) => e);
    expect(killed).toBeInstanceOf(ApiError);
    expect(killed).toMatchObject({ status: 423, code: "kill_switch", message: "Kill switch is active: no actions run" });
    const blocked = await executeTool("tok", "stop_vm", { node: "a", vmid: 100 }).catch((e: unknown) => e);
    expect(blocked).toMatchObject({ status: 403, code: "blocked", message: "VM 100 is protected" });
  });

  it("rejects a body that is neither executed nor confirmation_required", async () => {
    stubFetch(jsonResponse(200, { status: "maybe" }), jsonResponse(202, { status: "confirmation_required", confirmation: { id: "x" } }));
    await expect(executeTool("tok", "x", {})).rejects.toMatchObject({ code: "bad_response" });
    await expect(executeTool("tok", "x", {})).rejects.toMatchObject({ code: "bad_response" });
  });
});

describe("confirmations", () => {
  it("GET /api/confirmations → parsed list (malformed entries dropped)", async () => {
    const c = confirmation("a");
    stubFetch(jsonResponse(200, { confirmations: [c, { nope: true }] }));
    await expect(fetchConfirmations("tok")).resolves.toEqual([c]);
  });

  it("POST /api/confirmations/{id} sends the decision; 410 expired arrives as ApiError", async () => {
    const fetchMock = stubFetch(
      jsonResponse(200, { status: "executed", result: { status: "OK" } }),
      jsonResponse(410, { error: { code: "expired", message: "confirmation expired" } }),
    );
    await expect(decideConfirmation("tok", "a/b", "approve")).resolves.toEqual({ status: "executed", result: { status: "OK" } });
    expect(fetchMock.mock.calls[0]?.[0]).toBe("/api/confirmations/a%2Fb");
    expect(sentBody(fetchMock)).toEqual({ decision: "approve" });
    await expect(decideConfirmation("tok", "a", "deny")).rejects.toMatchObject({ status: 410, code: "expired" });
    expect(sentBody(fetchMock, 1)).toEqual({ decision: "deny" });
  });

  it("parses socket confirmation events and rejects unknown statuses", () => {
    expect(parseConfirmationEvent({ id: 3, status: "denied", tool: "stop_vm", summary: "s", tier: "red", expiresAt: "x" })).toMatchObject({
      id: "3",
      status: "denied",
    });
    expect(parseConfirmationEvent({ id: "3", status: "weird" })).toBeNull();
    // The server may push the whole record: args and createdAt are kept.
    expect(
      parseConfirmationEvent({ id: "4", status: "pending", tool: "stop_vm", summary: "s", tier: "red", expiresAt: "x", args: { vmid: 1 }, createdAt: "c", actor: "operator" }),
    ).toMatchObject({ args: { vmid: 1 }, createdAt: "c" });
    expect(parseConfirmationEvent(null)).toBeNull();
  });
});

describe("monitor", () => {
  it("reads the status and PUTs the kill switch", async () => {
    const fetchMock = stubFetch(
      jsonResponse(200, { running: true, autonomyLevel: 2, killSwitch: false, activeRemediations: 0, lastPoll: null }),
      jsonResponse(200, { killSwitch: true }),
    );
    await expect(fetchMonitorStatus("tok")).resolves.toMatchObject({ killSwitch: false, autonomyLevel: 2 });
    await expect(putKillSwitch("tok", true)).resolves.toEqual({ killSwitch: true });
    expect(fetchMock.mock.calls[1]?.[0]).toBe("/api/monitor/killswitch");
    expect(fetchMock.mock.calls[1]?.[1]?.method).toBe("PUT");
    expect(sentBody(fetchMock, 1)).toEqual({ active: true });
  });
});
