/**
 * The few addresses the SPA understands (the server serves index.html for any path):
 * `/incidents` opens the incidents view and `/incidents/{id}` that incident, expanded — the links
 * in the server's notifications (`{PUBLIC_URL}/incidents` and `{PUBLIC_URL}/incidents/{id}`).
 * Everything else is the dashboard. The address follows what is shown (history.replaceState, no
 * new history entries), so a reload or a copied address shows the same incident.
 */

export type Route = { view: "incidents"; incidentId: string | null } | { view: "home" };

/** The route of a pathname (a trailing slash is allowed). */
export function parseRoute(pathname: string): Route {
  const m = /^\/incidents(?:\/([^/]+))?\/?$/.exec(pathname);
  if (!m) return { view: "home" };
  let id: string | null = null;
  if (m[1]) {
    try {
      id = decodeURIComponent(m[1]).trim();
    } catch {
      id = null; // a malformed escape: show the list rather than nothing
    }
  }
  return { view: "incidents", incidentId: id || null };
}

/** The path of a route. */
export function routePath(route: Route): string {
  if (route.view === "home") return "/";
  return route.incidentId ? `/incidents/${encodeURIComponent(route.incidentId)}` : "/incidents";
}

/** Puts the route in the address bar without a new history entry (nothing when already there). */
export function replaceRoute(route: Route): void {
  const path = routePath(route);
  if (path !== window.location.pathname) window.history.replaceState(window.history.state, "", path + window.location.search);
}
