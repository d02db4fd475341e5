/**
 * MONITOR tab: how the monitor stands — each tier's interval and last run (stale ones marked),
 * remediations in progress, the recent runbook attempts (`/api/monitor/actions`, with REVIEW for a
 * level-2 recommendation still waiting for the operator), the runbooks with their enable toggles
 * and the threshold rules in force (read-only). Reloaded on mount, every {@link MONITOR_REFRESH_MS}
 * and whenever an incident changes (attempts follow incidents).
 */
import { useEffect, useState } from "react";
import { ApiError } from "../../lib/api";
import { formatWhen } from "../../lib/format";
import { fetchActions, fetchRunbooks, fetchThresholds, setRunbookEnabled } from "../../lib/monitorApi";
import type { Metric, MonitorAction, RunbookView, ThresholdSettings } from "../../lib/types/monitor";
import { useNow } from "../../lib/useNow";
import { withAuth } from "../../stores/auth";
import { useConfirmationsStore } from "../../stores/confirmations";
import { useIncidentsStore } from "../../stores/incidents";
import { useMonitorStore } from "../../stores/monitor";
import { AUTONOMY_LEVEL_INFO, formatAge, formatInterval, TIERS, tierView } from "./monitorView";
import "./monitor.css";

export const MONITOR_REFRESH_MS = 10_000;
const ACTION_LIMIT = 20;

const message = (err: unknown) => (err instanceof ApiError ? err.message : "request failed");

interface PanelData {
  actions: MonitorAction[] | null;
  runbooks: RunbookView[] | null;
  thresholds: ThresholdSettings | null;
}

function useMonitorData() {
  const [data, setData] = useState<PanelData>({ actions: null, runbooks: null, thresholds: null });
  const [error, setError] = useState<string | null>(null);
  const [loadedAt, setLoadedAt] = useState<number | null>(null);
  const pushRev = useIncidentsStore((s) => s.pushRev);

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const load = async () => {
      const [actions, runbooks, thresholds] = await Promise.allSettled([
        withAuth((t) => fetchActions(t, ACTION_LIMIT, signal)),
        withAuth((t) => fetchRunbooks(t, signal)),
        withAuth((t) => fetchThresholds(t, signal)),
      ]);
      if (signal.aborted) return;
      // Keep the last good value of any part that failed this time.
      setData((d) => ({
        actions: actions.status === "fulfilled" ? actions.value : d.actions,
        runbooks: runbooks.status === "fulfilled" ? runbooks.value : d.runbooks,
        thresholds: thresholds.status === "fulfilled" ? thresholds.value : d.thresholds,
      }));
      const failed = [actions, runbooks, thresholds].find((r) => r.status === "rejected");
      setError(failed?.status === "rejected" ? `Monitor data unavailable: ${message(failed.reason)}` : null);
      if (!failed) setLoadedAt(Date.now());
    };
    void load();
    const timer = setInterval(() => void load(), MONITOR_REFRESH_MS);
    return () => {
      controller.abort();
      clearInterval(timer);
    };
  }, [pushRev]);

  const setRunbooks = (runbooks: RunbookView[]) => setData((d) => ({ ...d, runbooks }));
  return { data, error, loadedAt, setRunbooks };
}

