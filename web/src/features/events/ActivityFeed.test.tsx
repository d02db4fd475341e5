import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "../../stores/auth";
import { useClusterStore } from "../../stores/cluster";
import { useEventsStore } from "../../stores/events";
import { stubApi } from "../../test/fakeApi";
import { event, jsonResponse, node } from "../../test/fixtures";
import { ActivityFeed } from "./ActivityFeed";

let api: ReturnType<typeof stubApi>;

beforeEach(() => {
  useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
  useEventsStore.getState().reset();
  useClusterStore.setState({ nodes: [node("pve1"), node("pve2")] });
  api = stubApi((req) => {
    if (req.method === "GET" && req.url.startsWith("/api/events?")) {
      const q = new URLSearchParams(req.url.split("?")[1]);
      const all = [
        event("m1", { severity: "critical", title: "Node pve2 is offline", node: "pve2", timestamp: "2026-11-21T10:02:00.000Z" }),
        event("u1", { source: "user", type: "action", severity: "info", title: "Executed stop_vm", timestamp: "2026-11-21T10:01:00.000Z" }),
      ];
      return jsonResponse(200, { events: all.filter((e) => !q.get("severity") || e.severity === q.get("severity")) });
    }
    if (req.method === "POST" && req.url === "/api/events/m1/ack") return jsonResponse(200, event("m1", { severity: "critical", title: "Node pve2 is offline", node: "pve2", timestamp: "2026-11-21T10:02:00.000Z", acknowledgedAt: "2026-11-21T10:03:00.000Z" }));
    if (req.method === "POST" && req.url === "/api/events/m1/resolve") return jsonResponse(200, event("m1", { severity: "critical", title: "Node pve2 is offline", node: "pve2", timestamp: "2026-11-21T10:02:00.000Z", resolved: true }));
    return undefined;
  });
});
afterEach(() => vi.unstubAllGlobals());

describe("ActivityFeed", () => {
  it("loads the events, newest first, with monitor events marked", async () => {
    render(<ActivityFeed />);
    const monitor = await screen.findByTestId("feed-item-m1");
    expect(monitor).toHaveClass("feed-item--monitor");
    expect(monitor).toHaveTextContent("◆ MONITOR");
    expect(monitor).toHaveTextContent("CRITICAL");
    const user = screen.getByTestId("feed-item-u1");
    expect(user).not.toHaveClass("feed-item--monitor");
    expect(user).toHaveTextContent("USER");
    const order = screen.getAllByRole("listitem").map((li) => li.dataset.testid);
    expect(order).toEqual(["feed-item-m1", "feed-item-u1"]);
  });

  it("filters through the server and applies the same filter to live events", async () => {
    render(<ActivityFeed />);
    await screen.findByTestId("feed-item-u1");
    await act(async () => fireEvent.change(screen.getByTestId("feed-filter-severity"), { target: { value: "critical" } }));
    expect(api.calls.at(-1)?.url).toBe("/api/events?limit=100&severity=critical");
    expect(screen.queryByTestId("feed-item-u1")).toBeNull();
    act(() => useEventsStore.getState().addEvent(event("live-info", { severity: "info" })));
    act(() => useEventsStore.getState().addEvent(event("live-crit", { severity: "critical", timestamp: "2026-11-21T10:09:00.000Z" })));
    expect(screen.queryByTestId("feed-item-live-info")).toBeNull();
    expect(screen.getByTestId("feed-item-live-crit")).toBeInTheDocument();

    await act(async () => fireEvent.change(screen.getByTestId("feed-filter-node"), { target: { value: "pve2" } }));
    await act(async () => fireEvent.change(screen.getByTestId("feed-filter-type"), { target: { value: "alert" } }));
    await act(async () => fireEvent.click(screen.getByTestId("feed-filter-unresolved")));
    expect(api.calls.at(-1)?.url).toBe("/api/events?limit=100&type=alert&severity=critical&node=pve2&unresolved=true");
    expect(screen.getByTestId("feed-filter-node")).toHaveValue("pve2");
  });

  it("ACK and RESOLVE post and show the server's answer", async () => {
    render(<ActivityFeed />);
    await act(async () => fireEvent.click(await screen.findByTestId("feed-ack-m1")));
    expect(screen.getByTestId("feed-acked-m1")).toHaveTextContent("ACK");
    expect(screen.queryByTestId("feed-ack-m1")).toBeNull();
    await act(async () => fireEvent.click(screen.getByTestId("feed-resolve-m1")));
    expect(screen.getByTestId("feed-item-m1")).toHaveAttribute("data-resolved", "true");
    expect(screen.getByTestId("feed-resolved-m1")).toBeInTheDocument();
    expect(screen.queryByTestId("feed-resolve-m1")).toBeNull();
    expect(api.sent("POST", "/api/events/m1/ack")).toHaveLength(1);
    expect(api.sent("POST", "/api/events/m1/resolve")).toHaveLength(1);
  });

  it("marks the feed stale while the live connection is down, keeping the events", async () => {
    render(<ActivityFeed />);
    await screen.findByTestId("feed-item-m1");
    act(() => useEventsStore.getState().setLive(true));
    expect(screen.getByTestId("feed-live")).toHaveTextContent("LIVE");
    act(() => useEventsStore.getState().setLive(false));
    expect(screen.getByTestId("feed-stale")).toHaveTextContent("LIVE UPDATES PAUSED");
    expect(screen.getByTestId("feed-item-m1")).toBeInTheDocument();
  });
});
