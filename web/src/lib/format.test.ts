import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatBytesPair,
  formatClock,
  formatPercent,
  formatTemperature,
  formatTimestamp,
  formatUptime,
  formatUptimeLong,
  primaryTemperature,
  ratio,
  temperatureLevel,
  usageLevel,
} from "./format";

const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

describe("formatBytes", () => {
  it("uses binary units with one decimal", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(8 * GiB)).toBe("8.0 GiB");
    expect(formatBytes(2.5 * TiB)).toBe("2.5 TiB");
  });
  it("refuses nonsense instead of printing NaN", () => {
    expect(formatBytes(Number.NaN)).toBe("—");
    expect(formatBytes(-1)).toBe("—");
  });
});

describe("formatBytesPair", () => {
  it("puts both numbers in the total's unit", () => {
    expect(formatBytesPair(512 * 1024 ** 2, 2 * GiB)).toBe("0.5 / 2.0 GiB");
    expect(formatBytesPair(1.2 * TiB, 4 * TiB)).toBe("1.2 / 4.0 TiB");
  });
  it("handles a used value above the total (overcommitted pools)", () => {
    expect(formatBytesPair(2 * TiB, 900 * GiB)).toBe("2.0 / 0.9 TiB");
  });
});

describe("formatPercent and ratio", () => {
  it("formats fractions", () => {
    expect(formatPercent(0.2345)).toBe("23.4%");
    expect(formatPercent(1)).toBe("100.0%");
    expect(formatPercent(0.5, 0)).toBe("50%");
    expect(formatPercent(Number.NaN)).toBe("—");
  });
  it("ratio is 0 when the total is unknown", () => {
    expect(ratio(5, 0)).toBe(0);
    expect(ratio(1, 4)).toBe(0.25);
  });
});

describe("uptime", () => {
  it("compact form drops leading zero units", () => {
    expect(formatUptime(3 * 86_400 + 4 * 3_600 + 12 * 60 + 59)).toBe("3d 4h 12m");
    expect(formatUptime(2 * 3_600 + 5 * 60)).toBe("2h 5m");
    expect(formatUptime(86_400)).toBe("1d 0h 0m");
    expect(formatUptime(125)).toBe("2m");
    expect(formatUptime(30)).toBe("<1m");
    expect(formatUptime(0)).toBe("0m");
  });
  it("long form spells units with plurals", () => {
    expect(formatUptimeLong(86_400 + 3_600 + 60)).toBe("1 day 1 hour 1 minute");
    expect(formatUptimeLong(3 * 86_400 + 4 * 3_600 + 12 * 60)).toBe("3 days 4 hours 12 minutes");
    expect(formatUptimeLong(2 * 86_400)).toBe("2 days");
    expect(formatUptimeLong(10)).toBe("less than a minute");
  });
});

describe("clock and timestamps", () => {
  it("is 24 h with leading zeros", () => {
    expect(formatClock(new Date(2026, 0, 2, 7, 5, 9))).toBe("07:05:09");
    expect(formatClock(new Date(2026, 0, 2, 23, 59, 0))).toBe("23:59:00");
  });
  it("formats ISO timestamps in local time and tolerates absence", () => {
    const iso = new Date(2026, 5, 1, 13, 4, 5).toISOString();
    expect(formatTimestamp(iso)).toBe("13:04:05");
    expect(formatTimestamp(undefined)).toBe("never");
    expect(formatTimestamp("garbage")).toBe("never");
  });
});

describe("levels", () => {
  it("usage thresholds are warn 0.7, crit 0.9", () => {
    expect(usageLevel(0.69)).toBe("ok");
    expect(usageLevel(0.7)).toBe("warn");
    expect(usageLevel(0.9)).toBe("crit");
    expect(usageLevel(0.6, 0.5, 0.8)).toBe("warn");
  });
  it("temperature: orange above 65, red above 80", () => {
    expect(temperatureLevel(65)).toBe("ok");
    expect(temperatureLevel(65.1)).toBe("warn");
    expect(temperatureLevel(80)).toBe("warn");
    expect(temperatureLevel(80.5)).toBe("crit");
    expect(formatTemperature(61.6)).toBe("62°C");
    expect(formatTemperature(61.64, 1)).toBe("61.6°C");
  });
});

describe("primaryTemperature", () => {
  it("prefers the CPU package sensor over hotter other zones", () => {
    expect(primaryTemperature({ acpitz: 90, x86_pkg_temp: 55, nvme: 40 })).toEqual({ zone: "x86_pkg_temp", celsius: 55 });
  });
  it("falls back to the hottest zone", () => {
    expect(primaryTemperature({ acpitz: 45, nvme: 71 })).toEqual({ zone: "nvme", celsius: 71 });
  });
  it("is null without readings", () => {
    expect(primaryTemperature(undefined)).toBeNull();
    expect(primaryTemperature({})).toBeNull();
  });
});
