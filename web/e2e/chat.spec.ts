/**
 * The chat (UI-04) against `jarvis demo --scripted-llm`: the simulator's demo responder answers
 * "what is the cluster status" with a `get_cluster_status` call and a summary, and
 * "stop vm 101" with a `stop_vm` call (RED → a confirmation the operator decides in the chat).
 * The last test uses slash commands, which answer without any model.
 * Every test leaves VM 101 running and no confirmation of its own pending, because the other
 * specs share this server.
 */
import { expect, test, type Page } from "@playwright/test";
import { api, ensureRunning, pageToken, signIn, type UiGuest } from "./helpers";

test.describe.configure({ mode: "serial" });

const VMID = 101;

const userMessages = (page: Page) => page.locator('[data-testid="chat-message"][data-role="user"]');

/** Opens the CHAT tab and waits for the `/chat` socket. */
async function openChat(page: Page): Promise<void> {
  await page.getByTestId("tab-chat").click();
  await expect(page.getByTestId("chat-panel")).toHaveAttribute("data-connected", "true", { timeout: 30_000 });
}

/** Types a message and sends it with Enter. */
async function say(page: Page, text: string): Promise<void> {
  const input = page.getByTestId("chat-input");
  await expect(input).toBeEnabled({ timeout: 30_000 });
  await input.fill(text);
  await input.press("Enter");
  await expect(userMessages(page).filter({ hasText: text }).last()).toBeVisible();
}

/** Waits until the turn in progress has finished. */
async function turnDone(page: Page): Promise<void> {
  await expect(page.getByTestId("chat-panel")).toHaveAttribute("data-running", "false", { timeout: 30_000 });
}

const assistantMessages = (page: Page) => page.locator('[data-testid="chat-message"][data-role="assistant"]');
const stopCard = (page: Page) => page.locator('[data-testid="chat-tool"][data-tool="stop_vm"]').last();

/** VM 101 as the server sees it (node and type for the cleanup). */
async function vm101(page: Page): Promise<UiGuest> {
  const snapshot = await api(await pageToken(page), "GET", "/api/cluster");
  const vm = snapshot.json<{ vms: { vmid: number; node: string; type: "qemu" | "lxc" }[] }>().vms.find((v) => v.vmid === VMID);
  if (!vm) throw new Error(`VM ${VMID} is not in the demo cluster`);
  return { vmid: vm.vmid, node: vm.node, type: vm.type };
}

/** Denies whatever confirmation about VM 101 is still pending (a failed test must not leave one behind). */
async function denyLeftovers(token: string): Promise<void> {
  const res = await api(token, "GET", "/api/confirmations");
  if (res.status !== 200) return;
  const pending = res.json<{ confirmations: { id: string; args?: { vmid?: number } }[] }>().confirmations;
  for (const c of pending.filter((p) => p.args?.vmid === VMID)) {
    await api(token, "POST", `/api/confirmations/${encodeURIComponent(c.id)}`, { decision: "deny" });
  }
}

/** Signs in, makes sure VM 101 runs, opens the chat. */
async function start(page: Page): Promise<{ token: string; guest: UiGuest }> {
  await signIn(page);
  const token = await pageToken(page);
  const guest = await vm101(page);
  await ensureRunning(token, guest);
  await expect(page.getByTestId(`vm-status-${VMID}`)).toHaveText("running", { timeout: 30_000 });
  await openChat(page);
  return { token, guest };
}

/** "stop vm 101" → the stop_vm card asking for authorization. */
async function askToStop(page: Page): Promise<void> {
  await say(page, `stop vm ${VMID}`);
  const card = stopCard(page);
  await expect(card).toHaveAttribute("data-status", "pending", { timeout: 30_000 });
  await expect(card.getByTestId("tier-badge").first()).toHaveText("RED");
  await expect(card.getByTestId("chat-confirm")).toBeVisible();
  await expect(card.getByTestId("chat-confirm-summary")).toContainText(String(VMID));
  await expect(card.getByTestId("chat-confirm-args-vmid")).toContainText(String(VMID));
  await expect(card.getByTestId("chat-confirm-expiry")).toHaveText(/^\d+:\d\d$/);
  await expect(page.getByTestId("chat-abort")).toBeVisible();
}

