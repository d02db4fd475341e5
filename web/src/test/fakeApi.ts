/**
 * A stand-in for the server's REST API in component tests: `stubApi(handler)` replaces `fetch`,
 * records every request (method, path with query, parsed JSON body) and answers with what the
 * handler returns — or 404 `not_found` when it returns nothing, so a request the test did not
 * expect shows up as a visible failure rather than a hang.
 */
import { vi } from "vitest";
import { jsonResponse } from "./fixtures";

export interface ApiRequest {
  method: string;
  /** Path and query, e.g. `/api/events?limit=100`. */
  url: string;
  body: unknown;
}

export type ApiHandler = (req: ApiRequest) => Response | Promise<Response> | undefined;

export function stubApi(handler: ApiHandler): { calls: ApiRequest[]; sent: (method: string, url: string) => ApiRequest[] } {
  const calls: ApiRequest[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const req: ApiRequest = { method: init?.method ?? "GET", url, body: init?.body ? (JSON.parse(String(init.body)) as unknown) : undefined };
      calls.push(req);
      return (await handler(req)) ?? jsonResponse(404, { error: { code: "not_found", message: `no route ${req.method} ${url}` } });
    }),
  );
  return { calls, sent: (method, url) => calls.filter((c) => c.method === method && c.url === url) };
}
