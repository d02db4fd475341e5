import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../lib/api";
import { jsonResponse, snapshot } from "../test/fixtures";
import { AUTH_STORAGE_KEY, isSessionValid, restoreSession, useAuthStore, withAuth } from "./auth";
import { useClusterStore } from "./cluster";

const NOW = Date.parse("2026-11-21T10:00:00Z");

function store(value: unknown) {
  localStorage.setItem(AUTH_STORAGE_KEY, typeof value === "string" ? value : JSON.stringify(value));
}

beforeEach(() => useAuthStore.setState({ session: null, notice: null }));
afterEach(() => vi.unstubAllGlobals());

describe("restoreSession", () => {
  it("restores an unexpired stored session (reload keeps you signed in)", () => {
    store({ token: "abc", expiresAt: "2026-11-22T10:00:00Z" });
    expect(restoreSession(NOW)).toEqual({ token: "abc", expiresAt: "2026-11-22T10:00:00Z" });
  });

  it("drops and forgets an expired session", () => {
    store({ token: "abc", expiresAt: "2026-11-21T09:00:00Z" });
    expect(restoreSession(NOW)).toBeNull();
    expect(localStorage.getItem(AUTH_STORAGE_KEY)).toBeNull();
  });

  it("treats a session about to expire (within the margin) as expired", () => {
    expect(isSessionValid({ token: "t", expiresAt: "2026-11-21T10:00:10Z" }, NOW)).toBe(false);
    expect(isSessionValid({ token: "t", expiresAt: "2026-11-21T10:05:00Z" }, NOW)).toBe(true);
  });

  it("drops corrupt or incomplete stored values", () => {
    store("{not json");
    expect(restoreSession(NOW)).toBeNull();
    store({ token: "abc" });
    expect(restoreSession(NOW)).toBeNull();
    store({ token: "abc", expiresAt: "whenever" });
    expect(restoreSession(NOW)).toBeNull();
    expect(localStorage.getItem(AUTH_STORAGE_KEY)).toBeNull();
  });

  it("returns null when nothing is stored", () => {
    expect(restoreSession(NOW)).toBeNull();
  });
});

describe("sign in and out", () => {
  it("signIn persists the session", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => jsonResponse(200, { token: "t1", expiresAt: "2099-01-01T00:00:00Z" })));
    await useAuthStore.getState().signIn("pw");
    expect(useAuthStore.getState().session?.token).toBe("t1");
    expect(JSON.parse(localStorage.getItem(AUTH_STORAGE_KEY) ?? "null")).toEqual({
      token: "t1",
      expiresAt: "2099-01-01T00:00:00Z",
    });
  });

  it("signOut revokes the token on the server, clears storage and the cluster data", async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => new Response(null, { status: 204 }));
    vi.stubGlobal("fetch", fetchMock);
    useAuthStore.setState({ session: { token: "t1", expiresAt: "2099-01-01T00:00:00Z" } });
    store({ token: "t1", expiresAt: "2099-01-01T00:00:00Z" });
    useClusterStore.getState().loadSnapshot(snapshot());

    useAuthStore.getState().signOut();

    expect(useAuthStore.getState().session).toBeNull();
    expect(localStorage.getItem(AUTH_STORAGE_KEY)).toBeNull();
    expect(useClusterStore.getState().nodes).toEqual([]);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe("/api/auth/logout");
    expect(init?.method).toBe("POST");
    expect(init?.headers).toMatchObject({ Authorization: "Bearer t1" });
  });

  it("withAuth signs out on 401 without calling logout, and passes other errors through", async () => {
    const fetchMock = vi.fn();
    vi.stubGlobal("fetch", fetchMock);
    useAuthStore.setState({ session: { token: "t1", expiresAt: "2099-01-01T00:00:00Z" } });

    await expect(withAuth(async () => Promise.reject(new ApiError(502, "upstream_error", "x")))).rejects.toBeInstanceOf(ApiError);
    expect(useAuthStore.getState().session).not.toBeNull();

    await expect(withAuth(async () => Promise.reject(new ApiError(401, "unauthorized", "x")))).rejects.toBeInstanceOf(ApiError);
    expect(useAuthStore.getState().session).toBeNull();
    expect(useAuthStore.getState().notice).toMatch(/sign in again/i);
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
