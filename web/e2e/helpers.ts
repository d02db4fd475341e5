/**
 * Shared pieces of the E2E tests: where the server is, signing in, and a tiny client for the
 * simulated PVE API (self-signed certificate, token auth) used to change the cluster underneath
 * the UI.
 */
import { request as httpsRequest, Agent } from "node:https";
import { expect, type Page } from "@playwright/test";

export function serverUrl(): string {
  const url = process.env.JARVIS_E2E_URL;
  if (!url) throw new Error("JARVIS_E2E_URL is not set: global setup did not run");
  return url;
}

export function password(): string {
  return process.env.JARVIS_E2E_PASSWORD ?? "e2e-secret-password";
}

export const nodeCards = (page: Page) => page.locator('[data-testid^="node-card-"]');
export const vmRows = (page: Page) => page.locator('[data-testid^="vm-row-"]');

/** Opens the app and signs in; resolves once node cards are on screen. */
export async function signIn(page: Page): Promise<void> {
  await page.goto(`${serverUrl()}/`);
  await page.getByTestId("login-password").fill(password());
  await page.getByTestId("login-submit").click();
  await expect(nodeCards(page).first()).toBeVisible({ timeout: 30_000 });
}

// The simulator's certificate is self-signed; trusting it is for this test code only.
const insecureAgent = new Agent({ rejectUnauthorized: false });

export interface SimResponse {
  status: number;
  body: string;
  json: <T = unknown>() => T;
}

/** One request to the simulated PVE API with `Authorization: PVEAPIToken=<id>=<secret>`. */
export function sim(
  method: "GET" | "POST" | "PUT",
  path: string,
  body?: { json: unknown } | { form: string },
): Promise<SimResponse> {
  const base = process.env.JARVIS_E2E_SIM_URL;
  const secret = process.env.JARVIS_E2E_SIM_SECRET;
  const tokenId = process.env.JARVIS_E2E_SIM_TOKEN_ID ?? "root@pam!e2e";
  if (!base || !secret) throw new Error("simulator address/secret unknown (JARVIS_E2E_SIM_URL / JARVIS_E2E_SIM_SECRET)");
  const url = new URL(path, base);
  let payload = "";
  const headers: Record<string, string> = { Authorization: `PVEAPIToken=${tokenId}=${secret}` };
  if (body && "json" in body) {
    payload = JSON.stringify(body.json);
    headers["Content-Type"] = "application/json";
  } else if (body && "form" in body) {
    payload = body.form;
    headers["Content-Type"] = "application/x-www-form-urlencoded";
  }
  if (method !== "GET") headers["Content-Length"] = String(Buffer.byteLength(payload));
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, agent: insecureAgent, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, body: text, json: <T>() => JSON.parse(text) as T });
      });
    });
    req.on("timeout", () => req.destroy(new Error(`simulator request timed out: ${method} ${path}`)));
    req.on("error", reject);
    if (method !== "GET") req.write(payload);
    req.end();
  });
}

/** A `/cluster/resources?type=vm` entry as PVE sends it (0/1 booleans, loose types). */
export interface PveGuest {
  vmid: number | string;
  node: string;
  type: "qemu" | "lxc";
  status: string;
  template?: number | boolean;
  name?: string;
}

export async function setSimErrorRate(errorRate: number): Promise<void> {
  const res = await sim("PUT", "/_sim/faults", { json: { errorRate } });
  expect(res.status, `PUT /_sim/faults answered ${res.status}: ${res.body}`).toBeLessThan(300);
}

/** The signed-in page's API token (from the persisted session). */
export async function pageToken(page: Page): Promise<string> {
  const token = await page.evaluate(() => {
    const raw = localStorage.getItem("jarvis-auth");
    return raw ? (JSON.parse(raw) as { token?: string }).token ?? null : null;
  });
  if (!token) throw new Error("not signed in: no token in localStorage");
  return token;
}

/** One authenticated JSON call to the Jarvis API (for setting up and cleaning up, not for the checks). */
export async function api(
  token: string,
  method: "GET" | "POST" | "PUT",
  path: string,
  body?: unknown,
): Promise<{ status: number; json: <T = unknown>() => T; text: string }> {
  const res = await fetch(`${serverUrl()}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, text, json: <T>() => JSON.parse(text) as T };
}

export interface UiGuest {
  vmid: number;
  node: string;
  type: "qemu" | "lxc";
}

/**
 * A non-template guest the UI shows with this status (and type), other than `exclude`. Waits
 * for the list to fill. The node comes from the server's snapshot.
 */
export async function pickGuest(
  page: Page,
  status: "running" | "stopped",
  opts: { type?: "qemu" | "lxc"; exclude?: number[] } = {},
): Promise<UiGuest> {
  const rows = page.locator(
    `[data-testid^="vm-row-"][data-status="${status}"]${opts.type ? `[data-type="${opts.type}"]` : ""}:not(.vm-row--template)`,
  );
  let vmids: number[] = [];
  await expect
    .poll(
      async () => {
        const ids = await rows.evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.testid?.replace("vm-row-", ""))));
        vmids = ids.filter((id) => Number.isInteger(id) && !(opts.exclude ?? []).includes(id));
        return vmids.length;
      },
      { timeout: 30_000, message: `a ${status} ${opts.type ?? "guest"} on screen` },
    )
    .toBeGreaterThan(0);
  const vmid = vmids[0] as number;
  const snapshot = await api(await pageToken(page), "GET", "/api/cluster");
  const vm = snapshot.json<{ vms: { vmid: number; node: string; type: "qemu" | "lxc" }[] }>().vms.find((v) => v.vmid === vmid);
  if (!vm) throw new Error(`guest ${vmid} is on screen but not in GET /api/cluster`);
  return { vmid, node: vm.node, type: vm.type };
}

async function guestStatus(token: string, vmid: number): Promise<string | undefined> {
  const snapshot = await api(token, "GET", "/api/cluster");
  return snapshot.json<{ vms: { vmid: number; status: string }[] }>().vms.find((v) => v.vmid === vmid)?.status;
}

/**
 * Puts a guest back to running through the API (YELLOW start) if a test left it stopped, and
 * waits until the server's cluster state says so — otherwise the next test could pick it as a
 * "stopped" guest while it is starting.
 */
export async function ensureRunning(token: string, guest: UiGuest): Promise<void> {
  const status = await guestStatus(token, guest.vmid);
  if (status === undefined || status === "running") return;
  const tool = guest.type === "lxc" ? "start_container" : "start_vm";
  const res = await api(token, "POST", "/api/tools/execute", { tool, args: { node: guest.node, vmid: guest.vmid } });
  if (res.status >= 300) {
    console.warn(`could not restart ${guest.vmid} after the test: ${res.status} ${res.text}`);
    return;
  }
  await expect.poll(() => guestStatus(token, guest.vmid), { timeout: 30_000, message: `${guest.vmid} running again` }).toBe("running");
}

/** Releases the kill switch through the API (cleanup). */
export async function releaseKillSwitch(token: string): Promise<void> {
  const res = await api(token, "PUT", "/api/monitor/killswitch", { active: false });
  if (res.status >= 300) console.warn(`could not release the kill switch: ${res.status} ${res.text}`);
}
