import { memo, useState } from "react";
import { StatusDot, type DotTone } from "../../components/StatusDot";
import { UsageBar } from "../../components/UsageBar";
import {
  formatBytesPair,
  formatPercent,
  formatTemperature,
  formatUptime,
  formatUptimeLong,
  primaryTemperature,
  ratio,
  temperatureLevel,
  usageLevel,
} from "../../lib/format";
import type { Zones } from "../../stores/cluster";
import type { Node, NodeStatus } from "../../types/cluster";

const TONE: Record<NodeStatus, DotTone> = { online: "ok", offline: "crit", unknown: "unknown" };

interface NodeCardProps {
  node: Node;
  /** Zones from the `temperature` push, which is fresher than `node.temperatures` when present. */
  zones?: Zones;
  defaultExpanded?: boolean;
}

/**
 * One node: status, headline temperature, CPU and RAM bars, disk and uptime; click to expand to
 * every figure and all temperature sensors. Memoised: the store keeps a node's object identity
 * while its values are unchanged, so a push about another node does not re-render this card.
 */
export const NodeCard = memo(function NodeCard({ node, zones, defaultExpanded = false }: NodeCardProps) {
  const [expanded, setExpanded] = useState(defaultExpanded);
  const temps = zones ?? node.temperatures;
  const primary = primaryTemperature(temps);
  const online = node.status === "online";
  const memRatio = ratio(node.mem, node.maxmem);
  const diskRatio = ratio(node.disk, node.maxdisk);
  const detailsId = `node-details-${node.name}`;

  return (
    <article className={`node-card node-card--${node.status}`} data-testid={`node-card-${node.name}`}>
      <button
        type="button"
        className="node-card__summary"
        aria-expanded={expanded}
        aria-controls={detailsId}
        onClick={() => setExpanded((e) => !e)}
      >
        <span className="node-card__head">
          <StatusDot tone={TONE[node.status]} pulse={online} label={`Node ${node.status}`} />
          <span className="node-card__name">{node.name}</span>
          {node.ip && <span className="node-card__ip">{node.ip}</span>}
          <span className="node-card__spacer" />
          {!online && <span className="tag tag--crit">{node.status.toUpperCase()}</span>}
          {primary && (
            <span
              className={`node-card__temp level-${temperatureLevel(primary.celsius)}`}
              title={`${primary.zone}: ${formatTemperature(primary.celsius, 1)}`}
              data-testid={`node-temp-${node.name}`}
            >
              {formatTemperature(primary.celsius)}
            </span>
          )}
          <span className="node-card__chevron" aria-hidden="true">
            {expanded ? "▾" : "▸"}
          </span>
        </span>

        <span className="metric">
          <span className="metric__label">CPU</span>
          <span className={`metric__value level-${usageLevel(node.cpu)}`} data-testid={`node-cpu-${node.name}`}>
            {online ? formatPercent(node.cpu) : "—"}
          </span>
          <span className="metric__extra">{node.maxcpu} cores</span>
        </span>
        <UsageBar value={online ? node.cpu : 0} title={`${node.name} CPU usage`} />

        <span className="metric">
          <span className="metric__label">RAM</span>
          <span className={`metric__value level-${usageLevel(memRatio)}`}>{online ? formatPercent(memRatio, 0) : "—"}</span>
          <span className="metric__extra">{formatBytesPair(node.mem, node.maxmem)}</span>
        </span>
        <UsageBar value={online ? memRatio : 0} title={`${node.name} memory usage`} />

        <span className="node-card__foot">
          <span>
            DISK <b className={`level-${usageLevel(diskRatio)}`}>{formatBytesPair(node.disk, node.maxdisk)}</b>
          </span>
          <span>{online ? `up ${formatUptime(node.uptime)}` : "not responding"}</span>
        </span>
      </button>

      {expanded && (
        <div className="node-card__details" id={detailsId}>
          <dl className="kv">
            <dt>CPU</dt>
            <dd>
              {formatPercent(node.cpu)} of {node.maxcpu} cores
            </dd>
            <dt>MEMORY</dt>
            <dd>
              {formatBytesPair(node.mem, node.maxmem)} ({formatPercent(memRatio)})
            </dd>
            <dt>DISK</dt>
            <dd>
              {formatBytesPair(node.disk, node.maxdisk)} ({formatPercent(diskRatio)})
            </dd>
            <dt>UPTIME</dt>
            <dd>{online ? formatUptimeLong(node.uptime) : "—"}</dd>
            {node.ip && (
              <>
                <dt>ADDRESS</dt>
                <dd>{node.ip}</dd>
              </>
            )}
          </dl>
          <div className="node-card__temps-title">TEMPERATURES</div>
          {temps && Object.keys(temps).length > 0 ? (
            <ul className="temp-grid" data-testid={`node-temps-${node.name}`}>
              {Object.entries(temps).map(([zone, celsius]) => (
                <li key={zone} className="temp-grid__item">
                  <span className="temp-grid__zone" title={zone}>
                    {zone}
                  </span>
                  <span className={`temp-grid__value level-${temperatureLevel(celsius)}`}>
                    {formatTemperature(celsius, 1)}
                  </span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">No sensor readings (temperature polling needs SSH access to the node).</p>
          )}
        </div>
      )}
    </article>
  );
});
