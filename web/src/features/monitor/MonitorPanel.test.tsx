import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { MonitorAction, RunbookView } from "../../lib/types/monitor";
import { useAuthStore } from "../../stores/auth";
import { useConfirmationsStore } from "../../stores/confirmations";
import { useIncidentsStore } from "../../stores/incidents";
import { useMonitorStore } from "../../stores/monitor";
import { useUiStore } from "../../stores/ui";
import { stubApi } from "../../test/fakeApi";
import { confirmation, incident, jsonResponse, monitorStatus } from "../../test/fixtures";
import { MonitorIndicator } from "./MonitorIndicator";
import { MonitorPanel } from "./MonitorPanel";

const runbook = (id: string, enabled: boolean): RunbookView => ({
  id,
  trigger: "crash",
  guestType: "qemu",
  tool: "start_vm",
  verify: "guestrunning",
  verifyAfterSeconds: 20,
  maxAttempts: 3,
  windowSeconds: 3600,
  cooldownSeconds: 60,
  description: "A VM stopped without any task explaining it: start it, then check it runs.",
  enabled,
});
const action = (id: string, over: Partial<MonitorAction> = {}): MonitorAction => ({
  id,
  timestamp: new Date().toISOString(),
  incidentId: "inc-1",
  incidentKey: "crash:qemu/101",
  runbookId: "vm-crashed-start",
  action: "start_vm",
  args: { node: "pve1", vmid: 101 },
  result: "success",
  verification: "guest 101 is running on pve1",
  autonomyLevel: 3,
  attempt: 1,
  auditId: 7,
  ...over,
});

let runbooksOnServer: RunbookView[];
let api: ReturnType<typeof stubApi>;

beforeEach(() => {
  useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
  useMonitorStore.getState().reset();
  useIncidentsStore.getState().reset();
  useConfirmationsStore.getState().reset();
  runbooksOnServer = [runbook("vm-crashed-start", true)];
  api = stubApi((req) => {
    if (req.url === "/api/monitor/actions?limit=20")
      return jsonResponse(200, { actions: [action("inc-1-1"), action("inc-2-1", { result: "recommended", confirmationId: "c-9", verification: undefined, auditId: undefined })] });
    if (req.url === "/api/monitor/runbooks") return jsonResponse(200, { runbooks: runbooksOnServer });
    if (req.url === "/api/monitor/thresholds")
      return jsonResponse(200, { defaults: { cpu: { enabled: true, warn: 95, clear: 85, holdSeconds: 120 }, temperature: { enabled: false, warn: 80, critical: 90, clear: 75, holdSeconds: 60 } }, nodes: { pve1: {} }, guests: {} });
    if (req.method === "PUT" && req.url === "/api/monitor/runbooks/vm-crashed-start") {
      runbooksOnServer = [runbook("vm-crashed-start", (req.body as { enabled: boolean }).enabled)];
      return jsonResponse(200, { runbooks: runbooksOnServer });
    }
    return undefined;
  });
});
afterEach(() => vi.unstubAllGlobals());

