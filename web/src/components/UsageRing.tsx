import { memo, type ReactNode } from "react";
import { usageLevel } from "../lib/format";
import "./usage.css";

interface UsageRingProps {
  value: number;
  label: string;
  /** Big centre text (defaults to the percentage). */
  center?: ReactNode;
  detail?: ReactNode;
  size?: number;
}

/** A circular gauge for cluster totals; the arc colour follows the same thresholds as the bars. */
export const UsageRing = memo(function UsageRing({ value, label, center, detail, size = 112 }: UsageRingProps) {
  const safe = Number.isFinite(value) ? Math.min(Math.max(value, 0), 1) : 0;
  const level = usageLevel(safe);
  const stroke = 7;
  const r = (size - stroke) / 2 - 4;
  const c = 2 * Math.PI * r;
  return (
    <figure className={`usage-ring usage-ring--${level}`} aria-label={`${label} ${Math.round(safe * 100)}%`}>
      <svg width={size} height={size} viewBox={`0 0 ${size} ${size}`} aria-hidden="true">
        <circle className="usage-ring__ticks" cx={size / 2} cy={size / 2} r={r + 6} />
        <circle className="usage-ring__track" cx={size / 2} cy={size / 2} r={r} strokeWidth={stroke} />
        <circle
          className="usage-ring__arc"
          cx={size / 2}
          cy={size / 2}
          r={r}
          strokeWidth={stroke}
          strokeDasharray={`${c * safe} ${c}`}
          transform={`rotate(-90 ${size / 2} ${size / 2})`}
        />
      </svg>
      <div className="usage-ring__center">
        <span className="usage-ring__value">{center ?? `${Math.round(safe * 100)}%`}</span>
        <span className="usage-ring__label">{label}</span>
      </div>
      {detail != null && <figcaption className="usage-ring__detail">{detail}</figcaption>}
    </figure>
  );
});
