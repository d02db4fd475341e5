import { useEffect } from "react";
import { AUTH_STORAGE_KEY, isSessionValid, useAuthStore } from "../../stores/auth";

/** setTimeout overflows above 2^31-1 ms (~24.8 days) and would fire at once; re-check instead. */
const MAX_TIMEOUT_MS = 2_147_000_000;

/**
 * Keeps the signed-in state honest while the page stays open:
 * - signs out when the token's `expiresAt` passes (instead of waiting for a 401),
 * - follows sign-in / sign-out done in another tab (the `storage` event).
 */
export function useSessionWatch(): void {
  const session = useAuthStore((s) => s.session);

  useEffect(() => {
    if (!session) return;
    let timer: ReturnType<typeof setTimeout>;
    const check = () => {
      if (!isSessionValid(session, Date.now())) {
        useAuthStore.getState().signOut({ notifyServer: false, notice: "Session expired — sign in again." });
        return;
      }
      const left = Date.parse(session.expiresAt) - Date.now() - 30_000;
      timer = setTimeout(check, Math.min(Math.max(left, 1_000), MAX_TIMEOUT_MS));
    };
    check();
    return () => clearTimeout(timer);
  }, [session]);

  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if (e.key === AUTH_STORAGE_KEY || e.key === null) useAuthStore.getState().syncFromStorage();
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, []);
}
