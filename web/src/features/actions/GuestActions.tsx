/**
 * The action buttons of one guest row and the line under it that says what happened.
 *
 * Buttons appear on hover/focus (always on touch and narrow screens, see actions.css). While a
 * request about this guest is in flight they are disabled. While the kill switch is on they are
 * marked disabled (aria-disabled, dimmed) but still ask the server when clicked: the server is the
 * authority and its own refusal ("kill switch active …") is what the row then shows — the UI's
 * copy of the switch could be a moment behind the server's.
 */
import { useConfirmationsStore } from "../../stores/confirmations";
import { useGuestActionsStore } from "../../stores/guestActions";
import { useMonitorStore } from "../../stores/monitor";
import type { Vm } from "../../types/cluster";
import { runGuestAction } from "./flow";
import { ACTION_LABEL, ACTION_PROGRESS, ACTION_TIER, actionsFor, vmidOf, type GuestAction } from "./guestTools";

const GLYPH: Record<GuestAction, string> = { start: "▶", shutdown: "⏻", restart: "↻", stop: "■" };

export function GuestActionButtons({ vm }: { vm: Vm }) {
  const state = useGuestActionsStore((s) => s.byGuest[vm.vmid]);
  const killSwitch = useMonitorStore((s) => s.killSwitch === true);
  const actions = actionsFor(vm);
  if (actions.length === 0) return null;
  const busy = state?.busy != null;
  return (
    <span className="vm-actions" role="group" aria-label={`Actions for ${vm.vmid}`} data-busy={busy ? "true" : undefined}>
      {actions.map((a) => {
        const running = busy && state?.action === a;
        return (
          <button
            key={a}
            type="button"
            className={`vm-actions__btn vm-actions__btn--${ACTION_TIER[a]}${killSwitch ? " is-blocked" : ""}`}
            disabled={busy}
            aria-disabled={killSwitch ? "true" : undefined}
            title={killSwitch ? "Kill switch active — no actions will run" : `${ACTION_LABEL[a]} ${vm.vmid}${ACTION_TIER[a] === "red" ? " (asks for authorization)" : ""}`}
            onClick={() => void runGuestAction(vm, a)}
            data-testid={`vm-action-${a}-${vm.vmid}`}
          >
            {running ? <span className="spinner" aria-hidden="true" /> : <span aria-hidden="true">{GLYPH[a]}</span>}
            {ACTION_LABEL[a]}
          </button>
        );
      })}
    </span>
  );
}

/** "stopping…", "awaiting authorization · REVIEW", "✓ stopped · task OK", or the server's error. */
export function GuestActionFeedback({ vmid }: { vmid: number }) {
  const state = useGuestActionsStore((s) => s.byGuest[vmid]);
  const clear = useGuestActionsStore((s) => s.clear);
  const pending = useConfirmationsStore((s) => s.pending.find((p) => vmidOf(p.args) === vmid));
  const open = useConfirmationsStore((s) => s.openDialog);

  if (state?.busy) {
    const what =
      state.busy === "executing" && state.action
        ? `${ACTION_PROGRESS[state.action]}…`
        : state.busy === "approving"
          ? "authorized — running…"
          : state.busy === "denying"
            ? "denying…"
            : "working…";
    return (
      <span className="vm-feedback vm-feedback--busy" role="status" data-testid={`vm-action-status-${vmid}`}>
        <span className="spinner" aria-hidden="true" />
        {what}
      </span>
    );
  }
  if (state?.outcome?.tone === "error") {
    return (
      <span className="vm-feedback vm-feedback--error" role="alert" data-testid={`vm-action-error-${vmid}`}>
        <span className="vm-feedback__text">⚠ {state.outcome.text}</span>
        <button type="button" className="vm-feedback__dismiss" aria-label="Dismiss" onClick={() => clear(vmid)}>
          ×
        </button>
      </span>
    );
  }
  if (pending) {
    return (
      <span className="vm-feedback vm-feedback--pending" role="status" data-testid={`vm-action-pending-${vmid}`}>
        <span className="vm-feedback__text" title={pending.summary}>
          ◆ awaiting authorization
        </span>
        <button type="button" className="btn btn--ghost btn--small" onClick={() => open(pending.id)} data-testid={`vm-action-review-${vmid}`}>
          REVIEW
        </button>
      </span>
    );
  }
  if (state?.outcome) {
    return (
      <span className={`vm-feedback vm-feedback--${state.outcome.tone}`} role="status" data-testid={`vm-action-status-${vmid}`}>
        <span className="vm-feedback__text">
          {state.outcome.tone === "ok" ? "✓ " : ""}
          {state.outcome.text}
        </span>
      </span>
    );
  }
  return null;
}
