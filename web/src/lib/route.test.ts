import { describe, expect, it } from "vitest";
import { parseRoute, routePath } from "./route";

describe("routes", () => {
  it("reads the notification links", () => {
    expect(parseRoute("/incidents/inc-664f97175cd0c0f1")).toEqual({ view: "incidents", incidentId: "inc-664f97175cd0c0f1" });
    expect(parseRoute("/incidents/inc-1/")).toEqual({ view: "incidents", incidentId: "inc-1" });
    expect(parseRoute("/incidents")).toEqual({ view: "incidents", incidentId: null });
    expect(parseRoute("/incidents/")).toEqual({ view: "incidents", incidentId: null });
    expect(parseRoute("/incidents/a%20b")).toEqual({ view: "incidents", incidentId: "a b" });
    expect(parseRoute("/incidents/%E0%A4%A")).toEqual({ view: "incidents", incidentId: null });
  });

  it("everything else is the dashboard", () => {
    for (const p of ["/", "", "/incident/1", "/incidents/1/2", "/api/monitor/incidents/1", "/xincidents"]) expect(parseRoute(p)).toEqual({ view: "home" });
  });

  it("writes paths that read back the same", () => {
    expect(routePath({ view: "home" })).toBe("/");
    expect(routePath({ view: "incidents", incidentId: null })).toBe("/incidents");
    expect(routePath({ view: "incidents", incidentId: "a/b" })).toBe("/incidents/a%2Fb");
    expect(parseRoute(routePath({ view: "incidents", incidentId: "a/b" }))).toEqual({ view: "incidents", incidentId: "a/b" });
  });
});
