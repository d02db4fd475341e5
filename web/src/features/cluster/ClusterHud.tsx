import { useMemo } from "react";
import { UsageRing } from "../../components/UsageRing";
import { formatBytes, formatBytesPair, formatPercent, ratio } from "../../lib/format";
import { useClusterStore } from "../../stores/cluster";
import { AwaitingData } from "./AwaitingData";
import { ClusterReactor } from "./ClusterReactor";
import { guestLabel } from "./guests";
import { summarize } from "./summary";

function Tile({ label, value, total, testId }: { label: string; value: number; total: number; testId: string }) {
  return (
    <div className="tile" data-testid={testId}>
      <span className="tile__label">{label}</span>
      <span className="tile__value">
        {value}
        <span className="tile__total">/{total}</span>
      </span>
    </div>
  );
}

/** The HUD tab: cluster-wide counts, usage rings, the node reactor and the busiest guests. */
export function ClusterHud() {
  const nodes = useClusterStore((s) => s.nodes);
  const vms = useClusterStore((s) => s.vms);
  const storage = useClusterStore((s) => s.storage);
  const quorum = useClusterStore((s) => s.quorum);
  const summary = useMemo(() => summarize(nodes, vms, storage), [nodes, vms, storage]);
  const busiest = useMemo(
    () =>
      vms
        .filter((v) => v.status === "running" && !v.template)
        .sort((a, b) => b.cpu - a.cpu || a.vmid - b.vmid)
        .slice(0, 5),
    [vms],
  );

  if (nodes.length === 0) return <AwaitingData />;

  return (
    <div className="hud" data-testid="hud">
      <div className="hud__tiles">
        <Tile label="NODES ONLINE" value={summary.nodesOnline} total={summary.nodesTotal} testId="hud-nodes" />
        <Tile label="GUESTS RUNNING" value={summary.guestsRunning} total={summary.guestsTotal} testId="hud-guests" />
        <Tile label="VMS" value={summary.vmsRunning} total={summary.vmsTotal} testId="hud-vms" />
        <Tile label="CONTAINERS" value={summary.ctsRunning} total={summary.ctsTotal} testId="hud-cts" />
      </div>

      <div className="hud__reactor">
        <ClusterReactor nodes={nodes} quorum={quorum} />
      </div>

      <div className="hud__rings">
        <UsageRing value={summary.cpu} label="CPU" detail={`${summary.cores} cores`} />
        <UsageRing
          value={ratio(summary.memUsed, summary.memTotal)}
          label="RAM"
          detail={formatBytesPair(summary.memUsed, summary.memTotal)}
        />
        <UsageRing
          value={ratio(summary.storageUsed, summary.storageTotal)}
          label="STORAGE"
          detail={formatBytesPair(summary.storageUsed, summary.storageTotal)}
        />
      </div>

      <div className="hud__busiest">
        <h3 className="subhead">BUSIEST GUESTS</h3>
        {busiest.length === 0 ? (
          <p className="muted">No running guests.</p>
        ) : (
          <table className="mini-table">
            <tbody>
              {busiest.map((vm) => (
                <tr key={vm.vmid}>
                  <td className="mono dim">{vm.vmid}</td>
                  <td>{guestLabel(vm)}</td>
                  <td className="dim">{vm.node}</td>
                  <td className="mono num">{formatPercent(vm.cpu)}</td>
                  <td className="mono num dim">{formatBytes(vm.mem)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
