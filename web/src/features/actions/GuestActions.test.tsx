import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "../../stores/auth";
import { useClusterStore } from "../../stores/cluster";
import { useConfirmationsStore } from "../../stores/confirmations";
import { useGuestActionsStore } from "../../stores/guestActions";
import { useMonitorStore } from "../../stores/monitor";
import { confirmation, jsonResponse, node, vm } from "../../test/fixtures";
import { VmList } from "../cluster/VmList";
import { ConfirmDialog } from "./ConfirmDialog";
import { PendingConfirmations } from "./PendingConfirmations";

let fetchMock: ReturnType<typeof vi.fn>;
let answer: (url: string) => Response | Promise<Response>;

beforeEach(() => {
  useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
  useClusterStore.getState().reset();
  useConfirmationsStore.getState().reset();
  useGuestActionsStore.getState().reset();
  useMonitorStore.getState().reset();
  answer = () => jsonResponse(500, { error: { code: "boom", message: "unexpected" } });
  fetchMock = vi.fn(async (url: string) => answer(url));
  vi.stubGlobal("fetch", fetchMock);
  useClusterStore.getState().setNodes([node("pve1")]);
  useClusterStore.getState().setVms([
    vm(100, { status: "running" }),
    vm(101, { status: "stopped" }),
    vm(102, { status: "paused" }),
    vm(9000, { status: "stopped", template: true }),
    vm(200, { status: "running", type: "lxc" }),
  ]);
});
afterEach(() => vi.unstubAllGlobals());

function renderAll() {
  return render(
    <>
      <PendingConfirmations />
      <VmList />
      <ConfirmDialog />
    </>,
  );
}

describe("guest action buttons", () => {
  it("running: shutdown/restart/stop; stopped: start; paused and templates: none", () => {
    renderAll();
    const buttons = (vmid: number) =>
      within(screen.getByTestId(`vm-row-${vmid}`))
        .queryAllByRole("button")
        .map((b) => b.dataset.testid);
    expect(buttons(100)).toEqual(["vm-action-shutdown-100", "vm-action-restart-100", "vm-action-stop-100"]);
    expect(buttons(101)).toEqual(["vm-action-start-101"]);
    expect(buttons(102)).toEqual([]);
    expect(buttons(9000)).toEqual([]);
    expect(buttons(200)).toEqual(["vm-action-shutdown-200", "vm-action-restart-200", "vm-action-stop-200"]);
  });

  it("stop → 202 → the dialog from the server's record; Esc leaves it pending, listed, and reviewable from the row", async () => {
    answer = () =>
      jsonResponse(202, {
        status: "confirmation_required",
        tier: "red",
        confirmation: confirmation("c9", { summary: "Stop VM 100 (guest-100) on node pve1", args: { node: "pve1", vmid: 100 } }),
      });
    renderAll();
    await act(async () => fireEvent.click(screen.getByTestId("vm-action-stop-100")));
    expect(screen.getByTestId("confirm-summary")).toHaveTextContent("Stop VM 100");
    fireEvent.keyDown(screen.getByTestId("confirm-dialog"), { key: "Escape" });
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
    expect(screen.getByTestId("pending-confirmations")).toHaveTextContent("PENDING AUTHORIZATION (1)");
    expect(screen.getByTestId("pending-item-c9")).toHaveTextContent("Stop VM 100");
    expect(screen.getByTestId("vm-action-pending-100")).toHaveTextContent("awaiting authorization");
    fireEvent.click(screen.getByTestId("vm-action-review-100"));
    expect(screen.getByTestId("confirm-dialog")).toBeInTheDocument();
  });

  it("disables the guest's buttons while its action runs and shows progress, then the result", async () => {
    let release!: (r: Response) => void;
    answer = () => new Promise<Response>((r) => (release = r));
    renderAll();
    fireEvent.click(screen.getByTestId("vm-action-start-101"));
    expect(screen.getByTestId("vm-action-start-101")).toBeDisabled();
    expect(screen.getByTestId("vm-action-status-101")).toHaveTextContent("starting…");
    // Other guests are not affected.
    expect(screen.getByTestId("vm-action-stop-100")).toBeEnabled();
    await act(async () => release(jsonResponse(200, { status: "executed", tier: "yellow", result: { status: "OK" }, auditId: 3 })));
    expect(screen.getByTestId("vm-action-start-101")).toBeEnabled();
    expect(screen.getByTestId("vm-action-status-101")).toHaveTextContent("✓ started · task OK");
  });

  it("kill switch on: buttons marked disabled; a click shows the server's 423 message in the row", async () => {
    useMonitorStore.setState({ killSwitch: true });
    answer = () => jsonResponse(423, { error: { code: "kill_switch", message: "Kill switch active: no actions will run" } });
    renderAll();
    const start = screen.getByTestId("vm-action-start-101");
    expect(start).toHaveAttribute("aria-disabled", "true");
    await act(async () => fireEvent.click(start));
    expect(screen.getByTestId("vm-action-error-101")).toHaveTextContent("Kill switch active: no actions will run");
    fireEvent.click(within(screen.getByTestId("vm-action-error-101")).getByRole("button", { name: "Dismiss" }));
    expect(screen.queryByTestId("vm-action-error-101")).toBeNull();
  });

  it("403 blocked shows the server's message", async () => {
    answer = () => jsonResponse(403, { error: { code: "blocked", message: "VM 100 is protected (PROTECTED_VMIDS)" } });
    renderAll();
    await act(async () => fireEvent.click(screen.getByTestId("vm-action-restart-100")));
    expect(screen.getByTestId("vm-action-error-100")).toHaveTextContent("VM 100 is protected (PROTECTED_VMIDS)");
  });
});

describe("pending list", () => {
  it("approves from the list: POST approve, item gone, result noted", async () => {
    useConfirmationsStore.getState().upsert(confirmation("p1", { summary: "Restart CT 200", tool: "restart_container", args: { node: "pve1", vmid: 200 } }));
    answer = () => jsonResponse(200, { status: "executed", result: { status: "OK" } });
    renderAll();
    await act(async () => fireEvent.click(screen.getByTestId("pending-approve-p1")));
    const call = fetchMock.mock.calls.find(([url]) => url === "/api/confirmations/p1");
    expect(JSON.parse(String((call?.[1] as RequestInit | undefined)?.body))).toEqual({ decision: "approve" });
    expect(screen.queryByTestId("pending-item-p1")).toBeNull();
    expect(screen.getByTestId("pending-recent")).toHaveTextContent("Executed: Restart CT 200");
    expect(screen.getByTestId("vm-action-status-200")).toHaveTextContent("restarted · task OK");
  });

  it("a non-final refusal stays listed with the message", async () => {
    useConfirmationsStore.getState().upsert(confirmation("p1"));
    answer = (url) =>
      url === "/api/confirmations"
        ? jsonResponse(200, { confirmations: [confirmation("p1")] })
        : jsonResponse(403, { error: { code: "blocked", message: "protected" } });
    renderAll();
    await act(async () => fireEvent.click(screen.getByTestId("pending-approve-p1")));
    expect(screen.getByTestId("pending-error-p1")).toHaveTextContent("protected");
    expect(screen.getByTestId("pending-item-p1")).toBeInTheDocument();
  });

  it("renders nothing without pending confirmations", () => {
    renderAll();
    expect(screen.queryByTestId("pending-confirmations")).toBeNull();
  });
});
