import { useClusterStore } from "../../stores/cluster";

/** QUORUM nodes/expected, QUORATE in green or NO QUORUM in red, and the cluster's name. */
export function QuorumIndicator() {
  const quorum = useClusterStore((s) => s.quorum);
  if (!quorum) {
    return (
      <span className="quorum" data-testid="topbar-quorum" data-quorate="unknown">
        <span className="quorum__label">QUORUM</span>
        <span className="quorum__value dim">—</span>
      </span>
    );
  }
  return (
    <span className="quorum" data-testid="topbar-quorum" data-quorate={quorum.quorate ? "true" : "false"}>
      <span className="quorum__label">QUORUM</span>
      <span className={`quorum__value ${quorum.quorate ? "level-ok" : "level-crit"}`}>
        {quorum.nodes}/{quorum.expected}
      </span>
      <span className={`quorum__state ${quorum.quorate ? "level-ok" : "level-crit"}`}>
        {quorum.quorate ? "QUORATE" : "NO QUORUM"}
      </span>
      {quorum.clusterName && <span className="quorum__name">{quorum.clusterName}</span>}
    </span>
  );
}
