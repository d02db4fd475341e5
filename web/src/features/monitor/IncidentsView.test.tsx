import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Incident } from "../../lib/types/monitor";
import { useAuthStore } from "../../stores/auth";
import { useEventsStore } from "../../stores/events";
import { useIncidentsStore } from "../../stores/incidents";
import { useSilencesStore } from "../../stores/silences";
import { useUiStore } from "../../stores/ui";
import { stubApi, type ApiRequest } from "../../test/fakeApi";
import { incident, jsonResponse } from "../../test/fixtures";
import { useRoute } from "../layout/useRoute";
import { IncidentsView } from "./IncidentsView";

let lists: Record<string, Incident[]>;
let handler: (req: ApiRequest) => Response | Promise<Response> | undefined;
let api: ReturnType<typeof stubApi>;

const listRoute = (req: ApiRequest) => {
  const m = /^\/api\/monitor\/incidents\?state=(\w+)&limit=100$/.exec(req.url);
  return m && req.method === "GET" ? jsonResponse(200, { incidents: lists[m[1] ?? ""] ?? [] }) : undefined;
};

beforeEach(() => {
  useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
  useIncidentsStore.getState().reset();
  useSilencesStore.getState().reset();
  useEventsStore.getState().reset();
  useUiStore.setState({ centerTab: "HUD" });
  lists = { open: [], acknowledged: [], resolved: [] };
  handler = () => undefined;
  api = stubApi((req) => handler(req) ?? listRoute(req));
  window.history.replaceState(null, "", "/");
});
afterEach(() => vi.unstubAllGlobals());

const row = (id: string) => screen.getByTestId(`incident-${id}`);

describe("IncidentsView", () => {
  it("lists open incidents with where, occurrences and the suppressed / flapping / escalated marks", async () => {
    lists.open = [
      incident("a", { occurrences: 3, flapping: true, escalated: true, suppressedBy: "silence: kernel update" }),
      incident("b", { node: "pve2", vmid: undefined, kind: "nodeoffline", title: "Node pve2 is offline" }),
    ];
    render(<IncidentsView />);
    await screen.findByTestId("incident-a");
    expect(row("a")).toHaveTextContent("guest crash");
    expect(row("a")).toHaveTextContent("node pve1 · guest 101");
    expect(screen.getByTestId("incident-occurrences-a")).toHaveTextContent("×3");
    expect(screen.getByTestId("incident-suppressed-a")).toHaveTextContent("HELD BACK: silence: kernel update");
    expect(screen.getByTestId("incident-flapping-a")).toBeInTheDocument();
    expect(screen.getByTestId("incident-escalated-a")).toBeInTheDocument();
    expect(row("b")).toHaveTextContent("node offline");
    expect(screen.queryByTestId("incident-escalated-b")).toBeNull();
    expect(screen.getByTestId("incidents-tab-open")).toHaveTextContent("OPEN2");
  });

  it("expanding shows the timeline with icons, times, details and audit ids", async () => {
    lists.open = [
      incident("a", {
        timeline: [
          { at: "2026-11-21T10:00:00.000Z", kind: "detected", detail: "stopped with no task" },
          { at: "2026-11-21T10:00:02.000Z", kind: "acted", detail: "Ran start_vm (attempt 1); verifying.", auditId: 42 },
        ],
      }),
    ];
    render(<IncidentsView />);
    fireEvent.click(await screen.findByTestId("incident-toggle-a"));
    const timeline = screen.getByTestId("incident-timeline-a");
    const entries = within(timeline).getAllByRole("listitem");
    expect(entries.map((e) => e.dataset.kind)).toEqual(["detected", "acted"]);
    expect(entries[0]).toHaveTextContent("◉");
    expect(entries[1]).toHaveTextContent("Ran start_vm (attempt 1); verifying.");
    expect(within(entries[1] as HTMLElement).getByTestId("timeline-audit")).toHaveTextContent("audit #42");
    expect(screen.getByTestId("incident-toggle-a")).toHaveAttribute("aria-expanded", "true");
    fireEvent.click(screen.getByTestId("incident-toggle-a"));
    expect(screen.queryByTestId("incident-timeline-a")).toBeNull();
  });

  it("ACK posts and moves the incident to ACKNOWLEDGED; RESOLVE there moves it to RESOLVED", async () => {
    lists.open = [incident("a")];
    handler = (req) => {
      if (req.method === "POST" && req.url === "/api/monitor/incidents/a/ack") {
        return jsonResponse(200, incident("a", { state: "acknowledged", acknowledgedAt: "2026-11-21T10:05:00.000Z", timeline: [...incident("a").timeline, { at: "2026-11-21T10:05:00.000Z", kind: "acknowledged", detail: "by operator" }] }));
      }
      if (req.method === "POST" && req.url === "/api/monitor/incidents/a/resolve") {
        return jsonResponse(200, incident("a", { state: "resolved", resolvedAt: "2026-11-21T10:06:00.000Z", timeline: [...incident("a").timeline, { at: "2026-11-21T10:06:00.000Z", kind: "resolved", detail: "by operator" }] }));
      }
      return undefined;
    };
    render(<IncidentsView />);
    await act(async () => fireEvent.click(await screen.findByTestId("incident-ack-a")));
    expect(screen.queryByTestId("incident-a")).toBeNull();
    expect(screen.getByTestId("incidents-empty")).toHaveTextContent("No open incidents");

    lists.acknowledged = [useIncidentsStore.getState().byId.a as Incident];
    await act(async () => fireEvent.click(screen.getByTestId("incidents-tab-acknowledged")));
    expect(row("a")).toHaveAttribute("data-state", "acknowledged");
    expect(screen.queryByTestId("incident-ack-a")).toBeNull(); // already acknowledged
    await act(async () => fireEvent.click(screen.getByTestId("incident-resolve-a")));
    expect(screen.queryByTestId("incident-a")).toBeNull();
    expect(api.sent("POST", "/api/monitor/incidents/a/ack")).toHaveLength(1);
    expect(api.sent("POST", "/api/monitor/incidents/a/resolve")).toHaveLength(1);
  });

  it("a 409 says so and refreshes the incident from the server", async () => {
    lists.open = [incident("a")];
    handler = (req) => {
      if (req.url === "/api/monitor/incidents/a/resolve") return jsonResponse(409, { error: { code: "already_resolved", message: "incident a is already resolved" } });
      if (req.url === "/api/monitor/incidents/a") return jsonResponse(200, incident("a", { state: "resolved", resolvedAt: "2026-11-21T10:03:00.000Z", timeline: [...incident("a").timeline, { at: "2026-11-21T10:03:00.000Z", kind: "resolved", detail: "verified" }] }));
      return undefined;
    };
    render(<IncidentsView />);
    await act(async () => fireEvent.click(await screen.findByTestId("incident-resolve-a")));
    await vi.waitFor(() => expect(useIncidentsStore.getState().byId.a?.state).toBe("resolved"));
    expect(useIncidentsStore.getState().actionErrors.a).toBe("Could not resolve: incident a is already resolved");
    expect(screen.queryByTestId("incident-a")).toBeNull();
  });

  it("updates live from incident pushes", async () => {
    render(<IncidentsView />);
    await screen.findByTestId("incidents-empty");
    act(() => useIncidentsStore.getState().upsert(incident("new", { title: "CT pihole (103) crashed on pve2" })));
    expect(row("new")).toHaveTextContent("CT pihole (103) crashed on pve2");
    act(() => useIncidentsStore.getState().upsert(incident("new", { occurrences: 2, timeline: [...incident("new").timeline, { at: "2026-11-21T10:09:00.000Z", kind: "reopened", detail: "again" }] })));
    expect(screen.getByTestId("incident-occurrences-new")).toHaveTextContent("×2");
  });

  it("says the data may be old while the live connection is down", async () => {
    lists.open = [incident("a")];
    render(<IncidentsView />);
    await screen.findByTestId("incident-a");
    expect(screen.queryByTestId("incidents-stale")).toBeNull();
    act(() => useEventsStore.getState().setLive(false));
    expect(screen.getByTestId("incidents-stale")).toHaveTextContent("LIVE UPDATES PAUSED");
    expect(row("a")).toBeInTheDocument();
  });

  it("SILENCE… opens the silence form with the incident's node, guest and kind", async () => {
    lists.open = [incident("a", { node: "pve3", vmid: 105, kind: "crash" })];
    handler = (req) => (req.url === "/api/monitor/silences" ? jsonResponse(200, { silences: [] }) : undefined);
    render(<IncidentsView />);
    await act(async () => fireEvent.click(await screen.findByTestId("incident-silence-a")));
    expect(screen.getByTestId("incidents-view")).toHaveAttribute("data-tab", "silences");
    expect(screen.getByTestId("silence-node")).toHaveValue("pve3");
    expect(screen.getByTestId("silence-vmid")).toHaveValue("105");
    expect(screen.getByTestId("silence-kind")).toHaveValue("crash");
  });
});

