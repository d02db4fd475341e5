import { memo } from "react";
import { usageLevel } from "../lib/format";
import "./usage.css";

interface UsageBarProps {
  /** 0..1; values outside are clamped for drawing only. */
  value: number;
  label?: string;
  warn?: number;
  crit?: number;
  /** Accessible name, e.g. "CPU usage". */
  title: string;
}

/** A thin segmented bar, coloured by threshold (warn 0.7, crit 0.9 unless told otherwise). */
export const UsageBar = memo(function UsageBar({ value, warn = 0.7, crit = 0.9, title }: UsageBarProps) {
  const safe = Number.isFinite(value) ? Math.min(Math.max(value, 0), 1) : 0;
  const level = usageLevel(safe, warn, crit);
  return (
    <div
      className={`usage-bar usage-bar--${level}`}
      role="meter"
      aria-label={title}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(safe * 100)}
      data-level={level}
    >
      <div className="usage-bar__fill" style={{ width: `${safe * 100}%` }} />
    </div>
  );
});
