import { memo, useMemo } from "react";
import { StatusDot } from "../../components/StatusDot";
import { UsageBar } from "../../components/UsageBar";
import { formatBytesPair, formatPercent, ratio, usageLevel } from "../../lib/format";
import { useClusterStore } from "../../stores/cluster";
import type { Storage } from "../../types/cluster";
import { AwaitingData } from "./AwaitingData";
import { uniqueStorage } from "./summary";

const StorageRow = memo(function StorageRow({ pool }: { pool: Storage }) {
  const available = pool.status === "available";
  const used = ratio(pool.used, pool.total);
  return (
    <li
      className={`storage-row${available ? "" : " storage-row--down"}`}
      data-testid={`storage-row-${pool.storage}-${pool.node}`}
    >
      <span className="storage-row__line">
        <StatusDot tone={available ? "ok" : "crit"} label={pool.status} />
        <span className="storage-row__name">{pool.storage}</span>
        <span className="badge">{pool.type}</span>
        <span className="storage-row__spacer" />
        {!available && <span className="tag tag--crit">{pool.status.toUpperCase()}</span>}
        <span className={pool.shared ? "storage-row__where storage-row__where--shared" : "storage-row__where"}>
          {pool.shared ? "shared" : pool.node}
        </span>
      </span>
      <UsageBar value={used} title={`${pool.storage} usage`} />
      <span className="storage-row__line storage-row__line--meta">
        <span className={`level-${usageLevel(used)}`}>{formatPercent(used, 0)}</span>
        <span className="storage-row__spacer" />
        <span>{formatBytesPair(pool.used, pool.total)}</span>
      </span>
    </li>
  );
});

/** Storage pools; a shared pool (reported by every node) is listed once, marked "shared". */
export function StoragePanel() {
  const storage = useClusterStore((s) => s.storage);
  const hasNodes = useClusterStore((s) => s.nodes.length > 0);
  const pools = useMemo(() => uniqueStorage(storage), [storage]);
  if (pools.length === 0) return hasNodes ? <p className="muted">No storage reported.</p> : <AwaitingData />;
  return (
    <ul className="storage-list">
      {pools.map((pool) => (
        <StorageRow key={`${pool.storage}@${pool.node}`} pool={pool} />
      ))}
    </ul>
  );
}
