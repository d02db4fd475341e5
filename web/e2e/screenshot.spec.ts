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
