/**
 * One incident in the incidents view: title, severity, where (node / guest), how often it
 * opened, why it is held back (`suppressedBy`), FLAPPING and ESCALATED marks; ACK / RESOLVE /
 * SILENCE… buttons; expanded, its timeline (what Jarvis saw, said and did, with the audit id of
 * every action it took).
 */
import { formatWhen } from "../../lib/format";
import type { Incident } from "../../lib/types/monitor";
import { useIncidentsStore } from "../../stores/incidents";
import { useSilencesStore } from "../../stores/silences";
import { kindLabel, timelineIcon } from "./monitorView";

function Timeline({ inc }: { inc: Incident }) {
  if (inc.timeline.length === 0) return <p className="muted">No timeline entries.</p>;
  return (
    <ol className="timeline" data-testid={`incident-timeline-${inc.id}`}>
      {inc.timeline.map((e, i) => (
        <li key={`${e.at}-${i}`} className={`timeline__entry timeline__entry--${e.kind}`} data-kind={e.kind}>
          <span className="timeline__icon" aria-hidden="true">
            {timelineIcon(e.kind)}
          </span>
          <time className="timeline__time" dateTime={e.at}>
            {formatWhen(e.at)}
          </time>
          <span className="timeline__kind">{e.kind}</span>
          <span className="timeline__detail">{e.detail}</span>
          {e.auditId != null && (
            <span className="timeline__audit" title="Audit log entry of this action (GET /api/audit)" data-testid="timeline-audit">
              audit #{e.auditId}
            </span>
          )}
        </li>
      ))}
    </ol>
  );
}

export function IncidentRow({ inc, expanded }: { inc: Incident; expanded: boolean }) {
  const toggle = useIncidentsStore((s) => s.toggleExpanded);
  const act = useIncidentsStore((s) => s.act);
  const busy = useIncidentsStore((s) => s.busy[inc.id]);
  const error = useIncidentsStore((s) => s.actionErrors[inc.id]);
  const setTab = useIncidentsStore((s) => s.setTab);
  const setDraft = useSilencesStore((s) => s.setDraft);
  const where = [inc.node && `node ${inc.node}`, inc.vmid != null && `guest ${inc.vmid}`].filter(Boolean).join(" · ");

  const silence = () => {
    setDraft({ ...(inc.node ? { node: inc.node } : {}), ...(inc.vmid != null ? { vmid: inc.vmid } : {}), kind: inc.kind });
    setTab("silences");
  };

  return (
    <li
      className={`incident incident--${inc.severity} incident--${inc.state}`}
      data-testid={`incident-${inc.id}`}
      data-state={inc.state}
      data-key={inc.key}
      data-expanded={expanded ? "true" : "false"}
      id={`incident-${inc.id}`}
    >
      <button
        type="button"
        className="incident__summary"
        aria-expanded={expanded}
        aria-controls={`incident-body-${inc.id}`}
        onClick={() => toggle(inc.id)}
        data-testid={`incident-toggle-${inc.id}`}
      >
        <span className="incident__caret" aria-hidden="true">
          {expanded ? "▾" : "▸"}
        </span>
        <span className="incident__title">{inc.title}</span>
        <span className={`incident__sev incident__sev--${inc.severity}`}>{inc.severity.toUpperCase()}</span>
      </button>
      <div className="incident__meta">
        <span className="incident__kind">{kindLabel(inc.kind)}</span>
        {where && <span>{where}</span>}
        <span data-testid={`incident-occurrences-${inc.id}`} title="How many times it opened">
          ×{inc.occurrences}
        </span>
        <span>opened {formatWhen(inc.openedAt)}</span>
        {inc.acknowledgedAt && <span>ack {formatWhen(inc.acknowledgedAt)}</span>}
        {inc.resolvedAt && inc.state === "resolved" && <span>resolved {formatWhen(inc.resolvedAt)}</span>}
      </div>
      {(inc.suppressedBy || inc.flapping || inc.escalated) && (
        <div className="incident__badges">
          {inc.suppressedBy && (
            <span className="incident__badge incident__badge--held" title="Notifications and automatic actions are held back" data-testid={`incident-suppressed-${inc.id}`}>
              HELD BACK: {inc.suppressedBy}
            </span>
          )}
          {inc.flapping && (
            <span className="incident__badge incident__badge--flapping" title="The condition keeps coming and going" data-testid={`incident-flapping-${inc.id}`}>
              FLAPPING
            </span>
          )}
          {inc.escalated && (
            <span className="incident__badge incident__badge--escalated" title="Automatic repair gave up; the operator was called" data-testid={`incident-escalated-${inc.id}`}>
              ESCALATED
            </span>
          )}
        </div>
      )}
      <div className="incident__actions">
        {inc.state === "open" && (
          <button type="button" className="btn btn--ghost btn--small" disabled={busy != null} onClick={() => void act(inc.id, "ack")} data-testid={`incident-ack-${inc.id}`}>
            {busy === "ack" && <span className="spinner" aria-hidden="true" />}
            ACK
          </button>
        )}
        {inc.state !== "resolved" && (
          <button type="button" className="btn btn--ghost btn--small" disabled={busy != null} onClick={() => void act(inc.id, "resolve")} data-testid={`incident-resolve-${inc.id}`}>
            {busy === "resolve" && <span className="spinner" aria-hidden="true" />}
            RESOLVE
          </button>
        )}
        {inc.state !== "resolved" && (
          <button type="button" className="btn btn--ghost btn--small" onClick={silence} title="Silence incidents like this one for a while" data-testid={`incident-silence-${inc.id}`}>
            SILENCE…
          </button>
        )}
      </div>
      {error && (
        <p className="incident__error" role="alert" data-testid={`incident-error-${inc.id}`}>
          {error}
        </p>
      )}
      {expanded && (
        <div className="incident__body" id={`incident-body-${inc.id}`}>
          <span className="incident__key mono">{inc.key}</span>
          <Timeline inc={inc} />
        </div>
      )}
    </li>
  );
}
