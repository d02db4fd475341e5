/**
 * Formatting of the numbers the dashboard shows. Pure functions, so every unit on screen comes
 * from one place and stays consistent (the original mixed GB and GiB between panels).
 */

const BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;

/** Index into BINARY_UNITS of the largest unit in which `bytes` is at least 1. */
function unitIndex(bytes: number): number {
  if (!Number.isFinite(bytes) || bytes < 1024) return 0;
  const idx = Math.floor(Math.log(bytes) / Math.log(1024));
  return Math.min(idx, BINARY_UNITS.length - 1);
}

function scaled(bytes: number, idx: number): string {
  if (idx === 0) return String(Math.round(bytes));
  return (bytes / 1024 ** idx).toFixed(1);
}

/** Bytes in binary units with one decimal: `1536` → `1.5 KiB`, `0` → `0 B`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "—";
  const idx = unitIndex(bytes);
  return `${scaled(bytes, idx)} ${BINARY_UNITS[idx]}`;
}

/**
 * A used/total pair in the total's unit, so both numbers read on the same scale:
 * `formatBytesPair(512 MiB, 2 GiB)` → `0.5 / 2.0 GiB` rather than `512.0 MiB / 2.0 GiB`.
 */
export function formatBytesPair(used: number, total: number): string {
  if (!Number.isFinite(used) || !Number.isFinite(total) || used < 0 || total < 0) return "—";
  const idx = unitIndex(Math.max(total, used));
  return `${scaled(used, idx)} / ${scaled(total, idx)} ${BINARY_UNITS[idx]}`;
}

/** A 0..1 fraction as a percentage: `0.2345` → `23.5%`. */
export function formatPercent(fraction: number, digits = 1): string {
  if (!Number.isFinite(fraction)) return "—";
  return `${(fraction * 100).toFixed(digits)}%`;
}

/** `used / total` as a 0..1 fraction, 0 when the total is unknown. */
export function ratio(used: number, total: number): number {
  if (!Number.isFinite(used) || !Number.isFinite(total) || total <= 0) return 0;
  return used / total;
}

/** Compact uptime as on the node cards: `up 3d 4h 12m` (the `up ` prefix is the caller's). */
export function formatUptime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return "0m";
  if (seconds < 60) return "<1m";
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Long uptime for the expanded node details: `3 days 4 hours 12 minutes`. */
export function formatUptimeLong(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 60) return "less than a minute";
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  const parts: string[] = [];
  if (d > 0) parts.push(plural(d, "day"));
  if (h > 0) parts.push(plural(h, "hour"));
  if (m > 0 || parts.length === 0) parts.push(plural(m, "minute"));
  return parts.join(" ");
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** 24 h wall clock `HH:MM:SS` in local time, independent of the browser's locale settings. */
export function formatClock(date: Date): string {
  return `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
}

/** An ISO-8601 timestamp as local `HH:MM:SS`, or `never` when absent or unparsable. */
export function formatTimestamp(iso: string | undefined | null): string {
  if (!iso) return "never";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "never" : formatClock(date);
}

/** Degrees Celsius: `61.6` → `62°C`; with `digits` for the detail view. */
export function formatTemperature(celsius: number, digits = 0): string {
  if (!Number.isFinite(celsius)) return "—";
  return `${celsius.toFixed(digits)}°C`;
}

export type Level = "ok" | "warn" | "crit";

/** Severity of a 0..1 usage fraction, with the original's thresholds (warn 0.7, crit 0.9). */
export function usageLevel(fraction: number, warn = 0.7, crit = 0.9): Level {
  if (fraction >= crit) return "crit";
  if (fraction >= warn) return "warn";
  return "ok";
}

/** Severity of a temperature: orange above 65 °C, red above 80 °C. */
export function temperatureLevel(celsius: number): Level {
  if (celsius > 80) return "crit";
  if (celsius > 65) return "warn";
  return "ok";
}

/** Zones that measure the CPU package itself, preferred as the card's headline temperature. */
const CPU_ZONE = /(x86_pkg|package|tctl|tdie|cpu)/i;

/**
 * The temperature a node card shows in its header: the CPU package sensor when there is one,
 * else the hottest zone (the one an operator would worry about). `null` without readings.
 */
export function primaryTemperature(
  zones: Readonly<Record<string, number>> | undefined | null,
): { zone: string; celsius: number } | null {
  if (!zones) return null;
  const entries = Object.entries(zones).filter(([, c]) => Number.isFinite(c));
  if (entries.length === 0) return null;
  const cpu = entries.filter(([zone]) => CPU_ZONE.test(zone));
  const pool = cpu.length > 0 ? cpu : entries;
  const [zone, celsius] = pool.reduce((best, cur) => (cur[1] > best[1] ? cur : best));
  return { zone, celsius };
}

/** Time left until a deadline: `4:59`, `1:02:03`, `0:00` once past. */
export function formatCountdown(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return "0:00";
  const total = Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${pad2(m)}:${pad2(s)}` : `${m}:${pad2(s)}`;
}

/**
 * An ISO-8601 time for lists: `HH:MM:SS` when it is on the same local day as `now`, else
 * `YYYY-MM-DD HH:MM`; `—` when absent or unparsable.
 */
export function formatWhen(iso: string | undefined | null, now: number = Date.now()): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  const today = new Date(now);
  const sameDay = date.getFullYear() === today.getFullYear() && date.getMonth() === today.getMonth() && date.getDate() === today.getDate();
  if (sameDay) return formatClock(date);
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
}
