/**
 * Guest actions through the server's safety pipeline (UI-03, UI-05 kill switch): RED actions only
 * run through a server confirmation the operator authorizes; YELLOW ones run directly; the kill
 * switch stops everything. Every test puts the cluster back as it found it (guests running, kill
 * switch off), because the other specs share this server.
 */
import { expect, test, type Page } from "@playwright/test";
import { ensureRunning, pageToken, pickGuest, releaseKillSwitch, signIn, type UiGuest } from "./helpers";

test.describe.configure({ mode: "serial" });

/** Hover the row (the buttons show on hover) and click one of its actions. */
async function clickAction(page: Page, action: "start" | "shutdown" | "restart" | "stop", vmid: number, force = false) {
  await page.getByTestId(`vm-row-${vmid}`).hover();
  await page.getByTestId(`vm-action-${action}-${vmid}`).click({ force });
}

/** The pending-list entry about this guest (other tests or the chat may have their own). */
const pendingItem = (page: Page, vmid: number) =>
  page.getByTestId("pending-confirmations").locator('[data-testid^="pending-item-"]', { hasText: new RegExp(`\\b${vmid}\\b`) });

test("stopping a running VM asks for authorization; AUTHORIZE stops it; START brings it back", async ({ page }) => {
  await signIn(page);
  const guest = await pickGuest(page, "running", { type: "qemu" });
  const token = await pageToken(page);
  try {
    await clickAction(page, "stop", guest.vmid);
    const dialog = page.getByTestId("confirm-dialog");
    await expect(dialog).toBeVisible();
    await expect(page.getByTestId("confirm-summary")).toContainText(String(guest.vmid));
    await expect(dialog.getByTestId("tier-badge")).toHaveText("RED");
    await expect(page.getByTestId("confirm-expiry")).toHaveText(/EXPIRES IN \d+:\d\d/);
    await expect(page.getByTestId("confirm-args-vmid")).toContainText(String(guest.vmid));
    // Nothing ran yet: the server only recorded the request.
    await expect(page.getByTestId(`vm-status-${guest.vmid}`)).toHaveText("running");

    await page.getByTestId("confirm-approve").click();
    await expect(dialog).toBeHidden({ timeout: 30_000 });
    await expect(page.getByTestId(`vm-status-${guest.vmid}`)).toHaveText("stopped", { timeout: 30_000 });
    await expect(page.getByTestId(`vm-action-error-${guest.vmid}`)).toHaveCount(0);

    // YELLOW: no dialog, a spinner, then running again.
    await clickAction(page, "start", guest.vmid);
    await expect(dialog).toBeHidden();
    await expect(page.getByTestId(`vm-status-${guest.vmid}`)).toHaveText("running", { timeout: 30_000 });
  } finally {
    await ensureRunning(token, guest);
  }
});

test("DENY leaves the VM running", async ({ page }) => {
  await signIn(page);
  const guest = await pickGuest(page, "running", { type: "qemu" });
  const token = await pageToken(page);
  try {
    await clickAction(page, "stop", guest.vmid);
    await expect(page.getByTestId("confirm-dialog")).toBeVisible();
    await expect(page.getByTestId("confirm-summary")).toContainText(String(guest.vmid));
    await page.getByTestId("confirm-deny").click();
    await expect(page.getByTestId("confirm-dialog")).toBeHidden({ timeout: 15_000 });
    await expect(page.getByTestId(`vm-action-status-${guest.vmid}`)).toContainText(/denied/i);
    // Give a wrongly executed stop time to show up before concluding it did not happen.
    await page.waitForTimeout(5_000);
    await expect(page.getByTestId(`vm-status-${guest.vmid}`)).toHaveText("running");
    await expect(pendingItem(page, guest.vmid)).toHaveCount(0);
  } finally {
    await ensureRunning(token, guest);
  }
});

test("a pending authorization survives a reload and can be authorized from the list", async ({ page }) => {
  await signIn(page);
  const guest: UiGuest = await pickGuest(page, "running", { type: "lxc" }).catch(() => pickGuest(page, "running"));
  const token = await pageToken(page);
  try {
    await clickAction(page, "stop", guest.vmid);
    await expect(page.getByTestId("confirm-dialog")).toBeVisible();
    // Esc closes without deciding: the request stays pending on the server.
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("confirm-dialog")).toBeHidden();
    const list = page.getByTestId("pending-confirmations");
    await expect(list).toBeVisible();
    await expect(page.getByTestId(`vm-action-pending-${guest.vmid}`)).toBeVisible();

    await page.reload();
    await expect(list).toBeVisible({ timeout: 30_000 });
    await expect(list).toContainText(/PENDING AUTHORIZATION \(\d+\)/);
    const item = pendingItem(page, guest.vmid);
    await expect(item).toHaveCount(1);
    await expect(page.getByTestId(`vm-status-${guest.vmid}`)).toHaveText("running");

    await item.locator('[data-testid^="pending-approve-"]').click();
    await expect(item).toHaveCount(0, { timeout: 30_000 });
    await expect(page.getByTestId(`vm-status-${guest.vmid}`)).toHaveText("stopped", { timeout: 30_000 });
  } finally {
    await ensureRunning(token, guest);
  }
});

test("kill switch: one click engages it, actions are refused by the server, RESUME releases it", async ({ page }) => {
  await signIn(page);
  const token = await pageToken(page);
  const toggle = page.getByTestId("killswitch-toggle");
  const banner = page.getByTestId("killswitch-banner");
  await expect(toggle).toHaveAttribute("data-state", "off", { timeout: 15_000 });
  const guest = await pickGuest(page, "stopped");
  try {
    await toggle.click();
    await expect(banner).toBeVisible();
    await expect(banner).toContainText("KILL SWITCH ACTIVE");
    await expect(toggle).toHaveAttribute("aria-pressed", "true");
    await expect(page.getByTestId("killswitch-error")).toHaveCount(0);

    const start = page.getByTestId(`vm-action-start-${guest.vmid}`);
    await expect(start).toHaveAttribute("aria-disabled", "true");
    // Marked disabled, but a click still asks the server, whose refusal the row shows.
    await clickAction(page, "start", guest.vmid, true);
    await expect(page.getByTestId(`vm-action-error-${guest.vmid}`)).toContainText(/kill.?switch/i, { timeout: 15_000 });
    await page.waitForTimeout(3_000);
    await expect(page.getByTestId(`vm-status-${guest.vmid}`)).toHaveText("stopped");

    // Survives a reload (the state is the server's).
    await page.reload();
    await expect(banner).toBeVisible({ timeout: 30_000 });

    await toggle.click();
    await expect(page.getByTestId("killswitch-confirm")).toContainText("Resume actions?");
    await page.getByTestId("killswitch-resume").click();
    await expect(banner).toBeHidden();
    await expect(toggle).toHaveAttribute("data-state", "off");
  } finally {
    await releaseKillSwitch(token);
  }
});
