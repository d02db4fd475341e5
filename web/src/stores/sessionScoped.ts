/**
 * Per-session state must not outlive the session: the next operator (or the same one after a
 * sign-out) starts clean. Stores call `resetOnSessionChange(reset)` once at module load.
 * (The cluster store is reset by auth itself; these stores depend on auth, not the other way.)
 */
import { useAuthStore } from "./auth";

export function resetOnSessionChange(reset: () => void): void {
  useAuthStore.subscribe((state, prev) => {
    if (state.session?.token !== prev.session?.token) reset();
  });
}
