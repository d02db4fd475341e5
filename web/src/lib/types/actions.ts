/**
 * Wire types for tools, confirmations, the monitor (kill switch), the `/events` feed and the
 * `/terminal` socket (docs/protocol.md: "Tools and confirmations", "Events, monitor, autonomy",
 * Socket.IO).
 *
 * Types the Rust side exports with ts-rs (src/types/generated) are re-exported or derived from
 * there, so a change on the server breaks the build here instead of drifting. The rest (response
 * envelopes built with `json!`, socket payloads) are written by hand to match the contract.
 */
import type { Confirmation as ServerConfirmation } from "../../types/generated/Confirmation";
import type { ConfirmationStatus } from "../../types/generated/ConfirmationStatus";

export type { ConfirmationStatus };
export type { DecisionKind as Decision } from "../../types/generated/DecisionKind";
export type { DecisionRequest } from "../../types/generated/DecisionRequest";
export type { Event as JarvisEvent } from "../../types/generated/Event";
export type { EventSource } from "../../types/generated/EventSource";
export type { EventType } from "../../types/generated/EventType";
export type { ExecuteRequest } from "../../types/generated/ExecuteRequest";
export type { KillSwitchRequest } from "../../types/generated/KillSwitchRequest";
export type { KillSwitchResponse } from "../../types/generated/KillSwitchResponse";
export type { MonitorStatus } from "../../types/generated/MonitorStatus";
export type { Severity as EventSeverity } from "../../types/generated/Severity";
export type { ToolInfo } from "../../types/generated/ToolInfo";
export type { ToolList as ToolsResponse } from "../../types/generated/ToolList";
export type { ServerConfirmation };

export type ToolTier = ServerConfirmation["tier"];

export type ToolArgs = Record<string, unknown>;

/**
 * A RED action waiting for the operator (`GET /api/confirmations`, 202 from execute, `/events`
 * pushes): the part of the server's record the UI uses. The contract guarantees these fields;
 * the server's status/actor/source are not needed to decide.
 */
export type Confirmation = Pick<ServerConfirmation, "id" | "tool" | "args" | "summary" | "tier" | "expiresAt" | "createdAt">;

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
