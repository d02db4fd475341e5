/**
 * The authorization dialog for a RED action, driven entirely by the server's confirmation record:
 * its summary, tier, arguments and expiry. AUTHORIZE / DENY post the decision; Esc, the backdrop
 * or × close it without deciding (the confirmation stays pending in the list).
 */
import { useEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from "react";
import { createPortal } from "react-dom";
import { formatCountdown } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import { useConfirmationsStore, type PendingConfirmation } from "../../stores/confirmations";
import { useMonitorStore } from "../../stores/monitor";
import { ArgsList } from "./ArgsList";
import { EXPIRED_TEXT, decide } from "./flow";
import { TierBadge } from "./TierBadge";

const RESOLVED_TEXT: Record<string, string> = {
  executed: "Already authorized and executed elsewhere.",
  approved: "Already authorized elsewhere.",
  denied: "Already denied elsewhere.",
  expired: `Expired — ask again.`,
  failed: "Authorized elsewhere; the action failed.",
  gone: "No longer pending.",
};

/** Mounted once by the dashboard; shows whichever confirmation the store says is open. */
export function ConfirmDialog() {
  const dialogId = useConfirmationsStore((s) => s.dialogId);
  const close = useConfirmationsStore((s) => s.closeDialog);
  if (!dialogId) return null;
  // key: a different confirmation is a fresh dialog (no error text carried over).
  return createPortal(<ConfirmDialogView key={dialogId} id={dialogId} onClose={close} />, document.body);
}

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function ConfirmDialogView({ id, onClose }: { id: string; onClose: () => void }) {
  const live = useConfirmationsStore((s) => s.pending.find((p) => p.id === id));
  const resolved = useConfirmationsStore((s) => s.resolved[id]);
  const deciding = useConfirmationsStore((s) => s.deciding[id]);
  const killSwitch = useMonitorStore((s) => s.killSwitch === true);
  // Keep showing the record after it leaves the pending list (decided elsewhere, expired).
  const [shown, setShown] = useState<PendingConfirmation | undefined>(live);
  if (live && live !== shown) setShown(live);
  const [error, setError] = useState<string | null>(null);
  const [final, setFinal] = useState(false);
  /** Our own decision in flight (a push may remove the record before our answer arrives). */
  const [sent, setSent] = useState<"approve" | "deny" | null>(null);
  const now = useNow(1_000);
  const dialog = useRef<HTMLDivElement>(null);
  const denyButton = useRef<HTMLButtonElement>(null);

  // Focus the safe choice first (or the dialog itself, so Esc works); give focus back to
  // whatever had it when the dialog closes.
  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const deny = denyButton.current;
    (deny && !deny.disabled ? deny : dialog.current)?.focus();
    return () => previous?.focus?.();
  }, []);

  if (!shown) {
    // Opened for an id we have never seen (already gone): nothing to decide.
    return (
      <div className="modal-backdrop" onMouseDown={onClose}>
        <div
          ref={dialog}
          className="modal confirm"
          role="alertdialog"
          aria-modal="true"
          aria-label="Authorization"
          tabIndex={-1}
          data-testid="confirm-dialog"
          onKeyDown={(e) => {
            e.stopPropagation();
            if (e.key === "Escape") onClose();
          }}
        >
          <p className="confirm__state" data-testid="confirm-error">
            This authorization is no longer pending.
          </p>
          <div className="confirm__buttons">
            <button type="button" className="btn" onClick={onClose}>
              CLOSE
            </button>
          </div>
        </div>
      </div>
    );
  }

  const remaining = Date.parse(shown.expiresAt) - now;
  const expired = Number.isFinite(remaining) && remaining <= 0;
  const inFlight = deciding ?? sent;
  const gone = !live && inFlight == null;
  // (Expiry is already said by the countdown line.)
  const closedReason = gone && !error && !expired ? RESOLVED_TEXT[resolved ?? "gone"] : null;
  const undecidable = final || expired || gone;
  const busy = inFlight != null;

  const onDecide = async (decision: "approve" | "deny") => {
    setError(null);
    setSent(decision);
    const out = await decide(id, decision);
    setSent(null);
    if (out.ok) onClose();
    else {
      setError(out.message);
      setFinal(out.final);
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    // Keep dashboard shortcuts (1/2/3, m, t) away while the dialog is up.
    e.stopPropagation();
    if (e.key === "Escape") {
      e.preventDefault();
      onClose();
      return;
    }
    if (e.key === "Tab" && dialog.current) {
      const items = [...dialog.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
      const first = items[0];
      const last = items.at(-1);
      if (!first || !last) return;
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    }
  };

  const onBackdrop = (e: MouseEvent<HTMLDivElement>) => {
    if (e.target === e.currentTarget) onClose();
  };

  return (
    <div className="modal-backdrop" onMouseDown={onBackdrop} data-testid="confirm-backdrop">
      <div
        ref={dialog}
        className={`modal confirm confirm--${shown.tier}`}
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="confirm-title"
        aria-describedby="confirm-summary"
        data-testid="confirm-dialog"
        data-confirmation-id={shown.id}
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        <header className="confirm__header">
          <h2 id="confirm-title" className="confirm__title">
            AUTHORIZATION REQUIRED
          </h2>
          <TierBadge tier={shown.tier} />
          <span className="confirm__spacer" />
          <button type="button" className="confirm__close" onClick={onClose} aria-label="Close — decide later" title="Close — decide later (Esc)" data-testid="confirm-close">
            ×
          </button>
        </header>
        <p id="confirm-summary" className="confirm__summary" data-testid="confirm-summary">
          {shown.summary}
        </p>
        <div className="confirm__meta">
          <span className="confirm__tool mono">{shown.tool}</span>
          <span
            className={`confirm__expiry${expired ? " is-expired" : remaining < 30_000 ? " is-urgent" : ""}`}
            data-testid="confirm-expiry"
            data-expired={expired ? "true" : "false"}
            role="timer"
          >
            {expired ? `EXPIRED — ask again` : `EXPIRES IN ${formatCountdown(remaining)}`}
          </span>
        </div>
        <ArgsList args={shown.args} testId="confirm-args" />
        {killSwitch && !undecidable && (
          <p className="confirm__warn" role="note">
            Kill switch active — the server will refuse to run this until it is released.
          </p>
        )}
        {closedReason && (
          <p className="confirm__state" role="status" data-testid="confirm-state">
            {closedReason}
          </p>
        )}
        {error && (
          <p className="confirm__error" role="alert" data-testid="confirm-error">
            {error === EXPIRED_TEXT ? "Expired — ask again." : error}
          </p>
        )}
        <div className="confirm__buttons">
          <button
            ref={denyButton}
            type="button"
            className="btn btn--ghost"
            onClick={() => void onDecide("deny")}
            disabled={busy || undecidable}
            data-testid="confirm-deny"
          >
            {inFlight === "deny" && <span className="spinner" aria-hidden="true" />}
            DENY
          </button>
          <button
            type="button"
            className="btn btn--danger"
            onClick={() => void onDecide("approve")}
            disabled={busy || undecidable}
            aria-disabled={killSwitch ? "true" : undefined}
            data-testid="confirm-approve"
          >
            {inFlight === "approve" && <span className="spinner" aria-hidden="true" />}
            {inFlight === "approve" ? "AUTHORIZING…" : "AUTHORIZE"}
          </button>
        </div>
      </div>
    </div>
  );
}
