import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "../../stores/auth";
import { useChatStore } from "../../stores/chat";
import { jsonResponse } from "../../test/fixtures";
import { CostPanel } from "./CostPanel";

let budget: Record<string, unknown>;
let fetchMock: ReturnType<typeof vi.fn>;

const summary = (period: string) => ({
  period,
  since: "2026-01-01T00:00:00Z",
  until: "2026-01-02T00:00:00Z",
  totalUsd: period === "weekly" ? 3.5 : 1.234,
  byModel: [],
  messages: 10,
  claudeMessages: 6,
  localMessages: 4,
  localShare: 0.4,
  savingsUsd: 0.42,
});
const history = Array.from({ length: 14 }, (_, i) => ({ date: `2026-01-${String(i + 1).padStart(2, "0")}`, costUsd: i === 3 ? 2 : 0.1, claudeMessages: 1, localMessages: 1 }));

beforeEach(() => {
  useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
  useChatStore.getState().reset();
  budget = { dailyLimitUsd: 10, spentUsd: 8.5, remainingUsd: 1.5, percentUsed: 85, exceeded: false, enabled: true };
  fetchMock = vi.fn(async (url: string) => {
    const u = new URL(url, "http://x");
    if (u.pathname === "/api/cost/summary") return jsonResponse(200, summary(u.searchParams.get("period") ?? ""));
    if (u.pathname === "/api/cost/budget") return jsonResponse(200, budget);
    if (u.pathname === "/api/cost/sessions") {
      return jsonResponse(200, { sessions: [{ sessionId: "s1", title: "Stop VM 101", costUsd: 0.75, inputTokens: 1, outputTokens: 1, messages: 3, updatedAt: "t" }] });
    }
    if (u.pathname === "/api/cost/history") return jsonResponse(200, { history });
    return jsonResponse(404, { error: { code: "not_found", message: "?" } });
  });
  vi.stubGlobal("fetch", fetchMock);
});
afterEach(() => vi.unstubAllGlobals());

const calls = (path: string) => fetchMock.mock.calls.filter(([u]) => String(u).startsWith(path)).map(([u]) => String(u));

describe("CostPanel", () => {
  it("shows spend, local share and savings, the budget bar, history and sessions", async () => {
    render(<CostPanel />);
    expect(await screen.findByTestId("cost-total")).toHaveTextContent("$1.23");
    expect(screen.getByTestId("cost-local")).toHaveTextContent("10 calls · 40% local · saved $0.42");
    expect(calls("/api/cost/summary")).toEqual(["/api/cost/summary?period=daily"]);
    expect(calls("/api/cost/sessions")).toEqual(["/api/cost/sessions?limit=10"]);
    expect(calls("/api/cost/history")).toEqual(["/api/cost/history?days=14"]);

    const bar = await screen.findByTestId("cost-budget-bar");
    expect(bar).toHaveAttribute("data-percent", "85");
    const meter = within(bar).getByRole("meter");
    expect(meter).toHaveAttribute("aria-valuenow", "85");
    expect(meter).toHaveAttribute("data-level", "warn");
    expect(screen.getByTestId("cost-budget-text")).toHaveTextContent("$8.50 / $10.00");
    expect(screen.getByTestId("cost-budget-percent")).toHaveTextContent("85.0% used");

    expect(screen.getAllByTestId("cost-history-bar")).toHaveLength(14);
    expect(screen.getByTestId("cost-session-s1")).toHaveTextContent("Stop VM 101$0.75");
  });

  it("colours the bar red at 100% and says the limit is reached", async () => {
    budget = { dailyLimitUsd: 5, spentUsd: 6, remainingUsd: 0, percentUsed: 120, exceeded: true };
    render(<CostPanel />);
    const bar = await screen.findByTestId("cost-budget-bar");
    expect(within(bar).getByRole("meter")).toHaveAttribute("data-level", "crit");
    expect(within(bar).getByRole("meter")).toHaveAttribute("aria-valuenow", "100");
    expect(screen.getByTestId("cost-budget")).toHaveAttribute("data-exceeded", "true");
    expect(screen.getByTestId("cost-budget")).toHaveTextContent("LIMIT REACHED");
  });

  it("says 'no limit' when the daily limit is 0", async () => {
    budget = { dailyLimitUsd: 0, spentUsd: 2, remainingUsd: 0, percentUsed: 0, exceeded: false, enabled: false };
    render(<CostPanel />);
    expect(await screen.findByTestId("cost-budget-unlimited")).toBeInTheDocument();
    expect(screen.getByTestId("cost-budget-text")).toHaveTextContent("$2.00 · no limit");
    expect(screen.queryByTestId("cost-budget-bar")).toBeNull();
  });

  it("reloads after a finished chat turn, and for another period", async () => {
    render(<CostPanel />);
    await screen.findByTestId("cost-budget-bar");
    await waitFor(() => expect(calls("/api/cost/budget")).toHaveLength(1));
    act(() => useChatStore.setState({ doneSeq: 1 }));
    await waitFor(() => expect(calls("/api/cost/budget")).toHaveLength(2));
    await userEvent.click(screen.getByTestId("cost-period-weekly"));
    await waitFor(() => expect(screen.getByTestId("cost-total")).toHaveTextContent("$3.50"));
    expect(calls("/api/cost/summary").at(-1)).toBe("/api/cost/summary?period=weekly");
  });

  it("refreshes every 30 s and keeps the last data when a reload fails", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      render(<CostPanel />);
      await screen.findByTestId("cost-budget-bar");
      const before = calls("/api/cost/budget").length;
      fetchMock.mockImplementation(async () => jsonResponse(502, { error: { code: "upstream_error", message: "database busy" } }));
      await act(async () => {
        await vi.advanceTimersByTimeAsync(30_000);
      });
      expect(calls("/api/cost/budget").length).toBe(before + 1);
      expect(await screen.findByTestId("cost-error")).toHaveTextContent("database busy");
      expect(screen.getByTestId("cost-budget-bar")).toHaveAttribute("data-percent", "85");
    } finally {
      vi.useRealTimers();
    }
  });
});
