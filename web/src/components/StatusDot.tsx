import { memo } from "react";
import "./status-dot.css";

export type DotTone = "ok" | "warn" | "crit" | "idle" | "unknown";

/** A small lamp. `pulse` animates it (only in jarvis mode, see effects.css). */
export const StatusDot = memo(function StatusDot({
  tone,
  pulse = false,
  label,
}: {
  tone: DotTone;
  pulse?: boolean;
  label: string;
}) {
  return <span className={`status-dot status-dot--${tone}${pulse ? " status-dot--pulse" : ""}`} role="img" aria-label={label} title={label} />;
});
