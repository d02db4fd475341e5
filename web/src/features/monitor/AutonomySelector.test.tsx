import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "../../stores/auth";
import { useMonitorStore } from "../../stores/monitor";
import { stubApi } from "../../test/fakeApi";
import { jsonResponse, monitorStatus } from "../../test/fixtures";
import { AutonomySelector } from "./AutonomySelector";

beforeEach(() => {
  useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
  useMonitorStore.getState().reset();
  useMonitorStore.getState().applyStatus(monitorStatus({ autonomyLevel: 3 }));
});
afterEach(() => vi.unstubAllGlobals());

describe("AutonomySelector", () => {
  it("lists the five levels with their meanings and marks the one in force", () => {
    stubApi(() => undefined);
    render(<AutonomySelector />);
    expect(screen.getByTestId("autonomy-toggle")).toHaveTextContent("L3");
    fireEvent.click(screen.getByTestId("autonomy-toggle"));
    const texts = [0, 1, 2, 3, 4].map((l) => screen.getByTestId(`autonomy-level-${l}`).textContent);
    expect(texts).toEqual([
      "L0OBSERVEobserve only",
      "L1ALERTalert only",
      "L2RECOMMENDrecommend — you approve",
      "L3ACTact and report",
      "L4AUTONOMOUSact, report only failures",
    ]);
    expect(screen.getByTestId("autonomy-level-3")).toHaveAttribute("aria-checked", "true");
    expect(document.activeElement).toBe(screen.getByTestId("autonomy-level-3"));
  });

  it("sends the PUT and shows the level and description the server answered with", async () => {
    let release!: (r: Response) => void;
    const api = stubApi((req) => (req.url === "/api/monitor/autonomy-level" ? new Promise<Response>((r) => (release = r)) : undefined));
    render(<AutonomySelector />);
    fireEvent.click(screen.getByTestId("autonomy-toggle"));
    fireEvent.click(screen.getByTestId("autonomy-level-1"));
    expect(api.calls).toEqual([{ method: "PUT", url: "/api/monitor/autonomy-level", body: { level: 1 } }]);
    // Not optimistic: the level in force stays until the server says otherwise.
    expect(screen.getByTestId("autonomy-toggle")).toHaveAttribute("data-level", "3");
    expect(screen.getByTestId("autonomy-level-2")).toBeDisabled();
    await act(async () => release(jsonResponse(200, { autonomyLevel: 1, description: "alert only (server words)" })));
    expect(screen.getByTestId("autonomy-toggle")).toHaveAttribute("data-level", "1");
    expect(screen.getByTestId("autonomy-answer")).toHaveTextContent("L1 in force: alert only (server words)");
    expect(screen.queryByTestId("autonomy-menu")).toBeNull();
  });

  it("keeps the old level and shows the server's refusal", async () => {
    stubApi(() => jsonResponse(400, { error: { code: "invalid_body", message: "level must be 0..4" } }));
    render(<AutonomySelector />);
    fireEvent.click(screen.getByTestId("autonomy-toggle"));
    await act(async () => fireEvent.click(screen.getByTestId("autonomy-level-4")));
    expect(screen.getByTestId("autonomy-error")).toHaveTextContent("Could not set level 4: level must be 0..4");
    expect(screen.getByTestId("autonomy-toggle")).toHaveAttribute("data-level", "3");
    expect(screen.getByTestId("autonomy-menu")).toBeInTheDocument();
  });

  it("follows monitor:status from elsewhere, and Escape closes the menu", () => {
    stubApi(() => undefined);
    render(<AutonomySelector />);
    act(() => useMonitorStore.getState().applyStatus(monitorStatus({ autonomyLevel: 0 })));
    expect(screen.getByTestId("autonomy-toggle")).toHaveTextContent("L0");
    fireEvent.click(screen.getByTestId("autonomy-toggle"));
    fireEvent.keyDown(screen.getByTestId("autonomy-menu"), { key: "Escape" });
    expect(screen.queryByTestId("autonomy-menu")).toBeNull();
  });

  it("a polled status overtaken by a push keeps the push's level but takes the run times", () => {
    const store = useMonitorStore.getState();
    const rev = store.serverRev;
    store.applyStatus(monitorStatus({ autonomyLevel: 1, killSwitch: true }));
    const polled = monitorStatus({ autonomyLevel: 3, lastPoll: { critical: "2026-11-21T10:00:12.000Z", important: null, routine: null, background: null } });
    useMonitorStore.getState().applyPolledStatus(polled, rev);
    expect(useMonitorStore.getState().status).toMatchObject({ autonomyLevel: 1, killSwitch: true, lastPoll: { critical: "2026-11-21T10:00:12.000Z" } });
    expect(useMonitorStore.getState().killSwitch).toBe(true);
    // Not overtaken: the polled status is taken whole.
    useMonitorStore.getState().applyPolledStatus(polled, useMonitorStore.getState().serverRev);
    expect(useMonitorStore.getState().status?.autonomyLevel).toBe(3);
  });
});
