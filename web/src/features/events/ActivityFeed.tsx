/**
 * ACTIVITY FEED (FEED tab): the events Jarvis recorded — monitor findings and repairs, actions,
 * kill-switch changes, blocks — newest first, filtered by severity, event type, node and
 * "unresolved only" (filtered by the server, and live pushes by the same rule). Each event can be
 * acknowledged and resolved. Monitor events carry the MONITOR mark and their own colour. While
 * the live connection is down the feed says so and keeps the last data.
 */
import { useEffect, type ChangeEvent } from "react";
import { formatTimestamp, formatWhen } from "../../lib/format";
import type { EventSeverity, EventType, JarvisEvent } from "../../lib/types/actions";
import { useClusterStore } from "../../stores/cluster";
import { useEventsStore } from "../../stores/events";
import "./feed.css";

const SEVERITIES: readonly EventSeverity[] = ["critical", "error", "warning", "info"];
const TYPES: readonly EventType[] = ["alert", "action", "status", "metric"];

function FeedStatus() {
  const live = useEventsStore((s) => s.live);
  const loading = useEventsStore((s) => s.loading);
  const loadedAt = useEventsStore((s) => s.loadedAt);
  const error = useEventsStore((s) => s.error);
  if (error) {
    return (
      <span className="feed__status feed__status--stale" role="alert" data-testid="feed-error">
        {error} · showing data from {formatTimestamp(loadedAt ? new Date(loadedAt).toISOString() : null)}
      </span>
    );
  }
  if (live === false) {
    return (
      <span className="feed__status feed__status--stale" role="status" data-testid="feed-stale">
        LIVE UPDATES PAUSED · reconnecting · as of {formatTimestamp(loadedAt ? new Date(loadedAt).toISOString() : null)}
      </span>
    );
  }
  return (
    <span className="feed__status" data-testid="feed-live" data-loading={loading ? "true" : undefined}>
      {loading ? <span className="spinner" aria-hidden="true" /> : <span className="feed__live-dot" aria-hidden="true" />}
      {live ? "LIVE" : "CONNECTING"}
    </span>
  );
}

function Filters() {
  const filter = useEventsStore((s) => s.filter);
  const setFilter = useEventsStore((s) => s.setFilter);
  const clusterNodes = useClusterStore((s) => s.nodes);
  const nodes = [...new Set([...clusterNodes.map((n) => n.name), ...(filter.node ? [filter.node] : [])])].sort();
  const pick =
    <K extends "severity" | "type" | "node">(key: K) =>
    (e: ChangeEvent<HTMLSelectElement>) =>
      setFilter({ [key]: e.target.value === "" ? null : e.target.value });
  return (
    <div className="feed__filters" role="group" aria-label="Feed filters">
      <label className="feed__filter">
        <span className="feed__filter-label">SEVERITY</span>
        <select className="input input--small" value={filter.severity ?? ""} onChange={pick("severity")} data-testid="feed-filter-severity">
          <option value="">all</option>
          {SEVERITIES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label className="feed__filter">
        <span className="feed__filter-label">TYPE</span>
        <select className="input input--small" value={filter.type ?? ""} onChange={pick("type")} data-testid="feed-filter-type">
          <option value="">all</option>
          {TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
      <label className="feed__filter">
        <span className="feed__filter-label">NODE</span>
        <select className="input input--small" value={filter.node ?? ""} onChange={pick("node")} data-testid="feed-filter-node">
          <option value="">all</option>
          {nodes.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <label className="feed__check">
        <input
          type="checkbox"
          checked={filter.unresolvedOnly}
          onChange={(e) => setFilter({ unresolvedOnly: e.target.checked })}
          data-testid="feed-filter-unresolved"
        />
        <span>unresolved only</span>
      </label>
    </div>
  );
}

function FeedItem({ ev }: { ev: JarvisEvent }) {
  const busy = useEventsStore((s) => s.busy[ev.id]);
  const error = useEventsStore((s) => s.actionErrors[ev.id]);
  const act = useEventsStore((s) => s.act);
  const monitor = ev.source === "monitor";
  return (
    <li
      className={`feed-item feed-item--${ev.severity}${monitor ? " feed-item--monitor" : ""}${ev.resolved ? " feed-item--resolved" : ""}`}
      data-testid={`feed-item-${ev.id}`}
      data-source={ev.source}
      data-severity={ev.severity}
      data-resolved={ev.resolved ? "true" : "false"}
    >
      <div className="feed-item__head">
        <time className="feed-item__time" dateTime={ev.timestamp}>
          {formatWhen(ev.timestamp)}
        </time>
        <span className={`feed-item__sev feed-item__sev--${ev.severity}`}>{ev.severity.toUpperCase()}</span>
        {monitor ? (
          <span className="feed-item__source feed-item__source--monitor" title="Recorded by the autonomous monitor">
            ◆ MONITOR
          </span>
        ) : (
          <span className="feed-item__source">{ev.source.toUpperCase()}</span>
        )}
        <span className="feed-item__type">{ev.type}</span>
        {ev.node && <span className="badge">{ev.node}</span>}
      </div>
      <div className="feed-item__title">{ev.title}</div>
      {ev.message && <div className="feed-item__message">{ev.message}</div>}
      <div className="feed-item__foot">
        {ev.acknowledgedAt && (
          <span className="feed-item__chip" data-testid={`feed-acked-${ev.id}`}>
            ACK {formatWhen(ev.acknowledgedAt)}
          </span>
        )}
        {ev.resolved && (
          <span className="feed-item__chip feed-item__chip--ok" data-testid={`feed-resolved-${ev.id}`}>
            RESOLVED
          </span>
        )}
        <span className="feed-item__spacer" />
        {!ev.acknowledgedAt && !ev.resolved && (
          <button type="button" className="btn btn--ghost btn--small" disabled={busy != null} onClick={() => void act(ev.id, "ack")} data-testid={`feed-ack-${ev.id}`}>
            {busy === "ack" && <span className="spinner" aria-hidden="true" />}
            ACK
          </button>
        )}
        {!ev.resolved && (
          <button type="button" className="btn btn--ghost btn--small" disabled={busy != null} onClick={() => void act(ev.id, "resolve")} data-testid={`feed-resolve-${ev.id}`}>
            {busy === "resolve" && <span className="spinner" aria-hidden="true" />}
            RESOLVE
          </button>
        )}
      </div>
      {error && (
        <p className="feed-item__error" role="alert" data-testid={`feed-error-${ev.id}`}>
          {error}
        </p>
      )}
    </li>
  );
}

export function ActivityFeed() {
  const events = useEventsStore((s) => s.events);
  const loaded = useEventsStore((s) => s.loaded);
  const load = useEventsStore((s) => s.load);
  // Opening the feed always reads the server: pushes alone may have missed older events.
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <div className="feed" data-testid="activity-feed">
      <div className="feed__bar">
        <Filters />
        <FeedStatus />
      </div>
      {events.length === 0 ? (
        <p className="muted" data-testid="feed-empty">
          {loaded ? "No events match these filters." : "Loading the activity feed…"}
        </p>
      ) : (
        <ol className="feed__list" data-testid="feed-list">
          {events.map((ev) => (
            <FeedItem key={ev.id} ev={ev} />
          ))}
        </ol>
      )}
    </div>
  );
}
