/**
 * LLM COST TRACKER (ROUTE-10, UI-06): spend for the chosen period, today's budget, how much was
 * answered locally (and saved), a 14-day history and the costliest recent sessions. Reloaded on
 * mount, every 30 s and after every finished chat turn.
 */
import { useEffect, useState } from "react";
import { UsageBar } from "../../components/UsageBar";
import { ApiError } from "../../lib/api";
import { formatPercent } from "../../lib/format";
import { withAuth } from "../../stores/auth";
import { useChatStore } from "../../stores/chat";
import {
  fetchCostBudget,
  fetchCostHistory,
  fetchCostSummary,
  fetchSessionCosts,
  type CostBudget,
  type CostDay,
  type CostPeriod,
  type CostSummary,
  type SessionCost,
} from "./costApi";
import { CostHistory } from "./CostHistory";
import { formatUsd } from "./formatUsd";
import "./cost.css";

export const COST_REFRESH_MS = 30_000;
const PERIODS: { id: CostPeriod; label: string }[] = [
  { id: "daily", label: "DAY" },
  { id: "weekly", label: "WEEK" },
  { id: "monthly", label: "MONTH" },
];

interface CostData {
  summary: CostSummary | null;
  budget: CostBudget | null;
  sessions: SessionCost[] | null;
  history: CostDay[] | null;
}

function useCostData(period: CostPeriod) {
  const [data, setData] = useState<CostData>({ summary: null, budget: null, sessions: null, history: null });
  const [error, setError] = useState<string | null>(null);
  const doneSeq = useChatStore((s) => s.doneSeq);

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const load = async () => {
      const [summary, budget, sessions, history] = await Promise.allSettled([
        withAuth((t) => fetchCostSummary(t, period, signal)),
        withAuth((t) => fetchCostBudget(t, signal)),
        withAuth((t) => fetchSessionCosts(t, 10, signal)),
        withAuth((t) => fetchCostHistory(t, 14, signal)),
      ]);
      if (signal.aborted) return;
      // Keep the last good value of any part that failed this time.
      setData((d) => ({
        summary: summary.status === "fulfilled" ? summary.value : d.summary,
        budget: budget.status === "fulfilled" ? budget.value : d.budget,
        sessions: sessions.status === "fulfilled" ? sessions.value : d.sessions,
        history: history.status === "fulfilled" ? history.value : d.history,
      }));
      const failed = [summary, budget, sessions, history].find((r) => r.status === "rejected");
      const reason: unknown = failed?.status === "rejected" ? failed.reason : null;
      setError(reason == null ? null : reason instanceof ApiError ? reason.message : "Cost data unavailable");
    };
    void load();
    const timer = setInterval(() => void load(), COST_REFRESH_MS);
    return () => {
      controller.abort();
      clearInterval(timer);
    };
  }, [period, doneSeq]);

  return { data, error };
}

function Budget({ budget }: { budget: CostBudget }) {
  const limited = budget.dailyLimitUsd > 0;
  const fraction = limited ? budget.percentUsed / 100 : 0;
  return (
    <div className="cost-budget" data-testid="cost-budget" data-exceeded={budget.exceeded ? "true" : "false"}>
      <div className="cost-row">
        <span className="subhead">TODAY&apos;S BUDGET</span>
        <span className="mono" data-testid="cost-budget-text">
          {limited ? `${formatUsd(budget.spentUsd)} / ${formatUsd(budget.dailyLimitUsd)}` : `${formatUsd(budget.spentUsd)} · no limit`}
        </span>
      </div>
      {limited ? (
        <>
          <div data-testid="cost-budget-bar" data-percent={budget.percentUsed}>
            <UsageBar value={fraction} warn={0.8} crit={1} title="Daily budget used" />
          </div>
          <div className="cost-row dim mono">
            <span data-testid="cost-budget-percent">{budget.percentUsed.toFixed(1)}% used</span>
            <span>{budget.exceeded ? <span className="level-crit">LIMIT REACHED — local only</span> : `${formatUsd(budget.remainingUsd)} left`}</span>
          </div>
        </>
      ) : (
        <p className="muted" data-testid="cost-budget-unlimited">
          No daily limit set (DAILY_COST_LIMIT).
        </p>
      )}
    </div>
  );
}

export function CostPanel() {
  const [period, setPeriod] = useState<CostPeriod>("daily");
  const { data, error } = useCostData(period);
  const { summary, budget, sessions, history } = data;
  return (
    <div className="cost" data-testid="cost">
      <div className="cost-row">
        <div className="segmented" role="group" aria-label="Period">
          {PERIODS.map((p) => (
            <button
              key={p.id}
              type="button"
              className="segmented__btn"
              aria-pressed={period === p.id}
              onClick={() => setPeriod(p.id)}
              data-testid={`cost-period-${p.id}`}
            >
              {p.label}
            </button>
          ))}
        </div>
        <span className="cost-total" data-testid="cost-total">
          {summary ? formatUsd(summary.totalUsd) : "—"}
        </span>
      </div>
      {summary && (
        <p className="cost-line dim mono" data-testid="cost-local">
          {summary.messages} calls · {formatPercent(summary.localShare, 0)} local · saved {formatUsd(summary.savingsUsd)}
        </p>
      )}
      {budget && <Budget budget={budget} />}
      {history && history.length > 0 && <CostHistory days={history} />}
      {sessions && (
        <div className="cost-sessions">
          <span className="subhead">SESSIONS</span>
          {sessions.length === 0 ? (
            <p className="muted">No chat spend yet.</p>
          ) : (
            <ul className="cost-sessions__list" data-testid="cost-sessions">
              {sessions.map((s) => (
                <li key={s.sessionId} className="cost-row" data-testid={`cost-session-${s.sessionId}`}>
                  <span className="cost-sessions__title" title={s.title}>
                    {s.title}
                  </span>
                  <span className="mono">{formatUsd(s.costUsd)}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {error && (
        <p className="awaiting__error" role="status" data-testid="cost-error">
          {error}
        </p>
      )}
    </div>
  );
}
