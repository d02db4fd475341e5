/** `/api/cost/*` (docs/protocol.md "Chat history, cost, routing"), checked and defaulted. */
import { ApiError, request } from "../../lib/api";
import type { BudgetView } from "../../types/generated/BudgetView";
import type { CostSummary as WireCostSummary } from "../../types/generated/CostSummary";
import type { DayCostView } from "../../types/generated/DayCostView";
import type { ModelCostView } from "../../types/generated/ModelCostView";
import type { SessionCost } from "../../types/generated/SessionCost";

export type CostPeriod = "daily" | "weekly" | "monthly";

/** `GET /api/cost/summary` (window bounds and per-model rows are not shown). */
export type CostSummary = Omit<WireCostSummary, "period" | "since" | "until" | "byModel"> & {
  period: CostPeriod;
  /** 0..1 */
  localShare: number;
  byModel: Pick<ModelCostView, "provider" | "model" | "costUsd" | "messages">[];
};

/** `GET /api/cost/budget`: `dailyLimitUsd` 0 = no limit; `percentUsed` 0..100 (may exceed 100). */
export type CostBudget = Omit<BudgetView, "enabled">;

export type { SessionCost };

export type CostDay = DayCostView;

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v != null && typeof v === "object" && !Array.isArray(v);
const n = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const s = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : fallback);
const bad = (what: string) => new ApiError(500, "bad_response", `The server sent an unexpected ${what}`);

export async function fetchCostSummary(token: string, period: CostPeriod, signal?: AbortSignal): Promise<CostSummary> {
  const b = await request<unknown>(`/api/cost/summary?period=${period}`, { token, signal });
  if (!isObject(b)) throw bad("cost summary");
  return {
    period,
    totalUsd: n(b.totalUsd),
    messages: n(b.messages),
    claudeMessages: n(b.claudeMessages),
    localMessages: n(b.localMessages),
    localShare: Math.min(Math.max(n(b.localShare), 0), 1),
    savingsUsd: n(b.savingsUsd),
    byModel: Array.isArray(b.byModel)
      ? b.byModel.filter(isObject).map((m) => ({ provider: s(m.provider), model: s(m.model), costUsd: n(m.costUsd), messages: n(m.messages) }))
      : [],
  };
}

export async function fetchCostBudget(token: string, signal?: AbortSignal): Promise<CostBudget> {
  const b = await request<unknown>("/api/cost/budget", { token, signal });
  if (!isObject(b)) throw bad("budget");
  return {
    dailyLimitUsd: n(b.dailyLimitUsd),
    spentUsd: n(b.spentUsd),
    remainingUsd: n(b.remainingUsd),
    percentUsed: n(b.percentUsed),
    exceeded: b.exceeded === true,
  };
}

export async function fetchSessionCosts(token: string, limit = 10, signal?: AbortSignal): Promise<SessionCost[]> {
  const b = await request<unknown>(`/api/cost/sessions?limit=${limit}`, { token, signal });
  if (!isObject(b) || !Array.isArray(b.sessions)) throw bad("session costs");
  return b.sessions.filter(isObject).map((x) => ({
    sessionId: s(x.sessionId),
    title: s(x.title) || "Untitled",
    costUsd: n(x.costUsd),
    inputTokens: n(x.inputTokens),
    outputTokens: n(x.outputTokens),
    messages: n(x.messages),
    updatedAt: s(x.updatedAt),
  }));
}

export async function fetchCostHistory(token: string, days = 14, signal?: AbortSignal): Promise<CostDay[]> {
  const b = await request<unknown>(`/api/cost/history?days=${days}`, { token, signal });
  if (!isObject(b) || !Array.isArray(b.history)) throw bad("cost history");
  return b.history.filter(isObject).map((d) => ({
    date: s(d.date),
    costUsd: n(d.costUsd),
    claudeMessages: n(d.claudeMessages),
    localMessages: n(d.localMessages),
  }));
}
