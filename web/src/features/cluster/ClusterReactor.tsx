import { memo } from "react";
import { formatPercent, usageLevel } from "../../lib/format";
import type { Node, Quorum } from "../../types/cluster";

const SIZE = 300;
const C = SIZE / 2;

function polar(r: number, deg: number): [number, number] {
  const rad = ((deg - 90) * Math.PI) / 180;
  return [C + r * Math.cos(rad), C + r * Math.sin(rad)];
}

/** SVG path of a circular arc from `start` to `end` degrees (clockwise, 0 = 12 o'clock). */
export function arcPath(r: number, start: number, end: number): string {
  const [x1, y1] = polar(r, start);
  const [x2, y2] = polar(r, end);
  const large = end - start > 180 ? 1 : 0;
  return `M ${x1.toFixed(2)} ${y1.toFixed(2)} A ${r} ${r} 0 ${large} 1 ${x2.toFixed(2)} ${y2.toFixed(2)}`;
}

/**
 * The centre-piece of the HUD: one arc segment per node whose fill is that node's CPU load
 * (the original's RadialDataRing, but keyed on `name`, which the server actually sends), with
 * the quorum state in the middle.
 */
export const ClusterReactor = memo(function ClusterReactor({
  nodes,
  quorum,
}: {
  nodes: readonly Node[];
  quorum: Quorum | null;
}) {
  const n = Math.max(nodes.length, 1);
  const gap = nodes.length > 1 ? 4 : 0;
  const span = 360 / n - gap;
  const ringR = 112;
  const labels = nodes.length <= 8;
  const quorate = quorum?.quorate ?? false;

  return (
    <svg
      className="reactor"
      viewBox={`0 0 ${SIZE} ${SIZE}`}
      role="img"
      aria-label={`Cluster: ${nodes.length} nodes, ${quorate ? "quorate" : "no quorum"}`}
    >
      <circle className="reactor__ticks reactor__spin" cx={C} cy={C} r={140} />
      <circle className="reactor__ring-thin" cx={C} cy={C} r={128} />
      <circle className="reactor__ring-thin reactor__spin-rev" cx={C} cy={C} r={84} strokeDasharray="40 14 6 14" />
      {nodes.map((node, i) => {
        const start = i * (360 / n) + gap / 2;
        const online = node.status === "online";
        const load = online ? Math.min(Math.max(node.cpu, 0), 1) : 0;
        const level = online ? usageLevel(load, 0.5, 0.8) : "off";
        const [lx, ly] = polar(ringR - 30, start + span / 2);
        return (
          <g key={node.name} className={`reactor__node reactor__node--${level}`}>
            <title>{`${node.name}: ${online ? `CPU ${formatPercent(node.cpu)}` : node.status}`}</title>
            <path className="reactor__track" d={arcPath(ringR, start, start + span)} />
            {load > 0.002 && <path className="reactor__fill" d={arcPath(ringR, start, start + span * load)} />}
            {labels && (
              <text className="reactor__label" x={lx} y={ly} textAnchor="middle" dominantBaseline="middle">
                {node.name}
              </text>
            )}
          </g>
        );
      })}
      <text className="reactor__title" x={C} y={C - 14} textAnchor="middle">
        {quorum?.clusterName ?? "CLUSTER"}
      </text>
      <text className={`reactor__state ${quorate ? "level-ok" : "level-crit"}`} x={C} y={C + 8} textAnchor="middle">
        {quorum ? (quorate ? "QUORATE" : "NO QUORUM") : "—"}
      </text>
      <text className="reactor__sub" x={C} y={C + 26} textAnchor="middle">
        {quorum ? `${quorum.nodes}/${quorum.expected} VOTES` : ""}
      </text>
    </svg>
  );
});
