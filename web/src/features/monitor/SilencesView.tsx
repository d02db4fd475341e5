/**
 * SILENCES (inside the incidents view): the maintenance windows in force — what each holds back,
 * why, who made it and when it ends — with DELETE, and the form to make one (node and/or guest
 * and/or kind, a reason, 30 min / 2 h / 8 h / 24 h). Matching incidents are still recorded but
 * neither notified nor repaired until the silence ends.
 */
import { useEffect, useState, type FormEvent } from "react";
import { formatCountdown, formatWhen } from "../../lib/format";
import { INCIDENT_KINDS } from "../../lib/monitorApi";
import type { Matcher } from "../../lib/types/monitor";
import { useNow } from "../../lib/useNow";
import { useClusterStore } from "../../stores/cluster";
import { useSilencesStore } from "../../stores/silences";
import { kindLabel, matcherText } from "./monitorView";
import { DURATIONS, EMPTY_DRAFT, MAX_REASON, validateSilence, type DraftErrors, type SilenceDraft } from "./silenceForm";

/** How often the list is re-read while shown (silences made elsewhere, expiries). */
export const SILENCES_REFRESH_MS = 30_000;

function FieldError({ text, id }: { text: string | undefined; id: string }) {
  if (!text) return null;
  return (
    <span className="silence-form__error" role="alert" data-testid={`silence-error-${id}`}>
      {text}
    </span>
  );
}

function draftFrom(m: Matcher | null): SilenceDraft {
  if (!m) return EMPTY_DRAFT;
  return { ...EMPTY_DRAFT, node: m.node ?? "", vmid: m.vmid != null ? String(m.vmid) : "", kind: m.kind ?? "" };
}

/** The form; `start` is the matcher handed over from an incident (remount it to start again). */
export function SilenceForm({ start }: { start: Matcher | null }) {
  const create = useSilencesStore((s) => s.create);
  const clusterNodes = useClusterStore((s) => s.nodes);
  const [draft, setDraft] = useState<SilenceDraft>(() => draftFrom(start));
  const [errors, setErrors] = useState<DraftErrors>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  const nodes = [...new Set([...clusterNodes.map((n) => n.name), ...(draft.node ? [draft.node] : [])])].sort();
  const change = (patch: Partial<SilenceDraft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    setDone(null);
    setServerError(null);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const checked = validateSilence(draft, Date.now());
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    setSending(true);
    const failure = await create(checked.body);
    setSending(false);
    if (failure) {
      setServerError(failure);
      return;
    }
    setDone(`Silenced ${matcherText(checked.body.matcher)} until ${formatWhen(checked.body.expiresAt)}.`);
    setDraft(EMPTY_DRAFT);
  };

  return (
    <form className="silence-form" onSubmit={(e) => void submit(e)} noValidate data-testid="silence-form" aria-label="New silence">
      <span className="subhead">NEW SILENCE</span>
      <div className="silence-form__row">
        <label className="silence-form__field">
          <span className="feed__filter-label">NODE</span>
          <select className="input input--small" value={draft.node} onChange={(e) => change({ node: e.target.value })} data-testid="silence-node">
            <option value="">any</option>
            {nodes.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label className="silence-form__field">
          <span className="feed__filter-label">GUEST ID</span>
          <input
            className="input input--small"
            inputMode="numeric"
            placeholder="any"
            value={draft.vmid}
            onChange={(e) => change({ vmid: e.target.value })}
            aria-invalid={errors.vmid ? true : undefined}
            data-testid="silence-vmid"
          />
        </label>
        <label className="silence-form__field">
          <span className="feed__filter-label">KIND</span>
          <select className="input input--small" value={draft.kind} onChange={(e) => change({ kind: e.target.value })} data-testid="silence-kind">
            <option value="">any</option>
            {INCIDENT_KINDS.map((k) => (
              <option key={k} value={k}>
                {kindLabel(k)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <FieldError text={errors.matcher} id="matcher" />
      <FieldError text={errors.vmid} id="vmid" />
      <FieldError text={errors.kind} id="kind" />
      <label className="silence-form__field silence-form__field--wide">
        <span className="feed__filter-label">REASON</span>
        <input
          className="input input--small"
          maxLength={MAX_REASON}
          placeholder="e.g. kernel update on pve2"
          value={draft.reason}
          onChange={(e) => change({ reason: e.target.value })}
          aria-invalid={errors.reason ? true : undefined}
          data-testid="silence-reason"
        />
      </label>
      <FieldError text={errors.reason} id="reason" />
      <div className="silence-form__row">
        <div className="segmented" role="group" aria-label="Duration">
          {DURATIONS.map((p) => (
            <button
              key={p.id}
              type="button"
              className="segmented__btn"
              aria-pressed={draft.duration === p.id}
              onClick={() => change({ duration: p.id })}
              data-testid={`silence-duration-${p.id}`}
            >
              {p.label}
            </button>
          ))}
        </div>
        <button type="submit" className="btn btn--primary btn--small" disabled={sending} data-testid="silence-submit">
          {sending && <span className="spinner" aria-hidden="true" />}
          SILENCE
        </button>
      </div>
      <FieldError text={errors.duration} id="duration" />
      {serverError && (
        <span className="silence-form__error" role="alert" data-testid="silence-server-error">
          {serverError}
        </span>
      )}
      {done && (
        <span className="silence-form__done" role="status" data-testid="silence-done">
          {done}
        </span>
      )}
    </form>
  );
}

export function SilencesView() {
  const silences = useSilencesStore((s) => s.silences);
  const loadedAt = useSilencesStore((s) => s.loadedAt);
  const error = useSilencesStore((s) => s.error);
  const deleting = useSilencesStore((s) => s.deleting);
  const load = useSilencesStore((s) => s.load);
  const remove = useSilencesStore((s) => s.remove);
  const draft = useSilencesStore((s) => s.draft);
  const draftRev = useSilencesStore((s) => s.draftRev);
  const now = useNow(1_000);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), SILENCES_REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);

  const inForce = silences.filter((s) => Date.parse(s.expiresAt) > now);
  return (
    <div className="silences" data-testid="silences-view">
      <SilenceForm key={draftRev} start={draft} />
      {error && (
        <p className="incidents__stale" role="alert" data-testid="silences-error">
          {error}
        </p>
      )}
      <span className="subhead">IN FORCE ({inForce.length})</span>
      {inForce.length === 0 ? (
        <p className="muted" data-testid="silences-empty">
          {loadedAt === null && !error ? "Loading silences…" : "No silences in force."}
        </p>
      ) : (
        <ul className="silences__list" data-testid="silences-list">
          {inForce.map((s) => (
            <li key={s.id} className="silence" data-testid={`silence-${s.id}`}>
              <div className="silence__main">
                <span className="silence__matcher">{matcherText(s.matcher)}</span>
                <span className="silence__reason">{s.reason}</span>
                <span className="silence__meta mono">
                  ends {formatWhen(s.expiresAt)} · in {formatCountdown(Date.parse(s.expiresAt) - now)} · by {s.createdBy || "?"}
                </span>
              </div>
              <button
                type="button"
                className="btn btn--ghost btn--small"
                disabled={deleting[s.id] === true}
                onClick={() => void remove(s.id)}
                data-testid={`silence-delete-${s.id}`}
              >
                {deleting[s.id] && <span className="spinner" aria-hidden="true" />}
                DELETE
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
