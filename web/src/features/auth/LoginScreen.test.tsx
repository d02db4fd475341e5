import { act, fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AUTH_STORAGE_KEY, useAuthStore } from "../../stores/auth";
import { jsonResponse } from "../../test/fixtures";
import { LoginScreen } from "./LoginScreen";

beforeEach(() => useAuthStore.setState({ session: null, notice: null }));
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

async function submit(password: string) {
  const user = userEvent.setup();
  await user.type(screen.getByTestId("login-password"), password);
  await user.click(screen.getByTestId("login-submit"));
}

describe("LoginScreen", () => {
  it("shows an error for a wrong password and stays signed out", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => jsonResponse(401, { error: { code: "invalid_credentials", message: "Invalid password" } })),
    );
    render(<LoginScreen />);
    await submit("nope");
    expect(await screen.findByTestId("login-error")).toHaveTextContent(/wrong access code/i);
    expect(useAuthStore.getState().session).toBeNull();
    expect(localStorage.getItem(AUTH_STORAGE_KEY)).toBeNull();
    // The field is cleared for the next try.
    expect(screen.getByTestId("login-password")).toHaveValue("");
  });

  it("shows the Retry-After seconds on 429, counts down and blocks submitting meanwhile", async () => {
    // Fake only the countdown's clock; promises and testing-library's polling stay real.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        jsonResponse(429, { error: { code: "rate_limited", message: "Too many attempts" } }, { "Retry-After": "30" }),
      ),
    );
    render(<LoginScreen />);
    fireEvent.change(screen.getByTestId("login-password"), { target: { value: "nope" } });
    fireEvent.click(screen.getByTestId("login-submit"));
    expect(await screen.findByTestId("login-error")).toHaveTextContent("Too many attempts, retry in 30 s");
    fireEvent.change(screen.getByTestId("login-password"), { target: { value: "again" } });
    expect(screen.getByTestId("login-submit")).toBeDisabled();

    act(() => vi.advanceTimersByTime(2_000));
    expect(screen.getByTestId("login-error")).toHaveTextContent("Too many attempts, retry in 28 s");

    act(() => vi.advanceTimersByTime(28_000));
    expect(screen.queryByTestId("login-error")).toBeNull();
    expect(screen.getByTestId("login-submit")).toBeEnabled();
  });

  it("stores the token on success", async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) =>
      jsonResponse(200, { token: "tok-123", expiresAt: "2099-01-01T00:00:00Z" }),
    );
    vi.stubGlobal("fetch", fetchMock);
    render(<LoginScreen />);
    await submit("right");
    await vi.waitFor(() => expect(useAuthStore.getState().session?.token).toBe("tok-123"));
    expect(JSON.parse(localStorage.getItem(AUTH_STORAGE_KEY) ?? "{}")).toMatchObject({ token: "tok-123" });
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe("/api/auth/login");
    expect(JSON.parse(String(init?.body))).toEqual({ password: "right" });
  });

  it("says so when the server cannot be reached", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    render(<LoginScreen />);
    await submit("pw");
    expect(await screen.findByTestId("login-error")).toHaveTextContent(/server unreachable/i);
  });

  it("shows why the last session ended", () => {
    useAuthStore.setState({ notice: "Session expired — sign in again." });
    render(<LoginScreen />);
    expect(screen.getByTestId("login-notice")).toHaveTextContent("Session expired");
  });
});