test("a question streams a reply with a provider badge; a RED request survives a reload and AUTHORIZE stops the VM", async ({ page }) => {
  const { token, guest } = await start(page);
  try {
    await expect(page.getByTestId("chat-empty")).toContainText(/online/i);
    await say(page, "what is the cluster status");
    const first = assistantMessages(page).first();
    await expect(first).toBeVisible({ timeout: 30_000 });
    await expect(first.getByTestId("chat-provider-badge")).toHaveAttribute("data-provider", /^(claude|local)$/);
    await expect(first.getByTestId("chat-provider-badge")).toContainText("scripted demo");
    await expect(page.getByTestId("chat-route").first()).toContainText("→");
    await turnDone(page);
    const statusCall = page.locator('[data-testid="chat-tool"][data-tool="get_cluster_status"]').first();
    await expect(statusCall).toHaveAttribute("data-status", "ok");
    const reply = assistantMessages(page).last();
    await expect(reply.getByTestId("chat-text")).toContainText("get_cluster_status");
    await expect(reply).toHaveAttribute("data-streaming", "false");
    await expect(reply.getByTestId("chat-provider-badge")).toBeVisible();
    await expect(reply.getByTestId("chat-usage")).toBeVisible();

    await askToStop(page);
    const confirmationId = await stopCard(page).getByTestId("chat-confirm").getAttribute("data-confirmation-id");
    expect(confirmationId).toBeTruthy();
    await expect(page.getByTestId(`vm-status-${VMID}`)).toHaveText("running");

    // The session and its pending confirmation come back after a reload (chat:join replay).
    await page.reload();
    await openChat(page);
    await expect(userMessages(page).filter({ hasText: "what is the cluster status" })).toHaveCount(1, { timeout: 30_000 });
    await expect(stopCard(page).getByTestId("chat-confirm")).toHaveAttribute("data-confirmation-id", confirmationId ?? "", { timeout: 30_000 });

    await stopCard(page).getByTestId("chat-confirm-approve").click();
    await expect(stopCard(page)).toHaveAttribute("data-status", "ok", { timeout: 30_000 });
    await expect(stopCard(page).getByTestId("chat-confirm")).toHaveCount(0);
    await turnDone(page);
    await expect(assistantMessages(page).last().getByTestId("chat-text")).toContainText("stop_vm");
    await expect(page.getByTestId(`vm-status-${VMID}`)).toHaveText(/^(stopped|stopping)$/, { timeout: 30_000 });
    // The cost tracker reloads after every finished turn; it shows the day's spend.
    await expect(page.getByTestId("cost-total")).toHaveText(/^\$\d/);
  } finally {
    await denyLeftovers(token);
    await ensureRunning(token, guest);
  }
});

test("DENY in the chat answers the model with a denial and leaves the VM running", async ({ page }) => {
  const { token, guest } = await start(page);
  try {
    await askToStop(page);
    await stopCard(page).getByTestId("chat-confirm-deny").click();
    await expect(stopCard(page)).toHaveAttribute("data-status", "denied", { timeout: 30_000 });
    await expect(stopCard(page).getByTestId("chat-tool-status")).toHaveText("DENIED");
    await expect(stopCard(page).getByTestId("chat-tool-result")).toContainText(/denied/i);
    await turnDone(page);
    await expect(assistantMessages(page).last().getByTestId("chat-text")).toContainText(/did not run/i);
    // Give a wrongly executed stop time to show up before concluding it did not happen.
    await page.waitForTimeout(3_000);
    await expect(page.getByTestId(`vm-status-${VMID}`)).toHaveText("running");
  } finally {
    await denyLeftovers(token);
    await ensureRunning(token, guest);
  }
});

test("ABORT ends a running turn; nothing runs", async ({ page }) => {
  const { token, guest } = await start(page);
  try {
    // The turn waits for the operator on the RED call: a turn in progress for as long as we need.
    await askToStop(page);
    await expect(page.getByTestId("chat-input")).toBeDisabled();
    await page.getByTestId("chat-abort").click();
    await turnDone(page);
    await expect(page.getByTestId("chat-abort")).toHaveCount(0);
    await expect(page.getByTestId("chat-send")).toBeVisible();
    await expect(page.getByTestId("chat-input")).toBeEnabled();
    await expect(stopCard(page)).toHaveAttribute("data-status", "aborted");
    await expect(stopCard(page).getByTestId("chat-confirm")).toHaveCount(0);
    await expect(page.locator('[data-testid="chat-message"][data-stop-reason="aborted"]')).toHaveCount(1);
    await page.waitForTimeout(2_000);
    await expect(page.getByTestId(`vm-status-${VMID}`)).toHaveText("running");

    // The chat still works after an abort.
    await say(page, "what is the cluster status");
    await turnDone(page);
    await expect(assistantMessages(page).last().getByTestId("chat-text")).toContainText("get_cluster_status");
  } finally {
    await denyLeftovers(token);
    await ensureRunning(token, guest);
  }
});

test("slash commands answer without a model; /stop asks for authorization like the model's call", async ({ page }) => {
  const { token, guest } = await start(page);
  try {
    await say(page, "/status");
    await turnDone(page);
    const reply = assistantMessages(page).last();
    await expect(reply.getByTestId("chat-provider-badge")).toHaveAttribute("data-provider", "slash");
    await expect(reply.getByTestId("chat-text")).toContainText(/quorate/i);

    await say(page, `/stop ${VMID}`);
    const card = stopCard(page);
    await expect(card).toHaveAttribute("data-status", "pending", { timeout: 30_000 });
    await expect(card.getByTestId("chat-confirm-summary")).toContainText(String(VMID));
    await card.getByTestId("chat-confirm-deny").click();
    await expect(card).toHaveAttribute("data-status", "denied", { timeout: 30_000 });
    await turnDone(page);
    await expect(page.getByTestId(`vm-status-${VMID}`)).toHaveText("running");
  } finally {
    await denyLeftovers(token);
    await ensureRunning(token, guest);
  }
});