function Routed() {
  useRoute();
  return <IncidentsView />;
}

describe("deep link /incidents/{id}", () => {
  it("opens the incidents view on that incident's tab, expanded, and keeps the address", async () => {
    window.history.replaceState(null, "", "/incidents/inc-9");
    const resolved = incident("inc-9", { state: "resolved", resolvedAt: "2026-11-21T10:10:00.000Z", title: "Node pve4 is offline" });
    lists.resolved = [resolved];
    handler = (req) => (req.url === "/api/monitor/incidents/inc-9" ? jsonResponse(200, resolved) : undefined);
    render(<Routed />);
    await vi.waitFor(() => expect(screen.getByTestId("incidents-view")).toHaveAttribute("data-tab", "resolved"));
    expect(useUiStore.getState().centerTab).toBe("INCIDENTS");
    expect(await screen.findByTestId("incident-timeline-inc-9")).toBeInTheDocument();
    expect(row("inc-9")).toHaveAttribute("data-expanded", "true");
    expect(window.location.pathname).toBe("/incidents/inc-9");

    // Collapsing it (or leaving the view) moves the address along.
    fireEvent.click(screen.getByTestId("incident-toggle-inc-9"));
    expect(window.location.pathname).toBe("/incidents");
    act(() => useUiStore.getState().setCenterTab("HUD"));
    expect(window.location.pathname).toBe("/");
  });

  it("says so when the incident does not exist", async () => {
    window.history.replaceState(null, "", "/incidents/nope");
    render(<Routed />);
    expect(await screen.findByTestId("incident-focus")).toHaveTextContent("No incident nope");
    expect(screen.getByTestId("incidents-view")).toHaveAttribute("data-tab", "open");
  });

  it("/incidents alone opens the open tab; other paths leave the dashboard alone", async () => {
    window.history.replaceState(null, "", "/incidents");
    const { unmount } = render(<Routed />);
    expect(useUiStore.getState().centerTab).toBe("INCIDENTS");
    await screen.findByTestId("incidents-empty");
    unmount();
    useUiStore.setState({ centerTab: "HUD" });
    window.history.replaceState(null, "", "/");
    render(<Routed />);
    expect(useUiStore.getState().centerTab).toBe("HUD");
  });
});
