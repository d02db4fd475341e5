/**
 * Not an assertion-heavy test: it saves pictures of the UI for people to look at
 * (test-results/login.png, dashboard.png, dashboard-expanded.png, dashboard-phone.png).
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
