/**
 * Who is signed in.
 *
 * The session (token + expiry) is persisted in localStorage and *restored on load*: the original
 * persisted the token but not the authenticated flag, so every reload showed the login screen.
 * Here the presence of an unexpired stored session is the authenticated state.
 */
import { create } from "zustand";
import { ApiError, login as apiLogin, logout as apiLogout } from "../lib/api";
import { readJson, removeKey, writeJson } from "../lib/persist";
import { useClusterStore } from "./cluster";

export const AUTH_STORAGE_KEY = "jarvis-auth";

/** Treat a token as expired this long before its stated expiry, so a request in flight at the
 *  boundary doesn't bounce with 401 (clocks between browser and server drift a little too). */
const EXPIRY_MARGIN_MS = 30_000;

export interface Session {
  token: string;
  /** ISO-8601 UTC from the login response. */
  expiresAt: string;
}

function isSession(value: unknown): value is Session {
  if (!value || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return typeof v.token === "string" && v.token.length > 0 && typeof v.expiresAt === "string";
}

/** Whether `session` is still usable at `now` (ms since epoch). Unparsable expiry = expired. */
export function isSessionValid(session: Session, now: number): boolean {
  const expires = Date.parse(session.expiresAt);
  return Number.isFinite(expires) && expires - EXPIRY_MARGIN_MS > now;
}

/**
 * The session to start with: the stored one if it is well-formed and not expired. A stored
 * session that is expired or corrupt is removed so it cannot be sent again.
 */
export function restoreSession(now: number = Date.now()): Session | null {
  const stored = readJson(AUTH_STORAGE_KEY);
  if (stored == null) return null;
  if (isSession(stored) && isSessionValid(stored, now)) return { token: stored.token, expiresAt: stored.expiresAt };
  removeKey(AUTH_STORAGE_KEY);
  return null;
}

interface AuthState {
  session: Session | null;
  /** Why the user was signed out, shown once on the login screen (expired, revoked…). */
  notice: string | null;
  /** Exchanges the password for a session; throws ApiError on failure. */
  signIn: (password: string) => Promise<void>;
  /**
   * Ends the session locally and, when `notifyServer`, revokes the token on the server too
   * (skipped when the server already told us the token is invalid).
   */
  signOut: (opts?: { notifyServer?: boolean; notice?: string | null }) => void;
  /** Re-reads the stored session (another tab signed in or out). */
  syncFromStorage: () => void;
}

export const useAuthStore = create<AuthState>()((set, get) => ({
  session: restoreSession(),
  notice: null,

  async signIn(password) {
    const res = await apiLogin(password);
    if (!isSession(res)) throw new ApiError(500, "bad_response", "The server sent an unexpected login response");
    const session: Session = { token: res.token, expiresAt: res.expiresAt };
    writeJson(AUTH_STORAGE_KEY, session);
    set({ session, notice: null });
  },

  signOut({ notifyServer = true, notice = null } = {}) {
    const { session } = get();
    removeKey(AUTH_STORAGE_KEY);
    set({ session: null, notice });
    // The next operator must not see the previous session's cluster data.
    useClusterStore.getState().reset();
    if (notifyServer && session) {
      // Fire and forget: the local sign-out must not wait on (or fail with) the network.
      apiLogout(session.token).catch(() => undefined);
    }
  },

  syncFromStorage() {
    const restored = restoreSession();
    const current = get().session;
    if (restored?.token === current?.token) return;
    if (restored) set({ session: restored, notice: null });
    else get().signOut({ notifyServer: false });
  },
}));

/**
 * Runs an authenticated call with the current token; a 401 means the token was revoked or has
 * expired server-side, so the UI returns to the login screen instead of showing broken panels.
 */
export async function withAuth<T>(call: (token: string) => Promise<T>): Promise<T> {
  const session = useAuthStore.getState().session;
  if (!session) throw new ApiError(401, "unauthorized", "Not signed in");
  try {
    return await call(session.token);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && useAuthStore.getState().session?.token === session.token) {
      useAuthStore.getState().signOut({ notifyServer: false, notice: "Session ended — sign in again." });
    }
    throw err;
  }
}
