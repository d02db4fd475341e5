/**
 * The address and the dashboard, kept in step (lib/route.ts): on mount, `/incidents` opens the
 * incidents view and `/incidents/{id}` that incident (the links in notifications; the login
 * screen keeps the address, so this also works after signing in); afterwards the address follows
 * the centre tab and the expanded incident.
 */
import { useEffect } from "react";
import { parseRoute, replaceRoute } from "../../lib/route";
import { useIncidentsStore } from "../../stores/incidents";
import { useUiStore } from "../../stores/ui";

export function useRoute(): void {
  useEffect(() => {
    const route = parseRoute(window.location.pathname);
    if (route.view !== "incidents") return;
    useUiStore.getState().setCenterTab("INCIDENTS");
    if (route.incidentId) void useIncidentsStore.getState().openIncident(route.incidentId);
    else useIncidentsStore.getState().setTab("open");
  }, []);

  useEffect(() => {
    const write = () => {
      const { centerTab } = useUiStore.getState();
      const { tab, expandedId } = useIncidentsStore.getState();
      replaceRoute(centerTab === "INCIDENTS" ? { view: "incidents", incidentId: tab === "silences" ? null : expandedId } : { view: "home" });
    };
    const unsubscribe = [useUiStore.subscribe(write), useIncidentsStore.subscribe(write)];
    return () => unsubscribe.forEach((u) => u());
  }, []);
}
