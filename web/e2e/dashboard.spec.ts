import { expect, test } from "@playwright/test";
import { nodeCards, serverUrl, setSimErrorRate, sim, signIn, vmRows, type PveGuest } from "./helpers";

test.describe.configure({ mode: "serial" });

test("wrong password shows an error; the right one opens the dashboard", async ({ page }) => {
  await page.goto(`${serverUrl()}/`);
  await page.getByTestId("login-password").fill("definitely-not-the-password");
  await page.getByTestId("login-submit").click();
  await expect(page.getByTestId("login-error")).toBeVisible();
  await expect(page.getByTestId("login-error")).toContainText(/wrong access code|too many attempts/i);
  await expect(nodeCards(page)).toHaveCount(0);

  await page.getByTestId("login-password").fill(process.env.JARVIS_E2E_PASSWORD ?? "e2e-secret-password");
  await page.getByTestId("login-submit").click();
  await expect(nodeCards(page).first()).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("login-password")).toHaveCount(0);
  await expect(page.getByTestId("topbar-quorum")).toBeVisible();
});

test("nodes, VMs and containers appear", async ({ page }) => {
  await signIn(page);
  await expect.poll(() => nodeCards(page).count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
  await expect.poll(() => vmRows(page).and(page.locator('[data-type="qemu"]')).count()).toBeGreaterThanOrEqual(1);
  await expect.poll(() => vmRows(page).and(page.locator('[data-type="lxc"]')).count()).toBeGreaterThanOrEqual(1);
  await expect.poll(() => vmRows(page).and(page.locator('[data-status="running"]')).count()).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId("conn-status")).toHaveText(/LIVE/, { timeout: 20_000 });
  await expect(page.getByTestId("topbar-quorum")).toContainText(/QUORATE|NO QUORUM/);
});

test("values change live without a reload", async ({ page }) => {
  await signIn(page);
  const cpuTexts = page.locator('[data-testid^="node-cpu-"]');
  await expect.poll(() => cpuTexts.count()).toBeGreaterThanOrEqual(4);
  const before = await cpuTexts.allTextContents();
  await expect
    .poll(async () => (await cpuTexts.allTextContents()).some((text, i) => text !== before[i]), {
      timeout: 20_000,
      message: `node CPU figures never changed from ${before.join(", ")}`,
    })
    .toBe(true);
});

test("a guest started behind the UI's back shows as running without a reload", async ({ page }) => {
  await signIn(page);
  const res = await sim("GET", "/api2/json/cluster/resources?type=vm");
  expect(res.status, res.body).toBe(200);
  const guests = res.json<{ data: PveGuest[] }>().data;
  const target = guests.find((g) => g.status === "stopped" && !g.template);
  expect(target, "the simulated cluster has a stopped, non-template guest").toBeTruthy();
  if (!target) return;
  const vmid = Number(target.vmid);

  const status = page.getByTestId(`vm-status-${vmid}`);
  await expect(status).toHaveText("stopped");

  const start = await sim("POST", `/api2/json/nodes/${target.node}/${target.type}/${vmid}/status/start`, { form: "" });
  expect(start.status, start.body).toBeLessThan(300);

  await expect(status).toHaveText("running", { timeout: 30_000 });
});

test("a reload keeps you signed in; logout returns to the login screen and revokes the token", async ({ page, request }) => {
  await signIn(page);
  await page.reload();
  await expect(nodeCards(page).first()).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("login-password")).toHaveCount(0);

  const token = await page.evaluate(() => {
    const raw = localStorage.getItem("jarvis-auth");
    return raw ? (JSON.parse(raw) as { token: string }).token : null;
  });
  expect(token).toBeTruthy();

  await page.getByTestId("logout").click();
  await expect(page.getByTestId("login-password")).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("login-password")).toBeVisible();

  // The server must have revoked it, not just the browser forgotten it.
  await expect
    .poll(async () => (await request.get(`${serverUrl()}/api/cluster`, { headers: { Authorization: `Bearer ${token}` } })).status())
    .toBe(401);
});

test("PVE failures mark the data stale but keep it on screen", async ({ page }) => {
  await signIn(page);
  await expect.poll(() => nodeCards(page).count()).toBeGreaterThanOrEqual(4);
  const cards = await nodeCards(page).count();
  await expect(page.getByTestId("stale-badge")).toHaveCount(0, { timeout: 30_000 });
  try {
    await setSimErrorRate(1.0);
    await expect(page.getByTestId("stale-badge")).toBeVisible({ timeout: 45_000 });
    await expect(page.getByTestId("stale-badge")).toContainText("DATA STALE");
    await expect(nodeCards(page)).toHaveCount(cards);
    await expect(nodeCards(page).first()).toBeVisible();
  } finally {
    await setSimErrorRate(0);
  }
  await expect(page.getByTestId("stale-badge")).toHaveCount(0, { timeout: 45_000 });
  await expect(nodeCards(page)).toHaveCount(cards);
});
