import { ApiError } from "../../lib/api";

export interface LoginFailure {
  message: string;
  /** For rate limiting: when the next attempt is allowed (ms since epoch). */
  retryAt: number | null;
}

/** Turns a failed sign-in into words the operator can act on. */
export function describeLoginError(err: unknown, now: number = Date.now()): LoginFailure {
  if (err instanceof ApiError) {
    if (err.status === 401) return { message: "Access denied — wrong access code.", retryAt: null };
    if (err.status === 429) {
      // Without a Retry-After header, a minute is the server's window (≤ 5 tries per minute).
      const seconds = err.retryAfterSeconds ?? 60;
      return { message: "", retryAt: now + seconds * 1000 };
    }
    if (err.status === 0) return { message: "Server unreachable — is Jarvis running?", retryAt: null };
    if (err.status >= 500) return { message: `Server error (${err.status}): ${err.message}`, retryAt: null };
    return { message: err.message || `Sign-in failed (${err.status})`, retryAt: null };
  }
  return { message: "Sign-in failed — unexpected error.", retryAt: null };
}

export function rateLimitMessage(secondsLeft: number): string {
  return `Too many attempts, retry in ${secondsLeft} s`;
}
