import { useEffect } from "react";
import { ApiError, fetchCluster } from "../../lib/api";
import { withAuth } from "../../stores/auth";
import { useClusterStore } from "../../stores/cluster";

/**
 * Loads `GET /api/cluster` once so the dashboard fills as soon as possible, even if the socket is
 * slow to connect (or blocked by a proxy). The store ignores it if a live push got there first.
 * A 401 signs out (withAuth); other failures are left to the socket.
 */
export function useInitialSnapshot(token: string): void {
  useEffect(() => {
    const controller = new AbortController();
    withAuth((t) => fetchCluster(t, controller.signal))
      .then((snapshot) => {
        if (snapshot && Array.isArray(snapshot.nodes)) useClusterStore.getState().loadSnapshot(snapshot);
      })
      .catch((err: unknown) => {
        if (err instanceof ApiError || (err instanceof DOMException && err.name === "AbortError")) return;
        console.warn("initial cluster snapshot failed", err);
      });
    return () => controller.abort();
  }, [token]);
}
