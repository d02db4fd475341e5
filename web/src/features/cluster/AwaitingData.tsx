import { useClusterStore } from "../../stores/cluster";

/**
 * Shown before the first cluster data arrives, instead of an empty panel. If the server already
 * reported why it has no data (PVE unreachable), say so.
 */
export function AwaitingData() {
  const error = useClusterStore((s) => (s.freshness?.stale ? s.freshness.error : undefined));
  return (
    <div className="awaiting" role="status">
      <span className="awaiting__spinner" aria-hidden="true" />
      <span>Awaiting cluster data…</span>
      {error && <span className="awaiting__error">{error}</span>}
    </div>
  );
}
