import { useMemo } from "react";
import { formatTimestamp } from "../../lib/format";
import { computeStaleness, useClusterStore } from "../../stores/cluster";

/**
 * "DATA STALE · last update HH:MM:SS · <why>" whenever what is on screen may be out of date. The
 * panels keep the last data underneath (LIVE-04: degrade, never blank).
 */
export function StaleBadge() {
  const freshness = useClusterStore((s) => s.freshness);
  const connection = useClusterStore((s) => s.connection);
  const hasData = useClusterStore((s) => s.nodes.length > 0);
  const { stale, updatedAt, reason } = useMemo(
    () => computeStaleness(freshness, connection, hasData),
    [freshness, connection, hasData],
  );
  if (!stale) return null;
  const full = [`DATA STALE · last update ${formatTimestamp(updatedAt)}`, reason, freshness?.endpoint && `last good endpoint: ${freshness.endpoint}`]
    .filter(Boolean)
    .join(" · ");
  return (
    <span className="stale-badge" data-testid="stale-badge" role="alert" title={full}>
      <span className="stale-badge__icon" aria-hidden="true">
        ⚠
      </span>
      <span className="stale-badge__text">
        DATA STALE · last update {formatTimestamp(updatedAt)}
        {reason && <span className="stale-badge__reason"> · {reason}</span>}
      </span>
    </span>
  );
}
