/**
 * The autonomous monitor as the operator sees it (UI-05, MON-07): guests crash behind Jarvis's
 * back (the simulator's `crash` scenario: stopped with no task), incidents appear live in the
 * incidents view and the feed, the autonomy level chosen in the top bar decides whether the
 * monitor repairs them, an acknowledged incident is left alone, and notification links
 * (`/incidents/{id}`) open the incident. Everything is put back afterwards (level 3, guests
 * running, silences removed), because the other specs share this server.
 */
import { expect, test, type Page } from "@playwright/test";
import { api, ensureRunning, pageToken, serverUrl, signIn, sim, type UiGuest } from "./helpers";

test.describe.configure({ mode: "serial" });

/** Chooses a level in the top bar and waits for the server's answer to show. */
async function chooseLevel(page: Page, level: number, meaning: RegExp) {
  await page.getByTestId("autonomy-toggle").click();
  await expect(page.getByTestId("autonomy-menu")).toBeVisible();
  await page.getByTestId(`autonomy-level-${level}`).click();
  await expect(page.getByTestId("autonomy-toggle")).toHaveAttribute("data-level", String(level));
  await expect(page.getByTestId("autonomy-answer")).toContainText(meaning);
}

/** The crash incident of a guest in the incidents view (its key is `crash:<type>/<vmid>`). */
const crashRow = (page: Page, g: UiGuest) => page.locator(`li[data-key="crash:${g.type}/${g.vmid}"]`);

/** Seconds a guest must have been running: a PVE stop task within a minute of the crash would
 *  explain it (the monitor allows that much clock skew), and the other specs stop and start
 *  guests. */
const SETTLED_UPTIME_S = 150;

/**
 * Two running guests that no recent task can explain away, waiting (up to a few minutes) for
 * guests the earlier specs stopped and started to settle.
 */
async function settledGuests(token: string): Promise<[UiGuest, UiGuest]> {
  let found: UiGuest[] = [];
  await expect
    .poll(
      async () => {
        const snap = (await api(token, "GET", "/api/cluster")).json<{ vms: { vmid: number; node: string; type: "qemu" | "lxc"; status: string; template: boolean; uptime: number }[] }>();
        found = snap.vms
          .filter((v) => v.status === "running" && !v.template && v.uptime >= SETTLED_UPTIME_S)
          .map((v) => ({ vmid: v.vmid, node: v.node, type: v.type }));
        return found.length;
      },
      { timeout: 200_000, intervals: [2_000], message: `two guests running for ${SETTLED_UPTIME_S} s` },
    )
    .toBeGreaterThanOrEqual(2);
  return [found[0] as UiGuest, found[1] as UiGuest];
}

async function crash(g: UiGuest) {
  const res = await sim("PUT", "/_sim/scenario", { json: { crash: { vmid: g.vmid } } });
  expect(res.status, `crash ${g.vmid}: ${res.body}`).toBe(200);
}

/** The kinds of the timeline entries of an expanded incident row. */
const timelineKinds = (row: ReturnType<typeof crashRow>) => row.locator(".timeline__entry").evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.kind));

