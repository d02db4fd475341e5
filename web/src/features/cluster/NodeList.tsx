import { useClusterStore } from "../../stores/cluster";
import { NodeCard } from "./NodeCard";
import { AwaitingData } from "./AwaitingData";

/** The "CLUSTER NODES" panel body: one card per node, in the server's (name) order. */
export function NodeList() {
  const nodes = useClusterStore((s) => s.nodes);
  const temperatures = useClusterStore((s) => s.temperatures);
  if (nodes.length === 0) return <AwaitingData />;
  return (
    <div className="node-list">
      {nodes.map((node) => (
        <NodeCard key={node.name} node={node} zones={temperatures[node.name]} />
      ))}
    </div>
  );
}

export function NodeCount() {
  const online = useClusterStore((s) => s.nodes.filter((n) => n.status === "online").length);
  const total = useClusterStore((s) => s.nodes.length);
  if (total === 0) return null;
  return (
    <span className={online === total ? "level-ok" : "level-warn"}>
      {online}/{total} ONLINE
    </span>
  );
}
