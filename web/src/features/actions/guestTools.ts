/**
 * Which lifecycle actions a guest row offers, and which registry tool each one is.
 * The tier here only colours the button: the server decides what runs directly (YELLOW) and
 * what needs a confirmation (RED), and answers accordingly.
 */
import type { ToolArgs, ToolTier } from "../../lib/types/actions";
import type { GuestType, Vm } from "../../types/cluster";

export const GUEST_ACTIONS = ["start", "shutdown", "restart", "stop"] as const;
export type GuestAction = (typeof GUEST_ACTIONS)[number];

export const ACTION_TIER: Record<GuestAction, ToolTier> = {
  start: "yellow",
  shutdown: "red",
  restart: "red",
  stop: "red",
};

export const ACTION_LABEL: Record<GuestAction, string> = {
  start: "START",
  shutdown: "SHUTDOWN",
  restart: "RESTART",
  stop: "STOP",
};

/** Progressive form for the row while the tool runs. */
export const ACTION_PROGRESS: Record<GuestAction, string> = {
  start: "starting",
  shutdown: "shutting down",
  restart: "restarting",
  stop: "stopping",
};

/** Past form for the row when it is done. */
export const ACTION_DONE: Record<GuestAction, string> = {
  start: "started",
  shutdown: "shut down",
  restart: "restarted",
  stop: "stopped",
};

/** `start_vm`, `stop_container`, … */
export function toolFor(type: GuestType, action: GuestAction): string {
  return `${action}_${type === "lxc" ? "container" : "vm"}`;
}

/** The inverse of toolFor, for confirmations that arrive without the row that asked for them. */
export function actionOfTool(tool: string): { action: GuestAction; type: GuestType } | null {
  const m = /^(start|shutdown|restart|stop)_(vm|container)$/.exec(tool);
  if (!m) return null;
  return { action: m[1] as GuestAction, type: m[2] === "container" ? "lxc" : "qemu" };
}

/**
 * Stopped guests can be started; running ones shut down, restarted or stopped. Paused guests get
 * nothing (resume is not a tool), nor do templates or guests in an unknown state.
 */
export function actionsFor(vm: Pick<Vm, "status" | "template">): GuestAction[] {
  if (vm.template) return [];
  if (vm.status === "stopped") return ["start"];
  if (vm.status === "running") return ["shutdown", "restart", "stop"];
  return [];
}

export function guestArgs(vm: Pick<Vm, "node" | "vmid">): ToolArgs {
  return { node: vm.node, vmid: vm.vmid };
}

/** The guest a confirmation's args point at, if they name one. */
export function vmidOf(args: ToolArgs | undefined): number | null {
  const v = args?.vmid;
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  return null;
}
