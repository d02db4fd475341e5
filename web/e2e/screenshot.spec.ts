/**
 * Not an assertion-heavy test: it saves pictures of the UI for people to look at
 * (test-results/login.png, dashboard.png, dashboard-expanded.png, dashboard-phone.png, chat.png,
 * incidents.png, incidents-phone.png, monitor.png, monitor-phone.png).
 */
import { expect, test } from "@playwright/test";
import { nodeCards, serverUrl, signIn } from "./helpers";

const out = (name: string) => new URL(`../test-results/${name}`, import.meta.url).pathname;

test("screenshots of login and dashboard", async ({ page }) => {
  await page.goto(`${serverUrl()}/`);
  await expect(page.getByTestId("login-password")).toBeVisible();
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: out("login.png") });

  await signIn(page);
  await expect.poll(() => nodeCards(page).count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
  await expect(page.getByTestId("hud")).toBeVisible();
  await expect(page.getByTestId("conn-status")).toHaveText(/LIVE/, { timeout: 20_000 });
  await page.evaluate(() => document.fonts.ready);
  await page.waitForTimeout(800); // let bar/ring transitions settle
  await page.screenshot({ path: out("dashboard.png"), fullPage: true });

  await nodeCards(page).first().getByRole("button").first().click();
  await page.screenshot({ path: out("dashboard-expanded.png"), fullPage: true });

  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: out("dashboard-phone.png"), fullPage: true });
});

test("screenshot of the chat and cost panels", async ({ page }) => {
  await signIn(page);
  await page.getByTestId("tab-chat").click();
  await expect(page.getByTestId("chat-panel")).toHaveAttribute("data-connected", "true", { timeout: 30_000 });
  const input = page.getByTestId("chat-input");
  await input.fill("what is the cluster status");
  await input.press("Enter");
  await expect(page.getByTestId("chat-panel")).toHaveAttribute("data-running", "false", { timeout: 30_000 });
  await expect(page.getByTestId("chat-provider-badge").first()).toBeVisible();
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: out("chat.png"), fullPage: true });
});

test("screenshots of the incidents view and the monitor panel, desktop and phone", async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await signIn(page);
  for (const [suffix, viewport] of [
    ["", { width: 1920, height: 1080 }],
    ["-phone", { width: 390, height: 844 }],
  ] as const) {
    await page.setViewportSize(viewport);
    await page.getByTestId("tab-incidents").click();
    // Whatever the earlier specs left: the open ones, else the resolved ones; the first expanded.
    await expect(page.getByTestId("incidents-view")).toBeVisible();
    await expect(page.getByTestId("incidents-empty").or(page.getByTestId("incidents-list-open"))).toBeVisible({ timeout: 15_000 });
    if ((await page.getByTestId("incidents-list-open").count()) === 0) {
      await page.getByTestId("incidents-tab-resolved").click();
      await expect(page.getByTestId("incidents-empty").or(page.getByTestId("incidents-list-resolved"))).toBeVisible({ timeout: 15_000 });
    }
    const first = page.locator('[data-testid^="incident-toggle-"]').first();
    if ((await first.count()) > 0 && (await first.getAttribute("aria-expanded")) !== "true") await first.click();
    await page.evaluate(() => document.fonts.ready);
    await page.screenshot({ path: out(`incidents${suffix}.png`), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, "the incidents view must not make the page scroll sideways").toBeLessThanOrEqual(0);

    await page.getByTestId("tab-monitor").click();
    await expect(page.getByTestId("monitor-runbooks")).toBeVisible({ timeout: 15_000 });
    await page.evaluate(() => document.fonts.ready);
    await page.screenshot({ path: out(`monitor${suffix}.png`), fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  }
});
