import { describe, expect, it } from "vitest";
import { monitorStatus } from "../../test/fixtures";
import { formatAge, formatInterval, matcherText, monitorHealth, tierView } from "./monitorView";

const NOW = Date.parse("2026-11-21T10:10:00.000Z");
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();

describe("monitor staleness", () => {
  it("a tier is stale past three intervals, or when it never ran; a disabled one never is", () => {
    const status = monitorStatus({
      lastPoll: { critical: ago(36), important: ago(97), routine: null, background: null },
      intervals: { critical: 12, important: 32, routine: 300, background: null },
    });
    expect(tierView(status, "critical", NOW)).toMatchObject({ age: 36, stale: false });
    expect(tierView(status, "important", NOW)).toMatchObject({ age: 97, stale: true });
    expect(tierView(status, "routine", NOW)).toMatchObject({ age: null, stale: true });
    expect(tierView(status, "background", NOW)).toMatchObject({ interval: null, stale: false });
  });

  it("the top bar judges by the first enabled tier and by how recently the server answered", () => {
    const fresh = monitorStatus({}, NOW - 5_000);
    expect(monitorHealth(null, null, NOW).health).toBe("unknown");
    expect(monitorHealth({ ...fresh, running: false }, NOW, NOW).health).toBe("off");
    expect(monitorHealth(fresh, NOW, NOW)).toMatchObject({ health: "running", tier: { tier: "critical", age: 5 } });
    expect(monitorHealth(monitorStatus({}, NOW - 40_000), NOW, NOW).health).toBe("stale");
    expect(monitorHealth(fresh, NOW - 60_000, NOW).health).toBe("stale");
    const noCritical = monitorStatus({ intervals: { critical: null, important: 32, routine: 300, background: 1800 } }, NOW - 50_000);
    expect(monitorHealth(noCritical, NOW, NOW)).toMatchObject({ health: "running", tier: { tier: "important" } });
  });

  it("words", () => {
    expect([formatAge(null), formatAge(9), formatAge(125), formatAge(7200), formatAge(200_000)]).toEqual(["never", "9s", "2m", "2h", "2d"]);
    expect([formatInterval(null), formatInterval(12), formatInterval(300), formatInterval(5400)]).toEqual(["off", "12 s", "5 min", "1.5 h"]);
    expect(matcherText({ node: "pve2", vmid: 101, kind: "nodeoffline" })).toBe("node pve2 · guest 101 · node offline");
    expect(matcherText({})).toBe("everything");
  });
});
