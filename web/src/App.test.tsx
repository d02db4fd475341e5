/**
 * The whole app in jsdom with the network faked: auth restore on reload (the original lost it),
 * the dashboard filling from GET /api/cluster, and staleness that marks but never blanks.
 */
import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { jsonResponse, snapshot } from "./test/fixtures";

vi.mock("socket.io-client", () => ({
  io: () => {
    const socket = {
      connected: false,
      active: true,
      io: { on: () => undefined, removeAllListeners: () => undefined },
      on: () => socket,
      emit: () => undefined,
      connect: () => undefined,
      disconnect: () => undefined,
      removeAllListeners: () => undefined,
    };
    return socket;
  },
}));

const AUTH_KEY = "jarvis-auth";

/** Fresh modules, as on a page load, so the stores read localStorage again. */
async function loadApp() {
  vi.resetModules();
  const { App } = await import("./App");
  const { useClusterStore } = await import("./stores/cluster");
  return { App, useClusterStore };
}

let fetchMock: ReturnType<typeof vi.fn>;

beforeEach(() => {
  fetchMock = vi.fn(async (url: string) => {
    if (url === "/api/cluster") return jsonResponse(200, snapshot());
    if (url === "/api/auth/logout") return new Response(null, { status: 204 });
    return jsonResponse(404, { error: { code: "not_found", message: "?" } });
  });
  vi.stubGlobal("fetch", fetchMock);
});
afterEach(() => vi.unstubAllGlobals());

describe("App", () => {
  it("shows the login screen without a stored session", async () => {
    const { App } = await loadApp();
    render(<App />);
    expect(screen.getByTestId("login-password")).toBeInTheDocument();
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("goes straight to the dashboard when a valid session is stored, and fills it from GET /api/cluster", async () => {
    localStorage.setItem(AUTH_KEY, JSON.stringify({ token: "tok", expiresAt: "2099-01-01T00:00:00Z" }));
    const { App } = await loadApp();
    render(<App />);
    expect(screen.queryByTestId("login-password")).toBeNull();
    expect(await screen.findByTestId("node-card-pve1")).toBeInTheDocument();
    expect(screen.getByTestId("vm-row-100")).toBeInTheDocument();
    expect(screen.getByTestId("storage-row-local-pve1")).toBeInTheDocument();
    expect(screen.getByTestId("topbar-quorum")).toHaveTextContent("3/3");
    expect(screen.getByTestId("topbar-quorum")).toHaveTextContent("QUORATE");
    expect(screen.getByTestId("topbar-quorum")).toHaveTextContent("homelab");
    expect(screen.getByText("VMS & CONTAINERS (2)")).toBeInTheDocument();
    const [url, init] = fetchMock.mock.calls.find(([u]) => u === "/api/cluster") ?? [];
    expect(url).toBe("/api/cluster");
    expect((init as RequestInit).headers).toMatchObject({ Authorization: "Bearer tok" });
  });

  it("shows the login screen when the stored session has expired", async () => {
    localStorage.setItem(AUTH_KEY, JSON.stringify({ token: "tok", expiresAt: "2000-01-01T00:00:00Z" }));
    const { App } = await loadApp();
    render(<App />);
    expect(screen.getByTestId("login-password")).toBeInTheDocument();
    expect(localStorage.getItem(AUTH_KEY)).toBeNull();
  });

  it("returns to login when the server answers 401 (token revoked)", async () => {
    localStorage.setItem(AUTH_KEY, JSON.stringify({ token: "revoked", expiresAt: "2099-01-01T00:00:00Z" }));
    fetchMock.mockImplementation(async () => jsonResponse(401, { error: { code: "unauthorized", message: "no" } }));
    const { App } = await loadApp();
    render(<App />);
    expect(await screen.findByTestId("login-password")).toBeInTheDocument();
    expect(screen.getByTestId("login-notice")).toHaveTextContent(/sign in again/i);
  });

  it("says it is waiting before the first data instead of showing empty panels", async () => {
    localStorage.setItem(AUTH_KEY, JSON.stringify({ token: "tok", expiresAt: "2099-01-01T00:00:00Z" }));
    fetchMock.mockImplementation(() => new Promise(() => undefined));
    const { App } = await loadApp();
    render(<App />);
    expect(screen.getAllByText("Awaiting cluster data…").length).toBeGreaterThan(0);
    expect(screen.queryByTestId("stale-badge")).toBeNull();
  });

  it("marks stale data with a badge and keeps the node cards", async () => {
    localStorage.setItem(AUTH_KEY, JSON.stringify({ token: "tok", expiresAt: "2099-01-01T00:00:00Z" }));
    const { App, useClusterStore } = await loadApp();
    render(<App />);
    await screen.findByTestId("node-card-pve1");
    const at = new Date(2026, 10, 21, 9, 41, 7).toISOString();
    act(() => useClusterStore.getState().setFreshness({ stale: true, updatedAt: at, error: "PVE API timed out" }));
    expect(screen.getByTestId("stale-badge")).toHaveTextContent("DATA STALE · last update 09:41:07 · PVE API timed out");
    expect(screen.getByTestId("node-card-pve1")).toBeInTheDocument();
    act(() => useClusterStore.getState().setFreshness({ stale: false, updatedAt: at }));
    expect(screen.queryByTestId("stale-badge")).toBeNull();
  });

  it("logout calls the server, clears the session and shows the login screen", async () => {
    localStorage.setItem(AUTH_KEY, JSON.stringify({ token: "tok", expiresAt: "2099-01-01T00:00:00Z" }));
    const { App } = await loadApp();
    render(<App />);
    await screen.findByTestId("node-card-pve1");
    await userEvent.click(screen.getByTestId("logout"));
    expect(await screen.findByTestId("login-password")).toBeInTheDocument();
    expect(localStorage.getItem(AUTH_KEY)).toBeNull();
    await waitFor(() => expect(fetchMock.mock.calls.some(([u]) => u === "/api/auth/logout")).toBe(true));
  });
});
