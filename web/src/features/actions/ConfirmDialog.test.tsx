import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "../../stores/auth";
import { useConfirmationsStore } from "../../stores/confirmations";
import { useGuestActionsStore } from "../../stores/guestActions";
import { useMonitorStore } from "../../stores/monitor";
import { confirmation, jsonResponse } from "../../test/fixtures";
import { ConfirmDialog } from "./ConfirmDialog";

const NOW = Date.parse("2026-11-21T10:00:00Z");
let fetchMock: ReturnType<typeof vi.fn>;
let answer: () => Response | Promise<Response>;

beforeEach(() => {
  vi.useFakeTimers({ now: NOW });
  useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
  useConfirmationsStore.getState().reset();
  useGuestActionsStore.getState().reset();
  useMonitorStore.getState().reset();
  answer = () => jsonResponse(200, { status: "executed", result: { status: "OK" } });
  fetchMock = vi.fn(async () => answer());
  vi.stubGlobal("fetch", fetchMock);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function openWith(inMs = 90_000) {
  const c = confirmation("c1", { summary: "Stop VM 100 (web) on node pve1", args: { node: "pve1", vmid: 100 } }, inMs, NOW);
  useConfirmationsStore.getState().upsert(c);
  useConfirmationsStore.getState().openDialog("c1");
  render(<ConfirmDialog />);
  return c;
}

const decisionCalls = () => fetchMock.mock.calls.filter(([url]) => url === "/api/confirmations/c1");

describe("ConfirmDialog", () => {
  it("shows the server's summary, tier, args and a live countdown", () => {
    openWith(90_000);
    expect(screen.getByTestId("confirm-dialog")).toBeInTheDocument();
    expect(screen.getByTestId("confirm-summary")).toHaveTextContent("Stop VM 100 (web) on node pve1");
    expect(screen.getByTestId("tier-badge")).toHaveTextContent("RED");
    expect(screen.getByTestId("confirm-args-node")).toHaveTextContent("pve1");
    expect(screen.getByTestId("confirm-args-vmid")).toHaveTextContent("100");
    expect(screen.getByTestId("confirm-expiry")).toHaveTextContent("EXPIRES IN 1:30");
    act(() => vi.advanceTimersByTime(31_000));
    expect(screen.getByTestId("confirm-expiry")).toHaveTextContent("EXPIRES IN 0:59");
  });

  it("at expiry: says expired — ask again and cannot be authorized", () => {
    openWith(2_000);
    expect(screen.getByTestId("confirm-approve")).toBeEnabled();
    act(() => vi.advanceTimersByTime(3_000));
    expect(screen.getByTestId("confirm-expiry")).toHaveTextContent(/EXPIRED — ask again/);
    expect(screen.getByTestId("confirm-approve")).toBeDisabled();
    expect(screen.getByTestId("confirm-deny")).toBeDisabled();
  });

  it("AUTHORIZE posts approve, shows progress, closes on success", async () => {
    let release!: (r: Response) => void;
    answer = () => new Promise<Response>((r) => (release = r));
    openWith();
    fireEvent.click(screen.getByTestId("confirm-approve"));
    expect(screen.getByTestId("confirm-approve")).toHaveTextContent("AUTHORIZING…");
    expect(screen.getByTestId("confirm-approve")).toBeDisabled();
    expect(screen.getByTestId("confirm-deny")).toBeDisabled();
    expect(JSON.parse(String(decisionCalls()[0]?.[1]?.body))).toEqual({ decision: "approve" });
    await act(async () => release(jsonResponse(200, { status: "executed", result: { status: "OK" } })));
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
    expect(useConfirmationsStore.getState().pending).toEqual([]);
    expect(useGuestActionsStore.getState().byGuest[100]?.outcome?.tone).toBe("ok");
  });

  it("DENY posts deny and closes", async () => {
    answer = () => jsonResponse(200, { status: "denied" });
    openWith();
    await act(async () => fireEvent.click(screen.getByTestId("confirm-deny")));
    expect(JSON.parse(String(decisionCalls()[0]?.[1]?.body))).toEqual({ decision: "deny" });
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
  });

  it("Esc and the backdrop close without deciding; the confirmation stays pending", () => {
    openWith();
    fireEvent.keyDown(screen.getByTestId("confirm-dialog"), { key: "Escape" });
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
    expect(fetchMock).not.toHaveBeenCalled();
    expect(useConfirmationsStore.getState().pending.map((p) => p.id)).toEqual(["c1"]);

    act(() => useConfirmationsStore.getState().openDialog("c1"));
    fireEvent.mouseDown(screen.getByTestId("confirm-backdrop"));
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("a refusal at approval (423) stays open with the server's message", async () => {
    answer = () => jsonResponse(423, { error: { code: "kill_switch", message: "Kill switch is active: nothing runs" } });
    openWith();
    await act(async () => fireEvent.click(screen.getByTestId("confirm-approve")));
    expect(screen.getByTestId("confirm-error")).toHaveTextContent("Kill switch is active: nothing runs");
    expect(screen.getByTestId("confirm-dialog")).toBeInTheDocument();
  });

  it("410 at approval: expired — ask again", async () => {
    answer = () => jsonResponse(410, { error: { code: "expired", message: "expired" } });
    openWith();
    await act(async () => fireEvent.click(screen.getByTestId("confirm-approve")));
    expect(screen.getByTestId("confirm-error")).toHaveTextContent(/expired — ask again/i);
    expect(screen.getByTestId("confirm-approve")).toBeDisabled();
  });

  it("decided elsewhere while open: says so and disables the buttons", () => {
    openWith();
    act(() => {
      useConfirmationsStore.getState().applyEvent({ id: "c1", status: "denied", tool: "stop_vm", summary: "", tier: "red", expiresAt: "" });
    });
    expect(screen.getByTestId("confirm-state")).toHaveTextContent("Already denied elsewhere.");
    expect(screen.getByTestId("confirm-approve")).toBeDisabled();
    expect(screen.getByTestId("confirm-summary")).toHaveTextContent("Stop VM 100");
  });
});
