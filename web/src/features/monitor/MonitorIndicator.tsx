/**
 * The top bar's monitor lamp: RUNNING (with the age of the last critical run), STALE when that run
 * is more than three intervals old or the server stopped answering, OFF when the driver does not
 * run; remediations in progress; and the open-incident count, which opens the incidents view.
 * The lamp itself opens the MONITOR tab.
 */
import { StatusDot, type DotTone } from "../../components/StatusDot";
import { useNow } from "../../lib/useNow";
import { useIncidentsStore } from "../../stores/incidents";
import { useMonitorStore } from "../../stores/monitor";
import { useUiStore } from "../../stores/ui";
import { formatAge, monitorHealth, type MonitorHealth } from "./monitorView";

const VIEW: Record<MonitorHealth, { label: string; tone: DotTone }> = {
  unknown: { label: "—", tone: "unknown" },
  off: { label: "OFF", tone: "crit" },
  stale: { label: "STALE", tone: "warn" },
  running: { label: "RUNNING", tone: "ok" },
};

export function MonitorIndicator() {
  const status = useMonitorStore((s) => s.status);
  const statusAt = useMonitorStore((s) => s.statusAt);
  const setCenterTab = useUiStore((s) => s.setCenterTab);
  const setIncidentTab = useIncidentsStore((s) => s.setTab);
  const now = useNow(1_000);
  const { health, tier } = monitorHealth(status, statusAt, now);
  const view = VIEW[health];
  const open = status?.openIncidents ?? 0;
  const active = status?.activeRemediations ?? 0;
  const hint =
    health === "unknown"
      ? "Monitor status not known yet"
      : health === "off"
        ? "The monitor is not running"
        : `Last ${tier?.tier ?? "critical"} run ${formatAge(tier?.age ?? null)} ago${health === "stale" ? " — overdue (data may be out of date)" : ""}`;

  return (
    <span className={`mon mon--${health}`} data-testid="monitor-indicator" data-health={health}>
      <button
        type="button"
        className="mon__lamp"
        onClick={() => setCenterTab("MONITOR")}
        title={hint}
        data-testid="monitor-indicator-open"
      >
        <StatusDot tone={view.tone} pulse={health === "running"} label={hint} />
        <span className="mon__label">MONITOR</span>
        <span className="mon__state" data-testid="monitor-health">
          {view.label}
        </span>
        {tier && tier.age !== null && health !== "off" && <span className="mon__age">{formatAge(tier.age)}</span>}
        {active > 0 && (
          <span className="mon__active" title={`${active} remediation${active === 1 ? "" : "s"} in progress`} data-testid="monitor-active">
            ⚙{active}
          </span>
        )}
      </button>
      <button
        type="button"
        className={`mon__badge${open > 0 ? " mon__badge--open" : ""}`}
        onClick={() => {
          setIncidentTab("open");
          setCenterTab("INCIDENTS");
        }}
        title={`${open} unresolved incident${open === 1 ? "" : "s"}: show them`}
        data-testid="monitor-open-incidents"
        data-count={open}
      >
        {open} OPEN
      </button>
    </span>
  );
}
