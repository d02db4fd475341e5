/**
 * Starts `jarvis demo` (the server with its built-in simulated PVE cluster) on free loopback
 * ports, waits for /api/health, and hands the addresses to the tests through environment
 * variables (Playwright workers inherit global setup's process.env). The returned function is
 * the teardown: it stops the server and removes its temporary database.
 *
 * Set JARVIS_E2E_URL (plus JARVIS_E2E_SIM_URL, JARVIS_E2E_SIM_SECRET, JARVIS_E2E_PASSWORD) to
 * test a server you started yourself instead.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createWriteStream, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = resolve(webDir, "..");

export const E2E_PASSWORD = "e2e-secret-password";
export const E2E_TOKEN_ID = "root@pam!e2e";
const HEALTH_TIMEOUT_MS = 60_000;

/** A port nothing listens on right now (the OS picks it; we close and hand it over). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(text: string, lines = 80): string {
  return text.split("\n").slice(-lines).join("\n");
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `jarvis demo exited early (code ${child.exitCode}, signal ${child.signalCode}).\n--- server output ---\n${tail(output())}`,
      );
    }
    try {
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(250);
  }
  throw new Error(
    `jarvis demo did not answer GET /api/health with 200 within ${HEALTH_TIMEOUT_MS / 1000} s (last: ${last}).\n--- server output ---\n${tail(output())}`,
  );
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (process.env.JARVIS_E2E_URL) {
    process.env.JARVIS_E2E_PASSWORD ??= E2E_PASSWORD;
    return async () => undefined;
  }

  const bin = resolve(webDir, process.env.JARVIS_BIN ?? "../target/debug/jarvis");
  if (!existsSync(bin)) {
    throw new Error(`Server binary not found at ${bin}: build it (cargo build -p jarvis) or set JARVIS_BIN.`);
  }
  if (!existsSync(join(webDir, "dist", "index.html"))) {
    throw new Error("web/dist/index.html is missing: run `npm run build` before `npm run e2e`.");
  }

  const port = await freePort();
  let simPort = await freePort();
  while (simPort === port) simPort = await freePort();
  const tmp = mkdtempSync(join(tmpdir(), "jarvis-e2e-"));
  const secret = randomUUID();

  // --scripted-llm: the chat answers from the simulator's scripted models (e2e/chat.spec.ts).
  const child = spawn(bin, ["demo", "--scripted-llm"], {
    // The server finds web/dist relative to the repository root.
    cwd: repoRoot,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(port),
      JARVIS_PASSWORD: E2E_PASSWORD,
      DB_PATH: join(tmp, "jarvis.db"),
      JARVIS_SIM_PORT: String(simPort),
      PVE_TOKEN_ID: E2E_TOKEN_ID,
      PVE_TOKEN_SECRET: secret,
      JARVIS_SIM_TICK_MS: "1000",
      // No random guest crashes: specs share this server, and the monitor (level 3) would
      // restart them under the other specs' feet. e2e/monitor.spec.ts crashes guests itself.
      JARVIS_DEMO_INCIDENTS: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });

  // Keep everything the server says: in a file for post-mortems, and the tail for error messages.
  const log = createWriteStream(join(tmp, "server.log"));
  let output = "";
  const collect = (chunk: Buffer) => {
    log.write(chunk);
    output = (output + chunk.toString("utf8")).slice(-64_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(url, child, () => output);
  } catch (err) {
    child.kill("SIGKILL");
    console.error(`server log kept at ${join(tmp, "server.log")}`);
    throw err;
  }

  process.env.JARVIS_E2E_URL = url;
  process.env.JARVIS_E2E_SIM_URL = `https://127.0.0.1:${simPort}`;
  process.env.JARVIS_E2E_SIM_TOKEN_ID = E2E_TOKEN_ID;
  process.env.JARVIS_E2E_SIM_SECRET = secret;
  process.env.JARVIS_E2E_PASSWORD = E2E_PASSWORD;

  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const stopped = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!stopped) {
        child.kill("SIGKILL");
        await exited;
      }
    }
    log.end();
    if (process.env.JARVIS_E2E_KEEP_TMP) console.log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  };
}