test("level 1 only reports; an acknowledged incident is left alone; level 3 restarts the other guest", async ({ page }) => {
  test.setTimeout(480_000);
  await signIn(page);
  const token = await pageToken(page);
  const guests: UiGuest[] = [];
  try {
    await chooseLevel(page, 1, /alert only/);
    const [acked, repaired] = await settledGuests(token);
    guests.push(acked, repaired);
    await expect(page.getByTestId(`vm-status-${acked.vmid}`)).toHaveText("running");
    await expect(page.getByTestId(`vm-status-${repaired.vmid}`)).toHaveText("running");
    await crash(acked);
    await crash(repaired);

    await page.getByTestId("tab-incidents").click();
    await page.getByTestId("incidents-tab-open").click();
    const ackedRow = crashRow(page, acked);
    const repairedRow = crashRow(page, repaired);
    // Detected on the next critical run (12 s) and pushed to the page: no reload.
    await expect(ackedRow).toBeVisible({ timeout: 45_000 });
    await expect(repairedRow).toBeVisible({ timeout: 45_000 });
    await expect(ackedRow).toHaveAttribute("data-state", "open");
    await expect(ackedRow).toContainText(`${acked.vmid}`);
    await expect(ackedRow).toContainText(/crashed/);
    await expect(page.getByTestId("monitor-open-incidents")).not.toHaveText("0 OPEN", { timeout: 20_000 });

    // The feed has the monitor's alert, marked as the monitor's.
    await page.getByTestId("tab-feed").click();
    const alert = page.locator('[data-testid^="feed-item-"][data-source="monitor"]', { hasText: new RegExp(`\\(${repaired.vmid}\\) crashed`) }).first();
    await expect(alert).toBeVisible({ timeout: 20_000 });
    await expect(alert).toContainText("◆ MONITOR");
    await page.getByTestId("tab-incidents").click();

    // Level 1: told, not repaired.
    await repairedRow.locator('[data-testid^="incident-toggle-"]').click();
    await expect(repairedRow.locator(".timeline__entry").first()).toBeVisible();
    await page.waitForTimeout(5_000);
    expect(await timelineKinds(repairedRow)).not.toContain("acted");
    await expect(page.getByTestId(`vm-status-${repaired.vmid}`)).toHaveText("stopped");

    await ackedRow.locator('[data-testid^="incident-ack-"]').click();
    await expect(ackedRow).toHaveCount(0); // left the OPEN tab
    await page.getByTestId("incidents-tab-acknowledged").click();
    await expect(ackedRow).toHaveAttribute("data-state", "acknowledged");

    await chooseLevel(page, 3, /act and report/);
    // The open one is restarted and verified; it resolves by itself.
    await expect(page.getByTestId(`vm-status-${repaired.vmid}`)).toHaveText("running", { timeout: 90_000 });
    await page.getByTestId("incidents-tab-resolved").click();
    await expect(repairedRow).toHaveAttribute("data-state", "resolved", { timeout: 60_000 });
    if ((await repairedRow.getAttribute("data-expanded")) !== "true") await repairedRow.locator('[data-testid^="incident-toggle-"]').click();
    await expect.poll(() => timelineKinds(repairedRow)).toEqual(expect.arrayContaining(["detected", "acted", "verified", "resolved"]));
    await expect(repairedRow.getByTestId("timeline-audit").first()).toContainText(/audit #\d+/);
    const repairedId = ((await repairedRow.getAttribute("data-testid")) ?? "").replace(/^incident-/, "");
    // The acknowledged one was left alone: no automatic action until it resolves.
    await expect(page.getByTestId(`vm-status-${acked.vmid}`)).toHaveText("stopped");
    await page.getByTestId("incidents-tab-acknowledged").click();
    await ackedRow.locator('[data-testid^="incident-resolve-"]').click();
    await expect(ackedRow).toHaveCount(0);

    // A notification's link opens that incident, expanded, on its tab (the SPA serves any path).
    await page.goto(`${serverUrl()}/incidents/${repairedId}`);
    const linked = page.getByTestId(`incident-${repairedId}`);
    await expect(linked).toBeVisible({ timeout: 30_000 });
    await expect(linked).toHaveAttribute("data-expanded", "true");
    await expect(linked).toHaveAttribute("data-state", "resolved");
    await expect(page.getByTestId("incidents-view")).toHaveAttribute("data-tab", "resolved");
    await expect(page.getByTestId(`incident-timeline-${repairedId}`)).toBeVisible();
    expect(new URL(page.url()).pathname).toBe(`/incidents/${repairedId}`);
  } finally {
    await api(token, "PUT", "/api/monitor/autonomy-level", { level: 3 });
    for (const g of guests) await ensureRunning(token, g);
  }
});

test("a link to an incident that does not exist says so", async ({ page }) => {
  await signIn(page);
  await page.goto(`${serverUrl()}/incidents/inc-does-not-exist`);
  await expect(page.getByTestId("incident-focus")).toContainText("No incident inc-does-not-exist", { timeout: 30_000 });
  await expect(page.getByTestId("incidents-view")).toHaveAttribute("data-tab", "open");
});

test("silences: create one for a node, see it listed, delete it", async ({ page }) => {
  await signIn(page);
  await page.getByTestId("tab-incidents").click();
  await page.getByTestId("incidents-tab-silences").click();
  await expect(page.getByTestId("silence-form")).toBeVisible();
  const node = await page.getByTestId("silence-node").locator("option").nth(1).getAttribute("value");
  expect(node).toBeTruthy();

  await page.getByTestId("silence-submit").click();
  await expect(page.getByTestId("silence-error-matcher")).toBeVisible();

  await page.getByTestId("silence-node").selectOption(node ?? "");
  await page.getByTestId("silence-reason").fill("e2e maintenance window");
  await page.getByTestId("silence-duration-30m").click();
  await page.getByTestId("silence-submit").click();
  await expect(page.getByTestId("silence-done")).toContainText(`node ${node}`);
  const item = page.locator('[data-testid^="silence-"]', { hasText: "e2e maintenance window" }).filter({ has: page.locator(".silence__matcher") });
  await expect(item).toHaveCount(1);
  await expect(item).toContainText(/in (29|30):\d\d/);
  await item.locator('[data-testid^="silence-delete-"]').click();
  await expect(item).toHaveCount(0);
});
