/**
 * The action flow, shared by guest rows, the confirmation dialog and the pending list:
 *
 *   row button → POST /api/tools/execute
 *     200 executed              → outcome in the row (the status itself comes from /cluster)
 *     202 confirmation_required → the server's record goes to the pending list + dialog
 *     4xx/5xx                   → the server's message in the row
 *   AUTHORIZE / DENY → POST /api/confirmations/{id} {decision}
 *
 * Nothing here decides what is allowed: the server does (tiers, protection, kill switch) and we
 * show what it says.
 */
import { decideConfirmation, executeTool, fetchConfirmations } from "../../lib/actionsApi";
import { ApiError } from "../../lib/api";
import type { ConfirmationEvent, Decision } from "../../lib/types/actions";
import { withAuth } from "../../stores/auth";
import { useConfirmationsStore, type PendingConfirmation } from "../../stores/confirmations";
import { useGuestActionsStore, type GuestOutcome } from "../../stores/guestActions";
import type { Vm } from "../../types/cluster";
import { ACTION_DONE, actionOfTool, guestArgs, toolFor, vmidOf, type GuestAction } from "./guestTools";

export const EXPIRED_TEXT = "expired — ask again";

function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 410) return err.code === "already_decided" ? "already decided elsewhere" : EXPIRED_TEXT;
    if (err.status === 404 && err.code !== "unknown_tool") return "no longer exists — ask again";
    return err.message || err.code;
  }
  return "request failed";
}

/** What a lifecycle tool's result means for the row. */
export function outcomeOfResult(action: GuestAction | null, result: unknown): GuestOutcome {
  if (result && typeof result === "object" && "status" in result) {
    const status = (result as { status: unknown }).status;
    if (typeof status === "string" && status !== "OK") return { tone: "error", text: `task failed: ${status}` };
  }
  return { tone: "ok", text: action ? `${ACTION_DONE[action]} · task OK` : "done" };
}

/** The pending confirmation, if any, for this very action on this guest. */
function pendingFor(tool: string, vmid: number): PendingConfirmation | undefined {
  return useConfirmationsStore.getState().pending.find((p) => p.tool === tool && vmidOf(p.args) === vmid);
}

/** Runs a row's action. Resolves when the request is over (never rejects). */
export async function runGuestAction(vm: Pick<Vm, "vmid" | "node" | "type">, action: GuestAction): Promise<void> {
  const tool = toolFor(vm.type, action);
  const confirmations = useConfirmationsStore.getState();
  // The same action already waits for authorization: show it instead of asking twice.
  const existing = pendingFor(tool, vm.vmid);
  if (existing) {
    confirmations.openDialog(existing.id);
    return;
  }
  const guests = useGuestActionsStore.getState();
  guests.setBusy(vm.vmid, action, "executing");
  try {
    const res = await withAuth((t) => executeTool(t, tool, guestArgs(vm)));
    if (res.status === "executed") {
      guests.setOutcome(vm.vmid, action, outcomeOfResult(action, res.result));
    } else {
      confirmations.upsert(res.confirmation);
      guests.clear(vm.vmid);
      confirmations.openDialog(res.confirmation.id);
    }
  } catch (err) {
    guests.setOutcome(vm.vmid, action, { tone: "error", text: errorText(err) });
  }
}

export interface DecisionOutcome {
  ok: boolean;
  /** executed / denied on success. */
  status?: "executed" | "denied";
  message: string;
  /** The confirmation cannot be decided any more (expired, decided elsewhere, gone). */
  final: boolean;
}

