import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "../../stores/auth";
import { useMonitorStore } from "../../stores/monitor";
import { jsonResponse, monitorStatus } from "../../test/fixtures";
import { KillSwitchBanner, KillSwitchToggle } from "./KillSwitch";

const status = (killSwitch: boolean) => monitorStatus({ autonomyLevel: 2, killSwitch });
let fetchMock: ReturnType<typeof vi.fn>;
let answer: () => Response | Promise<Response>;

beforeEach(() => {
  useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
  useMonitorStore.getState().reset();
  answer = () => jsonResponse(200, { killSwitch: true });
  fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => answer());
  vi.stubGlobal("fetch", fetchMock);
});
afterEach(() => vi.unstubAllGlobals());

const puts = () => fetchMock.mock.calls.map(([, init]) => JSON.parse(String(init?.body)) as unknown);

describe("monitor store: kill switch", () => {
  it("is optimistic: on at once, confirmed by the server", async () => {
    useMonitorStore.getState().applyStatus(status(false));
    let release!: (r: Response) => void;
    answer = () => new Promise<Response>((r) => (release = r));
    const done = useMonitorStore.getState().setKillSwitch(true);
    expect(useMonitorStore.getState()).toMatchObject({ killSwitch: true, toggling: true });
    release(jsonResponse(200, { killSwitch: true }));
    await done;
    expect(useMonitorStore.getState()).toMatchObject({ killSwitch: true, toggling: false, error: null });
    expect(puts()).toEqual([{ active: true }]);
  });

  it("reverts when the server refuses or is unreachable, and says why", async () => {
    useMonitorStore.getState().applyStatus(status(false));
    answer = () => jsonResponse(500, { error: { code: "internal", message: "database locked" } });
    await useMonitorStore.getState().setKillSwitch(true);
    expect(useMonitorStore.getState().killSwitch).toBe(false);
    expect(useMonitorStore.getState().error).toBe("Could not engage the kill switch: database locked");

    useMonitorStore.getState().applyStatus(status(true));
    answer = () => Promise.reject(new TypeError("Failed to fetch"));
    await useMonitorStore.getState().setKillSwitch(false);
    expect(useMonitorStore.getState().killSwitch).toBe(true);
    expect(useMonitorStore.getState().error).toMatch(/Could not release the kill switch: Server unreachable/);
  });

  it("keeps a state the server pushed while the request was failing", async () => {
    useMonitorStore.getState().applyStatus(status(false));
    let release!: (r: Response) => void;
    answer = () => new Promise<Response>((r) => (release = r));
    const done = useMonitorStore.getState().setKillSwitch(true);
    useMonitorStore.getState().applyStatus(status(true)); // someone else engaged it
    release(jsonResponse(502, { error: { code: "upstream_error", message: "x" } }));
    await done;
    expect(useMonitorStore.getState().killSwitch).toBe(true);
  });

  it("a status poll landing while a toggle waits for its answer does not flip the switch back", async () => {
    useMonitorStore.getState().applyStatus(status(false));
    let release!: (r: Response) => void;
    answer = () => new Promise<Response>((r) => (release = r));
    const revBeforePoll = useMonitorStore.getState().serverRev;
    const done = useMonitorStore.getState().setKillSwitch(true);
    useMonitorStore.getState().applyPolledStatus(status(false), revBeforePoll);
    expect(useMonitorStore.getState().killSwitch).toBe(true);
    release(jsonResponse(200, { killSwitch: true }));
    await done;
    expect(useMonitorStore.getState()).toMatchObject({ killSwitch: true, error: null });
  });
});

describe("KillSwitchToggle / banner", () => {
  it("turning ON is one click and shows the banner", async () => {
    useMonitorStore.getState().applyStatus(status(false));
    render(
      <>
        <KillSwitchToggle />
        <KillSwitchBanner />
      </>,
    );
    expect(screen.queryByTestId("killswitch-banner")).toBeNull();
    expect(screen.getByTestId("killswitch-toggle")).toHaveAttribute("aria-pressed", "false");
    await act(async () => fireEvent.click(screen.getByTestId("killswitch-toggle")));
    expect(screen.getByTestId("killswitch-banner")).toHaveTextContent("KILL SWITCH ACTIVE — no actions will run");
    expect(screen.getByTestId("killswitch-toggle")).toHaveAttribute("aria-pressed", "true");
    expect(screen.queryByTestId("killswitch-confirm")).toBeNull();
    expect(puts()).toEqual([{ active: true }]);
  });

  it("turning OFF asks 'Resume actions?' first; KEEP ON sends nothing", async () => {
    useMonitorStore.getState().applyStatus(status(true));
    answer = () => jsonResponse(200, { killSwitch: false });
    render(
      <>
        <KillSwitchToggle />
        <KillSwitchBanner />
      </>,
    );
    fireEvent.click(screen.getByTestId("killswitch-toggle"));
    expect(screen.getByTestId("killswitch-confirm")).toHaveTextContent("Resume actions?");
    fireEvent.click(screen.getByTestId("killswitch-cancel"));
    expect(fetchMock).not.toHaveBeenCalled();
    expect(screen.getByTestId("killswitch-banner")).toBeInTheDocument();

    fireEvent.click(screen.getByTestId("killswitch-toggle"));
    await act(async () => fireEvent.click(screen.getByTestId("killswitch-resume")));
    expect(puts()).toEqual([{ active: false }]);
    expect(screen.queryByTestId("killswitch-banner")).toBeNull();
  });

  it("shows the error and the reverted state when engaging fails", async () => {
    useMonitorStore.getState().applyStatus(status(false));
    answer = () => jsonResponse(503, { error: { code: "unavailable", message: "monitor down" } });
    render(
      <>
        <KillSwitchToggle />
        <KillSwitchBanner />
      </>,
    );
    await act(async () => fireEvent.click(screen.getByTestId("killswitch-toggle")));
    expect(screen.getByTestId("killswitch-error")).toHaveTextContent("monitor down");
    expect(screen.queryByTestId("killswitch-banner")).toBeNull();
  });

  it("engages with one click even before the status is known", async () => {
    render(<KillSwitchToggle />);
    expect(screen.getByTestId("killswitch-toggle")).toHaveAttribute("data-state", "unknown");
    await act(async () => fireEvent.click(screen.getByTestId("killswitch-toggle")));
    expect(puts()).toEqual([{ active: true }]);
  });
});
