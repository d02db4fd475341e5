/**
 * "PENDING AUTHORIZATION (n)": every RED action waiting for the operator, whoever asked for it
 * (a row, the chat, MCP, another tab). Survives reloads (loaded from the server). Each can be
 * reviewed in the dialog, or authorized / denied right here.
 */
import { useEffect, useState } from "react";
import { useConfirmationsStore, type PendingConfirmation } from "../../stores/confirmations";
import { Countdown } from "./Countdown";
import { decide } from "./flow";
import { TierBadge } from "./TierBadge";

const RECENT_TTL_MS = 8_000;

interface Note {
  tone: "ok" | "error";
  text: string;
}

export function PendingConfirmations() {
  const pending = useConfirmationsStore((s) => s.pending);
  const [notes, setNotes] = useState<Record<string, Note>>({});
  const [recent, setRecent] = useState<Note | null>(null);

  // The last result stays a few seconds (longer than a glance, shorter than clutter).
  useEffect(() => {
    if (!recent) return;
    const timer = setTimeout(() => setRecent(null), RECENT_TTL_MS);
    return () => clearTimeout(timer);
  }, [recent]);

  if (pending.length === 0 && !recent) return null;

  const onDecide = async (c: PendingConfirmation, decision: "approve" | "deny") => {
    setNotes(({ [c.id]: _drop, ...rest }) => rest);
    const out = await decide(c.id, decision);
    if (out.ok) {
      setRecent({ tone: "ok", text: `${out.status === "denied" ? "Denied" : "Executed"}: ${c.summary}` });
    } else if (out.final) {
      setRecent({ tone: "error", text: `${c.summary}: ${out.message}` });
    } else {
      setNotes((n) => ({ ...n, [c.id]: { tone: "error", text: out.message } }));
    }
  };

  return (
    <section className="pending" aria-label="Pending authorizations" data-testid="pending-confirmations" data-count={pending.length}>
      <header className="pending__header">
        <span className="pending__lamp" aria-hidden="true" />
        <h2 className="pending__title">PENDING AUTHORIZATION ({pending.length})</h2>
        {recent && (
          <span className={`pending__recent pending__recent--${recent.tone}`} role="status" data-testid="pending-recent">
            {recent.text}
            <button type="button" className="pending__dismiss" aria-label="Dismiss" onClick={() => setRecent(null)}>
              ×
            </button>
          </span>
        )}
      </header>
      {pending.length > 0 && (
        <ul className="pending__list">
          {pending.map((c) => (
            <PendingItem key={c.id} c={c} note={notes[c.id]} onDecide={onDecide} />
          ))}
        </ul>
      )}
    </section>
  );
}

function PendingItem({
  c,
  note,
  onDecide,
}: {
  c: PendingConfirmation;
  note: Note | undefined;
  onDecide: (c: PendingConfirmation, decision: "approve" | "deny") => Promise<void>;
}) {
  const deciding = useConfirmationsStore((s) => s.deciding[c.id]);
  const open = useConfirmationsStore((s) => s.openDialog);
  // Expired ones leave the list within a second (useConfirmationExpiry); the server refuses them anyway.
  const busy = deciding != null;
  return (
    <li className="pending__item" data-testid={`pending-item-${c.id}`} data-tool={c.tool}>
      <TierBadge tier={c.tier} />
      <span className="pending__summary" title={c.tool}>
        {c.summary}
      </span>
      <Countdown expiresAt={c.expiresAt} testId={`pending-expiry-${c.id}`} />
      <span className="pending__buttons">
        <button type="button" className="btn btn--ghost btn--small" onClick={() => open(c.id)} data-testid={`pending-review-${c.id}`}>
          REVIEW
        </button>
        <button
          type="button"
          className="btn btn--ghost btn--small"
          onClick={() => void onDecide(c, "deny")}
          disabled={busy}
          data-testid={`pending-deny-${c.id}`}
        >
          {deciding === "deny" && <span className="spinner" aria-hidden="true" />}
          DENY
        </button>
        <button
          type="button"
          className="btn btn--danger btn--small"
          onClick={() => void onDecide(c, "approve")}
          disabled={busy}
          data-testid={`pending-approve-${c.id}`}
        >
          {deciding === "approve" && <span className="spinner" aria-hidden="true" />}
          AUTHORIZE
        </button>
      </span>
      {note && (
        <span className="pending__note level-crit" role="alert" data-testid={`pending-error-${c.id}`}>
          {note.text}
        </span>
      )}
    </li>
  );
}
