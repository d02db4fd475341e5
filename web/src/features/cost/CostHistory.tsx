import { formatUsd } from "./formatUsd";
import type { CostDay } from "./costApi";

/** The last days' spend as small bars (tallest = the most expensive day). */
export function CostHistory({ days }: { days: CostDay[] }) {
  const max = Math.max(...days.map((d) => d.costUsd), 0);
  const total = days.reduce((sum, d) => sum + d.costUsd, 0);
  return (
    <figure className="cost-history" aria-label={`Spend over the last ${days.length} days: ${formatUsd(total)}`} data-testid="cost-history">
      <div className="cost-history__bars">
        {days.map((d) => {
          const h = max > 0 ? Math.max((d.costUsd / max) * 100, d.costUsd > 0 ? 4 : 0) : 0;
          const label = `${d.date}: ${formatUsd(d.costUsd)} · ${d.claudeMessages} Claude, ${d.localMessages} local`;
          return (
            <span key={d.date} className="cost-history__bar" title={label} data-testid="cost-history-bar" data-cost={d.costUsd}>
              <span className="cost-history__fill" style={{ height: `${h}%` }} />
            </span>
          );
        })}
      </div>
      <figcaption className="cost-row dim mono">
        <span>{days.length} DAYS</span>
        <span>{formatUsd(total)}</span>
      </figcaption>
    </figure>
  );
}
