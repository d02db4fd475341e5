/**
 * INCIDENTS tab: OPEN / ACKNOWLEDGED / RESOLVED incidents (each tab loaded when shown and kept
 * current by `incident` pushes) and SILENCES. The incident named by the address
 * (`/incidents/{id}`, see lib/route.ts) is shown expanded and scrolled into view. While the live
 * connection is down, the view says its data may be out of date.
 */
import { useEffect, useMemo } from "react";
import { formatTimestamp } from "../../lib/format";
import type { IncidentState } from "../../lib/types/monitor";
import { useEventsStore } from "../../stores/events";
import { useIncidentsStore, type IncidentTab } from "../../stores/incidents";
import { selectByState } from "../../stores/incidentsReducer";
import { useSilencesStore } from "../../stores/silences";
import { IncidentRow } from "./IncidentRow";
import { SilencesView } from "./SilencesView";
import "./monitor.css";

const TABS: readonly { id: IncidentTab; label: string }[] = [
  { id: "open", label: "OPEN" },
  { id: "acknowledged", label: "ACKNOWLEDGED" },
  { id: "resolved", label: "RESOLVED" },
  { id: "silences", label: "SILENCES" },
];

const EMPTY: Record<IncidentState, string> = {
  open: "No open incidents. All quiet.",
  acknowledged: "No acknowledged incidents.",
  resolved: "No resolved incidents yet.",
};

function IncidentList({ state }: { state: IncidentState }) {
  const byId = useIncidentsStore((s) => s.byId);
  const expandedId = useIncidentsStore((s) => s.expandedId);
  const load = useIncidentsStore((s) => s.loads[state]);
  const live = useEventsStore((s) => s.live);
  const list = useMemo(() => selectByState(byId, state), [byId, state]);

  // Bring the expanded one (a deep link, usually) into view once it is on screen.
  const expandedShown = expandedId !== null && list.some((i) => i.id === expandedId);
  useEffect(() => {
    if (expandedShown && expandedId) document.getElementById(`incident-${expandedId}`)?.scrollIntoView?.({ block: "nearest" });
  }, [expandedShown, expandedId]);

  const asOf = load.loadedAt ? formatTimestamp(new Date(load.loadedAt).toISOString()) : null;
  return (
    <>
      {(load.error || live === false) && (
        <p className="incidents__stale" role="status" data-testid="incidents-stale">
          {load.error ?? "LIVE UPDATES PAUSED · reconnecting"}
          {asOf && ` · as of ${asOf}`}
        </p>
      )}
      {list.length === 0 ? (
        <p className="muted" data-testid="incidents-empty">
          {load.loadedAt === null && !load.error ? "Loading incidents…" : EMPTY[state]}
        </p>
      ) : (
        <ul className="incidents__list" data-testid={`incidents-list-${state}`}>
          {list.map((inc) => (
            <IncidentRow key={inc.id} inc={inc} expanded={inc.id === expandedId} />
          ))}
        </ul>
      )}
    </>
  );
}

function Count({ tab }: { tab: IncidentTab }) {
  const byId = useIncidentsStore((s) => s.byId);
  const silences = useSilencesStore((s) => s.silences.length);
  const n = useMemo(() => (tab === "silences" ? silences : tab === "resolved" ? 0 : selectByState(byId, tab).length), [byId, tab, silences]);
  return n > 0 ? <span className="tabs__count">{n}</span> : null;
}

export function IncidentsView() {
  const tab = useIncidentsStore((s) => s.tab);
  const setTab = useIncidentsStore((s) => s.setTab);
  const load = useIncidentsStore((s) => s.load);
  const focus = useIncidentsStore((s) => s.focus);

  // Showing a tab reads the server (pushes alone do not know what happened before the page loaded).
  useEffect(() => {
    if (tab !== "silences") void load(tab);
  }, [tab, load]);

  return (
    <div className="incidents" data-testid="incidents-view" data-tab={tab}>
      <div className="subtabs" role="tablist" aria-label="Incidents">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            className="subtabs__tab"
            onClick={() => setTab(t.id)}
            data-testid={`incidents-tab-${t.id}`}
          >
            {t.label}
            <Count tab={t.id} />
          </button>
        ))}
      </div>
      {focus && (
        <p className={`incidents__focus incidents__focus--${focus.status}`} role={focus.status === "loading" ? "status" : "alert"} data-testid="incident-focus">
          {focus.status === "loading" ? `Looking up incident ${focus.id}…` : focus.message}
        </p>
      )}
      {tab === "silences" ? <SilencesView /> : <IncidentList state={tab} />}
    </div>
  );
}