/** Approves or denies a pending confirmation; updates the list, and the guest row it concerns. */
export async function decide(id: string, decision: Decision): Promise<DecisionOutcome> {
  const confirmations = useConfirmationsStore.getState();
  const conf = confirmations.pending.find((p) => p.id === id);
  const vmid = vmidOf(conf?.args);
  const action = conf ? (actionOfTool(conf.tool)?.action ?? null) : null;
  const guests = useGuestActionsStore.getState();
  if (confirmations.deciding[id]) return { ok: false, message: "already being decided", final: false };

  confirmations.setDeciding(id, decision);
  if (vmid !== null) guests.setBusy(vmid, action, decision === "approve" ? "approving" : "denying");
  try {
    const res = await withAuth((t) => decideConfirmation(t, id, decision));
    useConfirmationsStore.getState().resolve(id, res.status);
    if (res.status === "executed") {
      const outcome = outcomeOfResult(action, res.result);
      if (vmid !== null) guests.setOutcome(vmid, action, outcome);
      return { ok: outcome.tone !== "error", status: "executed", message: outcome.text, final: true };
    }
    if (vmid !== null) guests.setOutcome(vmid, action, { tone: "info", text: "denied — nothing was done" });
    return { ok: true, status: "denied", message: "denied", final: true };
  } catch (err) {
    const message = errorText(err);
    const final = err instanceof ApiError && (err.status === 410 || err.status === 404);
    const store = useConfirmationsStore.getState();
    if (final) store.resolve(id, err.status === 410 && err.code === "expired" ? "expired" : "gone");
    else store.setDeciding(id, null);
    if (vmid !== null) guests.setOutcome(vmid, action, { tone: "error", text: message });
    // The server may have consumed it (blocked at approval) or not (network): ask it.
    if (!final) void resyncConfirmations();
    return { ok: false, message, final };
  }
}

let resyncing: Promise<void> | null = null;
let resyncAgain = false;

/**
 * Reloads the pending list from the server. Calls while one is running coalesce into one more
 * run afterwards, so the list always ends at the server's latest answer.
 */
export function resyncConfirmations(): Promise<void> {
  if (resyncing) {
    resyncAgain = true;
    return resyncing;
  }
  resyncing = (async () => {
    do {
      resyncAgain = false;
      const since = useConfirmationsStore.getState().beginLoad();
      try {
        const list = await withAuth((t) => fetchConfirmations(t));
        useConfirmationsStore.getState().loadPending(list, since);
      } catch (err) {
        if (!(err instanceof ApiError)) console.warn("loading pending confirmations failed", err);
        return;
      }
    } while (resyncAgain);
  })().finally(() => {
    resyncing = null;
  });
  return resyncing;
}

const FINAL_TEXT: Record<Exclude<ConfirmationEvent["status"], "pending">, GuestOutcome> = {
  approved: { tone: "info", text: "authorized — running" },
  executed: { tone: "ok", text: "executed" },
  denied: { tone: "info", text: "denied — nothing was done" },
  expired: { tone: "error", text: EXPIRED_TEXT },
  failed: { tone: "error", text: "failed after authorization" },
};

/** A `/events` `confirmation` push. */
export function handleConfirmationEvent(ev: ConfirmationEvent): void {
  const store = useConfirmationsStore.getState();
  const known = store.pending.some((p) => p.id === ev.id);
  const removed = store.applyEvent(ev);
  // A new one from elsewhere (chat, MCP, another tab) pushed without its args: fetch the full record.
  if (ev.status === "pending" && !known && !ev.args && !store.resolved[ev.id]) void resyncConfirmations();
  if (!removed || ev.status === "pending") return;
  const vmid = vmidOf(removed.args);
  if (vmid === null) return;
  const guests = useGuestActionsStore.getState();
  // Our own decision already wrote a more precise outcome (or is still writing it).
  if (guests.byGuest[vmid]?.busy) return;
  const action = actionOfTool(removed.tool)?.action ?? null;
  const text = FINAL_TEXT[ev.status];
  guests.setOutcome(vmid, action, ev.status === "executed" && action ? { tone: "ok", text: `${ACTION_DONE[action]} · executed` } : text);
}

/** Local expiry (once a second): drop expired ones and tell their rows. */
export function expireConfirmations(now: number = Date.now()): void {
  const gone = useConfirmationsStore.getState().prune(now);
  const guests = useGuestActionsStore.getState();
  for (const c of gone) {
    const vmid = vmidOf(c.args);
    if (vmid !== null && !guests.byGuest[vmid]?.busy) {
      guests.setOutcome(vmid, actionOfTool(c.tool)?.action ?? null, { tone: "error", text: `authorization ${EXPIRED_TEXT}` });
    }
  }
}