describe("MonitorPanel", () => {
  it("shows each tier's interval and last run, stale ones marked", () => {
    const now = Date.now();
    useMonitorStore.getState().applyStatus(
      monitorStatus({
        activeRemediations: 2,
        lastPoll: { critical: new Date(now - 5_000).toISOString(), important: new Date(now - 200_000).toISOString(), routine: null, background: null },
        intervals: { critical: 12, important: 32, routine: 300, background: null },
      }),
    );
    render(<MonitorPanel />);
    expect(screen.getByTestId("monitor-tier-critical")).toHaveTextContent("12 s");
    expect(screen.getByTestId("monitor-tier-critical")).toHaveAttribute("data-stale", "false");
    expect(screen.getByTestId("monitor-tier-important")).toHaveAttribute("data-stale", "true");
    expect(screen.getByTestId("monitor-tier-important")).toHaveTextContent("STALE");
    expect(screen.getByTestId("monitor-tier-routine")).toHaveTextContent("never");
    expect(screen.getByTestId("monitor-tier-background")).toHaveTextContent("OFF");
    expect(screen.getByTestId("monitor-summary-active")).toHaveTextContent("2 in progress");
    expect(screen.getByTestId("monitor-summary-level")).toHaveTextContent("L3 · act and report");
  });

  it("lists runbook attempts; a waiting recommendation can be reviewed", async () => {
    useMonitorStore.getState().applyStatus(monitorStatus());
    useConfirmationsStore.getState().upsert(confirmation("c-9"));
    render(<MonitorPanel />);
    const done = await screen.findByTestId("monitor-action-inc-1-1");
    expect(done).toHaveTextContent("SUCCESS");
    expect(done).toHaveTextContent("start_vm node=pve1 vmid=101");
    expect(done).toHaveTextContent("audit #7");
    expect(done).toHaveTextContent("guest 101 is running on pve1");
    expect(screen.getByTestId("monitor-action-inc-2-1")).toHaveAttribute("data-result", "recommended");
    fireEvent.click(screen.getByTestId("monitor-action-review-inc-2-1"));
    expect(useConfirmationsStore.getState().dialogId).toBe("c-9");
    // Once decided (no longer pending) there is nothing to review.
    act(() => useConfirmationsStore.getState().resolve("c-9", "approved"));
    expect(screen.queryByTestId("monitor-action-review-inc-2-1")).toBeNull();
  });

  it("a runbook toggle sends the PUT and shows the server's list", async () => {
    useMonitorStore.getState().applyStatus(monitorStatus());
    render(<MonitorPanel />);
    const toggle = await screen.findByTestId("runbook-toggle-vm-crashed-start");
    expect(toggle).toHaveAttribute("aria-checked", "true");
    await act(async () => fireEvent.click(toggle));
    expect(api.sent("PUT", "/api/monitor/runbooks/vm-crashed-start")[0]?.body).toEqual({ enabled: false });
    expect(screen.getByTestId("runbook-toggle-vm-crashed-start")).toHaveAttribute("aria-checked", "false");
    expect(screen.getByTestId("runbook-vm-crashed-start")).toHaveAttribute("data-enabled", "false");
  });

  it("shows the threshold rules read-only", async () => {
    useMonitorStore.getState().applyStatus(monitorStatus());
    render(<MonitorPanel />);
    const table = await screen.findByTestId("monitor-thresholds");
    expect(table).toHaveTextContent("cpu95%—85%120 s");
    expect(table).toHaveTextContent("temperature (off)80°C90°C75°C60 s");
    expect(screen.getByText(/1 per-node\/per-guest override\./)).toBeInTheDocument();
  });

  it("reloads the attempts when an incident changes", async () => {
    useMonitorStore.getState().applyStatus(monitorStatus());
    render(<MonitorPanel />);
    await screen.findByTestId("monitor-action-inc-1-1");
    const before = api.sent("GET", "/api/monitor/actions?limit=20").length;
    act(() => useIncidentsStore.getState().upsert(incident("x")));
    await vi.waitFor(() => expect(api.sent("GET", "/api/monitor/actions?limit=20").length).toBe(before + 1));
  });
});

describe("MonitorIndicator", () => {
  it("shows RUNNING with the last run's age, remediations and the open count, which opens the incidents", () => {
    useMonitorStore.getState().applyStatus(monitorStatus({ openIncidents: 3, activeRemediations: 1 }, Date.now() - 4_000));
    useUiStore.setState({ centerTab: "HUD" });
    useIncidentsStore.getState().setTab("resolved");
    render(<MonitorIndicator />);
    expect(screen.getByTestId("monitor-indicator")).toHaveAttribute("data-health", "running");
    expect(screen.getByTestId("monitor-indicator")).toHaveTextContent(/RUNNING\s*4s/);
    expect(screen.getByTestId("monitor-active")).toHaveTextContent("⚙1");
    fireEvent.click(screen.getByTestId("monitor-open-incidents"));
    expect(screen.getByTestId("monitor-open-incidents")).toHaveTextContent("3 OPEN");
    expect(useUiStore.getState().centerTab).toBe("INCIDENTS");
    expect(useIncidentsStore.getState().tab).toBe("open");
    fireEvent.click(screen.getByTestId("monitor-indicator-open"));
    expect(useUiStore.getState().centerTab).toBe("MONITOR");
  });

  it("shows STALE when the critical tier is overdue, OFF when the driver stopped", () => {
    useMonitorStore.getState().applyStatus(monitorStatus({}, Date.now() - 120_000));
    const { rerender } = render(<MonitorIndicator />);
    expect(screen.getByTestId("monitor-health")).toHaveTextContent("STALE");
    act(() => useMonitorStore.getState().applyStatus(monitorStatus({ running: false })));
    rerender(<MonitorIndicator />);
    expect(screen.getByTestId("monitor-health")).toHaveTextContent("OFF");
  });
});