function StatusSummary() {
  const status = useMonitorStore((s) => s.status);
  const now = useNow(1_000);
  if (!status) return <p className="muted">Monitor status not known yet.</p>;
  const level = AUTONOMY_LEVEL_INFO.find((l) => l.level === status.autonomyLevel);
  return (
    <>
      <dl className="kv monitor__summary" data-testid="monitor-summary">
        <dt>DRIVER</dt>
        <dd className={status.running ? "level-ok" : "level-crit"}>{status.running ? "running" : "not running"}</dd>
        <dt>AUTONOMY</dt>
        <dd data-testid="monitor-summary-level">
          L{status.autonomyLevel} · {level?.meaning ?? "?"}
        </dd>
        <dt>KILL SWITCH</dt>
        <dd className={status.killSwitch ? "level-crit" : undefined}>{status.killSwitch ? "ON — no actions run" : "off"}</dd>
        <dt>REMEDIATIONS</dt>
        <dd data-testid="monitor-summary-active">{status.activeRemediations} in progress</dd>
        <dt>INCIDENTS</dt>
        <dd>{status.openIncidents} unresolved</dd>
      </dl>
      <table className="monitor__table" data-testid="monitor-tiers">
        <thead>
          <tr>
            <th>TIER</th>
            <th>EVERY</th>
            <th>LAST RUN</th>
            <th>AGO</th>
            <th>STATE</th>
          </tr>
        </thead>
        <tbody>
          {TIERS.map((tier) => {
            const v = tierView(status, tier, now);
            const state = v.interval == null ? "OFF" : v.stale ? "STALE" : "OK";
            return (
              <tr key={tier} data-testid={`monitor-tier-${tier}`} data-stale={v.stale ? "true" : "false"}>
                <td>{tier}</td>
                <td className="mono">{formatInterval(v.interval)}</td>
                <td className="mono">{formatWhen(v.lastRun)}</td>
                <td className="mono">{formatAge(v.age)}</td>
                <td className={state === "STALE" ? "level-warn" : state === "OK" ? "level-ok" : "dim"}>{state}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

function argsText(args: Record<string, unknown>): string {
  return Object.entries(args)
    .map(([k, v]) => `${k}=${typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v)}`)
    .join(" ");
}

function Attempts({ actions }: { actions: MonitorAction[] }) {
  const pending = useConfirmationsStore((s) => s.pending);
  const openDialog = useConfirmationsStore((s) => s.openDialog);
  if (actions.length === 0) return <p className="muted">No runbook attempts yet.</p>;
  return (
    <ul className="attempts" data-testid="monitor-actions">
      {actions.map((a) => {
        const waiting = a.result === "recommended" && a.confirmationId != null && pending.some((c) => c.id === a.confirmationId);
        return (
          <li key={a.id} className={`attempt attempt--${a.result}`} data-testid={`monitor-action-${a.id}`} data-result={a.result}>
            <div className="attempt__head">
              <time className="mono dim" dateTime={a.timestamp}>
                {formatWhen(a.timestamp)}
              </time>
              <span className={`attempt__result attempt__result--${a.result}`}>{a.result.toUpperCase()}</span>
              <span className="attempt__tool mono">
                {a.action} {argsText(a.args)}
              </span>
            </div>
            <div className="attempt__meta mono dim">
              {a.runbookId} · attempt {a.attempt} · L{a.autonomyLevel}
              {a.auditId != null && ` · audit #${a.auditId}`}
              {a.finishedAt && ` · done ${formatWhen(a.finishedAt)}`}
            </div>
            {(a.verification || a.detail) && <div className="attempt__detail">{[a.verification, a.detail].filter(Boolean).join(" — ")}</div>}
            {waiting && a.confirmationId && (
              <button type="button" className="btn btn--danger btn--small" onClick={() => openDialog(a.confirmationId ?? "")} data-testid={`monitor-action-review-${a.id}`}>
                REVIEW RECOMMENDATION
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}

function Runbooks({ runbooks, onChange }: { runbooks: RunbookView[]; onChange: (list: RunbookView[]) => void }) {
  const [busy, setBusy] = useState<Record<string, true>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const toggle = async (rb: RunbookView) => {
    setBusy((b) => ({ ...b, [rb.id]: true }));
    setErrors(({ [rb.id]: _drop, ...rest }) => rest);
    try {
      onChange(await withAuth((t) => setRunbookEnabled(t, rb.id, !rb.enabled)));
    } catch (err) {
      setErrors((e) => ({ ...e, [rb.id]: `Could not ${rb.enabled ? "disable" : "enable"}: ${message(err)}` }));
    } finally {
      setBusy(({ [rb.id]: _drop, ...rest }) => rest);
    }
  };
  return (
    <ul className="runbooks" data-testid="monitor-runbooks">
      {runbooks.map((rb) => (
        <li key={rb.id} className="runbook" data-testid={`runbook-${rb.id}`} data-enabled={rb.enabled ? "true" : "false"}>
          <div className="runbook__main">
            <span className="runbook__id mono">{rb.id}</span>
            <span className="runbook__desc">{rb.description}</span>
            <span className="runbook__meta mono dim">
              on {rb.trigger}
              {rb.guestType ? ` (${rb.guestType})` : ""} → {rb.tool} · verify {rb.verify} after {rb.verifyAfterSeconds} s · ≤{rb.maxAttempts} per{" "}
              {formatInterval(rb.windowSeconds)} · cooldown {formatInterval(rb.cooldownSeconds)}
            </span>
            {errors[rb.id] && (
              <span className="runbook__error" role="alert">
                {errors[rb.id]}
              </span>
            )}
          </div>
          <button
            type="button"
            role="switch"
            aria-checked={rb.enabled}
            aria-label={`${rb.id} enabled`}
            className={`switch${rb.enabled ? " switch--on" : ""}`}
            disabled={busy[rb.id] === true}
            onClick={() => void toggle(rb)}
            data-testid={`runbook-toggle-${rb.id}`}
          >
            <span className="switch__knob" aria-hidden="true" />
            <span className="switch__text">{rb.enabled ? "ON" : "OFF"}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

const METRICS: readonly Metric[] = ["cpu", "memory", "disk", "temperature", "storage", "guestdisk"];

function Thresholds({ t }: { t: ThresholdSettings }) {
  const overrides = Object.keys(t.nodes).length + Object.keys(t.guests).length;
  const unit = (m: Metric) => (m === "temperature" ? "°C" : "%");
  return (
    <>
      <div className="table-scroll">
        <table className="monitor__table" data-testid="monitor-thresholds">
          <thead>
            <tr>
              <th>METRIC</th>
              <th>WARN</th>
              <th>CRIT</th>
              <th>CLEAR</th>
              <th>HOLD</th>
            </tr>
          </thead>
          <tbody>
            {METRICS.map((m) => {
              const r = t.defaults[m];
              if (!r) return null;
              return (
                <tr key={m} className={r.enabled ? undefined : "dim"}>
                  <td>
                    {m}
                    {!r.enabled && " (off)"}
                  </td>
                  <td className="mono">
                    {r.warn}
                    {unit(m)}
                  </td>
                  <td className="mono">{r.critical != null ? `${r.critical}${unit(m)}` : "—"}</td>
                  <td className="mono">
                    {r.clear}
                    {unit(m)}
                  </td>
                  <td className="mono">{r.holdSeconds} s</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="muted">
        {overrides === 0 ? "No per-node or per-guest overrides." : `${overrides} per-node/per-guest override${overrides === 1 ? "" : "s"}.`} Edit with PUT
        /api/monitor/thresholds.
      </p>
    </>
  );
}

export function MonitorPanel() {
  const { data, error, loadedAt, setRunbooks } = useMonitorData();
  return (
    <div className="monitor" data-testid="monitor-panel">
      <section className="monitor__section">
        <span className="subhead">MONITOR</span>
        <StatusSummary />
      </section>
      {error && (
        <p className="incidents__stale" role="alert" data-testid="monitor-error">
          {error}
          {loadedAt && ` · showing data from ${formatWhen(new Date(loadedAt).toISOString())}`}
        </p>
      )}
      <section className="monitor__section">
        <span className="subhead">RECENT RUNBOOK ATTEMPTS</span>
        {data.actions ? <Attempts actions={data.actions} /> : <p className="muted">Loading…</p>}
      </section>
      <section className="monitor__section">
        <span className="subhead">RUNBOOKS</span>
        {data.runbooks ? <Runbooks runbooks={data.runbooks} onChange={setRunbooks} /> : <p className="muted">Loading…</p>}
      </section>
      <section className="monitor__section">
        <span className="subhead">THRESHOLDS</span>
        {data.thresholds ? <Thresholds t={data.thresholds} /> : <p className="muted">Loading…</p>}
      </section>
    </div>
  );
}
