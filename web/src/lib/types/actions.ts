/**
 * Wire types for tools, confirmations, the monitor (kill switch), the `/events` feed and the
 * `/terminal` socket (docs/protocol.md: "Tools and confirmations", "Events, monitor, autonomy",
 * Socket.IO).
 *
 * Hand-written for now: the Rust side will generate these with ts-rs into src/types/generated.
 * When those files exist, replace the definitions below by re-exports (as src/types/cluster.ts
 * does) so nothing drifts. Field names and value sets follow the contract exactly.
 */

export type ToolTier = "green" | "yellow" | "red" | "black";

export interface ToolInfo {
  name: string;
  tier: ToolTier;
  description: string;
  inputSchema: unknown;
}

/** `GET /api/tools` */
export interface ToolsResponse {
  tools: ToolInfo[];
}

export type ToolArgs = Record<string, unknown>;

/** `POST /api/tools/execute` body. There is no `confirmed` flag: RED tools run only via a confirmation. */
export interface ExecuteRequest {
  tool: string;
  args: ToolArgs;
}

/** A RED action waiting for the operator (`GET /api/confirmations`, 202 from execute). */
export interface Confirmation {
  id: string;
  tool: string;
  args: ToolArgs;
  summary: string;
  tier: ToolTier;
  /** ISO-8601 UTC. */
  expiresAt: string;
  /** ISO-8601 UTC. */
  createdAt: string;
}

/** 200 from execute: the tool ran. */
export interface ExecutedResponse {
  status: "executed";
  tier: ToolTier;
  result: unknown;
  auditId: string | number;
}

/** 202 from execute: a RED tool needs the operator's decision first. */
export interface ConfirmationRequiredResponse {
  status: "confirmation_required";
  tier: ToolTier;
  confirmation: Confirmation;
}

export type ExecuteResponse = ExecutedResponse | ConfirmationRequiredResponse;

/** `GET /api/confirmations` (pending only). */
export interface ConfirmationsResponse {
  confirmations: Confirmation[];
}

export type Decision = "approve" | "deny";

/** `POST /api/confirmations/{id}` body. */
export interface DecisionRequest {
  decision: Decision;
}

/** 200 from a decision. */
export interface DecisionResponse {
  status: "executed" | "denied";
  result?: unknown;
}

/** What a lifecycle tool (`start_vm`, `stop_container`, …) reports after waiting for the PVE task. */
export interface LifecycleResult {
  upid: string;
  /** PVE task exit status: "OK" on success, the error text otherwise. */
  status: string;
  node: string;
  vmid: number;
  action: string;
}

export type ConfirmationStatus = "pending" | "approved" | "denied" | "expired" | "executed" | "failed";

/**
 * `/events` → `confirmation`: a confirmation was created or changed state. The contract names
 * the fields below; a server that pushes the whole record also sends `args` and `createdAt`,
 * which are then used (no extra REST round trip for a new one).
 */
export interface ConfirmationEvent {
  id: string;
  status: ConfirmationStatus;
  tool: string;
  summary: string;
  tier: ToolTier;
  expiresAt: string;
  args?: ToolArgs;
  createdAt?: string;
}

export interface LastPoll {
  critical: string | null;
  important: string | null;
  routine: string | null;
  background: string | null;
}

/** `GET /api/monitor/status` and `/events` → `monitor:status`. */
export interface MonitorStatus {
  running: boolean;
  autonomyLevel: number;
  killSwitch: boolean;
  activeRemediations: number;
  lastPoll: LastPoll | null;
}

/** `PUT /api/monitor/killswitch` body and response. */
export interface KillSwitchRequest {
  active: boolean;
}
export interface KillSwitchResponse {
  killSwitch: boolean;
}

export type EventType = "alert" | "action" | "status" | "metric";
export type EventSeverity = "info" | "warning" | "error" | "critical";
export type EventSource = "monitor" | "user" | "jarvis" | "system";

/** `/events` → `event` (and `GET /api/events`). */
export interface JarvisEvent {
  id: string | number;
  type: EventType;
  severity: EventSeverity;
  title: string;
  message: string;
  node?: string | null;
  source: EventSource;
  timestamp: string;
  resolved: boolean;
  acknowledgedAt?: string | null;
}

// ---- /terminal ----

/** client → server `start`. */
export interface TerminalStart {
  node: string;
  cols: number;
  rows: number;
}
/** client → server `resize`. */
export interface TerminalResize {
  cols: number;
  rows: number;
}
/** server → client `ready`. */
export interface TerminalReady {
  node: string;
}
/** server → client `exit`. */
export interface TerminalExit {
  code: number | null;
}
/** server → client `error`. */
export interface TerminalError {
  code: string;
  message: string;
}
