import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Silence } from "../../lib/types/monitor";
import { useAuthStore } from "../../stores/auth";
import { useSilencesStore } from "../../stores/silences";
import { stubApi } from "../../test/fakeApi";
import { jsonResponse } from "../../test/fixtures";
import { EMPTY_DRAFT, validateSilence } from "./silenceForm";
import { SilencesView } from "./SilencesView";

const NOW = Date.parse("2026-11-21T10:00:00.000Z");
const silence = (id: string, over: Partial<Silence> = {}): Silence => ({
  id,
  matcher: { node: "pve2" },
  reason: "kernel update",
  createdBy: "operator",
  createdAt: new Date(Date.now()).toISOString(),
  expiresAt: new Date(Date.now() + 2 * 3600_000).toISOString(),
  ...over,
});

describe("validateSilence", () => {
  it("needs a node, guest or kind, and a reason", () => {
    const r = validateSilence(EMPTY_DRAFT, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.errors).sort()).toEqual(["matcher", "reason"]);
  });

  it("checks the guest id and the reason's characters", () => {
    const bad = (patch: Partial<typeof EMPTY_DRAFT>) => {
      const r = validateSilence({ ...EMPTY_DRAFT, reason: "ok", node: "pve1", ...patch }, NOW);
      return r.ok ? {} : r.errors;
    };
    expect(bad({ vmid: "99" }).vmid).toMatch(/100 to 999999999/);
    expect(bad({ vmid: "1e3" }).vmid).toBeDefined();
    expect(bad({ vmid: "101.5" }).vmid).toBeDefined();
    expect(bad({ reason: "a\nb" }).reason).toMatch(/control/);
    expect(bad({ reason: "x".repeat(501) }).reason).toMatch(/500/);
    expect(bad({ reason: "   " }).reason).toMatch(/why/i);
    expect(bad({ kind: "weather" }).kind).toBeDefined();
    expect(bad({ duration: "forever" }).duration).toBeDefined();
  });

  it("builds the body: only the given matcher fields, a trimmed reason, the preset's expiry", () => {
    const r = validateSilence({ node: "", vmid: " 105 ", kind: "crash", reason: "  testing  ", duration: "30m" }, NOW);
    expect(r).toEqual({ ok: true, body: { matcher: { vmid: 105, kind: "crash" }, reason: "testing", expiresAt: "2026-11-21T10:30:00.000Z" } });
    const day = validateSilence({ ...EMPTY_DRAFT, node: "pve1", reason: "r", duration: "24h" }, NOW);
    expect(day.ok && day.body.expiresAt).toBe("2026-11-22T10:00:00.000Z");
  });
});

describe("SilencesView", () => {
  let onServer: Silence[];
  let api: ReturnType<typeof stubApi>;
  beforeEach(() => {
    useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
    useSilencesStore.getState().reset();
    onServer = [silence("s1")];
    api = stubApi((req) => {
      if (req.method === "GET" && req.url === "/api/monitor/silences") return jsonResponse(200, { silences: onServer });
      if (req.method === "POST" && req.url === "/api/monitor/silences") {
        const body = req.body as { matcher: Silence["matcher"]; reason: string; expiresAt: string };
        if (body.reason === "refuse me") return jsonResponse(400, { error: { code: "invalid_silence", message: "expiresAt must be in the future" } });
        const created = silence("s2", { matcher: body.matcher, reason: body.reason, expiresAt: body.expiresAt });
        onServer = [...onServer, created];
        return jsonResponse(201, created);
      }
      if (req.method === "DELETE" && req.url === "/api/monitor/silences/s1") {
        onServer = onServer.filter((s) => s.id !== "s1");
        return new Response(null, { status: 204 });
      }
      return undefined;
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("lists silences with what they match, why and when they end", async () => {
    render(<SilencesView />);
    const item = await screen.findByTestId("silence-s1");
    expect(item).toHaveTextContent("node pve2");
    expect(item).toHaveTextContent("kernel update");
    expect(item).toHaveTextContent(/in 1:59:5\d|in 2:00:00/);
    expect(item).toHaveTextContent("by operator");
  });

  it("shows what is wrong and sends nothing when the form is incomplete", async () => {
    render(<SilencesView />);
    await screen.findByTestId("silence-s1");
    fireEvent.click(screen.getByTestId("silence-submit"));
    expect(screen.getByTestId("silence-error-matcher")).toHaveTextContent("a silence of everything is not allowed");
    expect(screen.getByTestId("silence-error-reason")).toBeInTheDocument();
    fireEvent.change(screen.getByTestId("silence-vmid"), { target: { value: "12" } });
    fireEvent.click(screen.getByTestId("silence-submit"));
    expect(screen.getByTestId("silence-error-vmid")).toBeInTheDocument();
    expect(api.calls.filter((c) => c.method === "POST")).toEqual([]);
  });

  it("creates a silence for a guest and kind for 8 h and lists it", async () => {
    render(<SilencesView />);
    await screen.findByTestId("silence-s1");
    fireEvent.change(screen.getByTestId("silence-vmid"), { target: { value: "105" } });
    fireEvent.change(screen.getByTestId("silence-kind"), { target: { value: "crash" } });
    fireEvent.change(screen.getByTestId("silence-reason"), { target: { value: "migrating storage" } });
    fireEvent.click(screen.getByTestId("silence-duration-8h"));
    const before = Date.now();
    await act(async () => fireEvent.click(screen.getByTestId("silence-submit")));
    const post = api.calls.find((c) => c.method === "POST");
    const body = post?.body as { matcher: unknown; reason: string; expiresAt: string };
    expect(body.matcher).toEqual({ vmid: 105, kind: "crash" });
    expect(body.reason).toBe("migrating storage");
    const ahead = Date.parse(body.expiresAt) - before;
    expect(ahead).toBeGreaterThanOrEqual(8 * 3600_000 - 1000);
    expect(ahead).toBeLessThanOrEqual(8 * 3600_000 + 1000);
    expect(await screen.findByTestId("silence-s2")).toHaveTextContent("guest 105 · guest crash");
    expect(screen.getByTestId("silence-done")).toHaveTextContent("Silenced guest 105 · guest crash until");
    expect(screen.getByTestId("silence-reason")).toHaveValue("");
  });

  it("shows the server's refusal and keeps what was typed", async () => {
    render(<SilencesView />);
    await screen.findByTestId("silence-s1");
    fireEvent.change(screen.getByTestId("silence-node"), { target: { value: "" } });
    fireEvent.change(screen.getByTestId("silence-kind"), { target: { value: "backup" } });
    fireEvent.change(screen.getByTestId("silence-reason"), { target: { value: "refuse me" } });
    await act(async () => fireEvent.click(screen.getByTestId("silence-submit")));
    expect(screen.getByTestId("silence-server-error")).toHaveTextContent("expiresAt must be in the future");
    expect(screen.getByTestId("silence-reason")).toHaveValue("refuse me");
  });

  it("DELETE removes it", async () => {
    render(<SilencesView />);
    await screen.findByTestId("silence-s1");
    await act(async () => fireEvent.click(screen.getByTestId("silence-delete-s1")));
    expect(screen.queryByTestId("silence-s1")).toBeNull();
    expect(screen.getByTestId("silences-empty")).toHaveTextContent("No silences in force.");
    expect(api.sent("DELETE", "/api/monitor/silences/s1")).toHaveLength(1);
  });
});
