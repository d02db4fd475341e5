import { afterEach, describe, expect, it, vi } from "vitest";
import { jsonResponse } from "../test/fixtures";
import { ApiError, login, parseRetryAfter, request } from "./api";

afterEach(() => vi.unstubAllGlobals());

describe("parseRetryAfter", () => {
  it("reads delay-seconds and HTTP dates", () => {
    expect(parseRetryAfter("42")).toBe(42);
    const now = Date.parse("2026-11-21T10:00:00Z");
    expect(parseRetryAfter("Sat, 21 Nov 2026 10:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("soon")).toBeNull();
  });
});

describe("request", () => {
  it("turns the server's error body into an ApiError with code, message and Retry-After", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        jsonResponse(429, { error: { code: "rate_limited", message: "slow down" } }, { "Retry-After": "17" }),
      ),
    );
    const err = await login("x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 429, code: "rate_limited", message: "slow down", retryAfterSeconds: 17 });
  });

  it("reports an unreachable server as status 0 / network_error", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    await expect(request("/api/cluster")).rejects.toMatchObject({ status: 0, code: "network_error" });
  });

  it("sends the bearer token and JSON body", async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => jsonResponse(200, { ok: true }));
    vi.stubGlobal("fetch", fetchMock);
    await request("/api/x", { method: "POST", token: "tok", body: { a: 1 } });
    const init = fetchMock.mock.calls[0]?.[1];
    expect(init?.headers).toMatchObject({ Authorization: "Bearer tok", "Content-Type": "application/json" });
    expect(init?.body).toBe('{"a":1}');
  });

  it("resolves 204 to undefined and keeps non-JSON errors readable", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(null, { status: 204 })));
    await expect(request("/api/auth/logout", { method: "POST" })).resolves.toBeUndefined();
    vi.stubGlobal("fetch", vi.fn(async () => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" })));
    await expect(request("/api/cluster")).rejects.toMatchObject({ status: 502, code: "http_502", message: "Bad Gateway" });
  });
});
