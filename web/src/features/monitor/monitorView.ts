/**
 * Pure wording and judgement for the monitor's views: what each autonomy level means, whether
 * the monitor (or one of its tiers) is stale, and the labels and icons of incident kinds and
 * timeline entries. Components only render what these return.
 */
import type { MonitorStatus } from "../../lib/types/actions";
import type { AutonomyLevel, IncidentKind, Matcher, MonitorTier, TimelineKind } from "../../lib/types/monitor";

/** The five levels and their one-line meanings, in order. */
export const AUTONOMY_LEVEL_INFO: readonly { level: AutonomyLevel; name: string; meaning: string }[] = [
  { level: 0, name: "OBSERVE", meaning: "observe only" },
  { level: 1, name: "ALERT", meaning: "alert only" },
  { level: 2, name: "RECOMMEND", meaning: "recommend — you approve" },
  { level: 3, name: "ACT", meaning: "act and report" },
  { level: 4, name: "AUTONOMOUS", meaning: "act, report only failures" },
];

export const TIERS: readonly MonitorTier[] = ["critical", "important", "routine", "background"];

/** A tier counts as stale when its last run is older than this many intervals. */
export const STALE_FACTOR = 3;
/** The status itself is stale when the server has not answered for this long (polled every 10 s). */
export const STATUS_STALE_MS = 35_000;

const ms = (iso: string | null | undefined) => {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(t) ? null : t;
};

export interface TierView {
  tier: MonitorTier;
  /** Seconds; null = disabled. */
  interval: number | null;
  lastRun: string | null;
  /** Seconds since the last run (never negative); null when it never ran. */
  age: number | null;
  /** Enabled, and never ran or last ran more than STALE_FACTOR intervals ago. */
  stale: boolean;
}

export function tierView(status: MonitorStatus, tier: MonitorTier, now: number): TierView {
  const interval = status.intervals[tier];
  const lastRun = status.lastPoll[tier];
  const at = ms(lastRun);
  const age = at === null ? null : Math.max(0, Math.round((now - at) / 1000));
  const stale = interval != null && (age === null || age > STALE_FACTOR * interval);
  return { tier, interval, lastRun, age, stale };
}

export type MonitorHealth = "unknown" | "off" | "stale" | "running";

/**
 * The top bar's verdict: `off` when the driver does not run, `stale` when its first enabled tier
 * (critical, normally) is overdue or the server has not answered lately, else `running`.
 */
export function monitorHealth(status: MonitorStatus | null, statusAt: number | null, now: number): { health: MonitorHealth; tier: TierView | null } {
  if (!status) return { health: "unknown", tier: null };
  if (!status.running) return { health: "off", tier: null };
  const first = TIERS.find((t) => status.intervals[t] != null) ?? "critical";
  const tier = tierView(status, first, now);
  const answered = statusAt !== null && now - statusAt <= STATUS_STALE_MS;
  return { health: tier.stale || !answered ? "stale" : "running", tier };
}

/** `42s`, `3m`, `2h`, `5d`. */
export function formatAge(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "never";
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** An interval in seconds as `12 s`, `5 min`, `30 min`, `2 h`; `off` when disabled. */
export function formatInterval(seconds: number | null): string {
  if (seconds == null) return "off";
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.round((seconds / 3600) * 10) / 10} h`;
}

const KIND_LABEL: Record<IncidentKind, string> = {
  crash: "guest crash",
  nodeoffline: "node offline",
  quorum: "quorum",
  threshold: "threshold",
  storage: "storage",
  backup: "backup",
  pve: "PVE unreachable",
};

/** An incident kind in words (an unknown one as sent). */
export function kindLabel(kind: string): string {
  return KIND_LABEL[kind as IncidentKind] ?? kind;
}

const TIMELINE_ICON: Record<TimelineKind, string> = {
  detected: "◉",
  notified: "✉",
  recommended: "☛",
  acted: "⚙",
  verified: "✔",
  escalated: "⚠",
  acknowledged: "✋",
  resolved: "✓",
  reopened: "↺",
  suppressed: "⊘",
  note: "•",
};

/** The icon of a timeline entry's kind. */
export function timelineIcon(kind: string): string {
  return TIMELINE_ICON[kind as TimelineKind] ?? "•";
}

/** A silence's matcher in words: `node pve2 · guest 101 · guest crash`. */
export function matcherText(m: Matcher): string {
  const parts: string[] = [];
  if (m.node) parts.push(`node ${m.node}`);
  if (m.vmid != null) parts.push(`guest ${m.vmid}`);
  if (m.kind) parts.push(kindLabel(m.kind));
  return parts.length > 0 ? parts.join(" · ") : "everything";
}
