/**
 * The node terminal (TERM-01): a real shell over `/terminal` in xterm.js, two sessions at once.
 * xterm's DOM renderer puts each screen row in a div under `.xterm-rows`; the checks read those.
 */
import { expect, test, type Locator } from "@playwright/test";
import { signIn } from "./helpers";

const rowsOf = (screen: Locator) => screen.locator(".xterm-rows > div");
const screenText = async (screen: Locator) => (await rowsOf(screen).allTextContents()).join("\n");

test("a shell on a node, a second one on another node, both live at once", async ({ page }) => {
  await signIn(page);
  const select = page.getByTestId("term-node-select");
  const enabled = select.locator("option:not([disabled])");
  await expect.poll(() => enabled.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
  const online = await enabled.evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value).filter(Boolean));
  const first = online[0] as string;
  const second = online[1] ?? first;

  // Session 1: `hostname` prints the node's name on a line of its own.
  await select.selectOption(first);
  await page.getByTestId("term-connect").click();
  await expect(page.getByTestId("term-tab-1")).toBeVisible();
  await expect(page.getByTestId("term-status")).toContainText(`CONNECTED · ${first}`, { timeout: 15_000 });
  const screen = page.getByTestId("term-screen");
  await expect(screen.locator(".xterm-rows")).toBeVisible();
  await screen.click();
  await page.keyboard.type("hostname");
  await page.keyboard.press("Enter");
  await expect
    .poll(
      async () => (await rowsOf(screen).allTextContents()).some((row) => {
        const t = row.trim();
        return t === first || t.startsWith(`${first}.`);
      }),
      { timeout: 15_000, message: `a row reading "${first}" after hostname` },
    )
    .toBe(true);

  // Session 2 in its own tab (own socket), while session 1 stays open.
  await select.selectOption(second);
  await page.getByTestId("term-connect").click();
  await expect(page.getByTestId("term-tab-2")).toHaveAttribute("aria-selected", "true");
  await expect(page.getByTestId("term-status")).toContainText(`CONNECTED · ${second}`, { timeout: 15_000 });
  await expect(screen).toHaveAttribute("data-session", "2");
  await screen.click();
  await page.keyboard.type("uptime");
  await page.keyboard.press("Enter");
  await expect.poll(() => screenText(screen), { timeout: 15_000 }).toMatch(/load average|\bup\b/i);

  // Back to tab 1: still connected, its screen kept.
  await page.getByTestId("term-tab-1").click();
  await expect(page.getByTestId("term-status")).toContainText(`CONNECTED · ${first}`);
  await expect.poll(() => screenText(screen)).toContain("hostname");

  // `t` hides the panel and shows it again without losing the session.
  await page.locator("body").click({ position: { x: 5, y: 5 } });
  await page.keyboard.press("t");
  await expect(screen).toBeHidden();
  await page.keyboard.press("t");
  await expect(screen).toBeVisible();
  await expect(page.getByTestId("term-status")).toContainText("CONNECTED");

  // DISCONNECT ends session 1; session 2 is unaffected.
  await page.getByTestId("term-disconnect").click();
  await expect(page.getByTestId("term-tab-1")).toHaveAttribute("data-status", /closed|error/, { timeout: 15_000 });
  await expect(page.getByTestId("term-status")).toContainText("CLOSED");
  await expect(page.getByTestId("term-tab-2")).toHaveAttribute("data-status", "ready");
});
