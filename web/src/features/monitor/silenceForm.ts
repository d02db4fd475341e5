/**
 * The silence form's rules, checked before anything is sent (the server checks them again and
 * its message is shown if it still refuses): at least one of node, guest and kind (a silence of
 * everything is refused), a guest id of 100..999999999, a reason of 1..500 characters without
 * control characters, and one of the duration presets.
 */
import type { IncidentKind, NewSilence } from "../../lib/types/monitor";
import { INCIDENT_KINDS } from "../../lib/monitorApi";

export const DURATIONS: readonly { id: string; label: string; minutes: number }[] = [
  { id: "30m", label: "30 MIN", minutes: 30 },
  { id: "2h", label: "2 H", minutes: 120 },
  { id: "8h", label: "8 H", minutes: 480 },
  { id: "24h", label: "24 H", minutes: 1440 },
];

/** What the operator typed and chose ("" = not given). */
export interface SilenceDraft {
  node: string;
  vmid: string;
  kind: string;
  reason: string;
  duration: string;
}

export const EMPTY_DRAFT: SilenceDraft = { node: "", vmid: "", kind: "", reason: "", duration: "2h" };

export type DraftErrors = Partial<Record<keyof SilenceDraft | "matcher", string>>;

export const MAX_REASON = 500;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The request body for a valid draft, or what is wrong with it (per field). */
export function validateSilence(d: SilenceDraft, now: number): { ok: true; body: NewSilence } | { ok: false; errors: DraftErrors } {
  const errors: DraftErrors = {};
  const node = d.node.trim();
  const vmidText = d.vmid.trim();
  let vmid: number | undefined;
  if (vmidText !== "") {
    const n = /^\d+$/.test(vmidText) ? Number(vmidText) : Number.NaN;
    if (!Number.isInteger(n) || n < 100 || n > 999_999_999) errors.vmid = "A guest id is a whole number from 100 to 999999999.";
    else vmid = n;
  }
  if (d.kind !== "" && !(INCIDENT_KINDS as readonly string[]).includes(d.kind)) errors.kind = "Unknown incident kind.";
  if (node === "" && vmidText === "" && d.kind === "") errors.matcher = "Choose a node, a guest or a kind: a silence of everything is not allowed.";
  const reason = d.reason.trim();
  if (reason === "") errors.reason = "Say why (it is shown on every incident the silence holds back).";
  else if ([...reason].length > MAX_REASON) errors.reason = `At most ${MAX_REASON} characters.`;
  else if (CONTROL.test(reason)) errors.reason = "No control characters (such as line breaks).";
  const duration = DURATIONS.find((p) => p.id === d.duration);
  if (!duration) errors.duration = "Choose how long.";
  if (Object.keys(errors).length > 0 || !duration) return { ok: false, errors };
  const matcher: NewSilence["matcher"] = {};
  if (node !== "") matcher.node = node;
  if (vmid !== undefined) matcher.vmid = vmid;
  if (d.kind !== "") matcher.kind = d.kind as IncidentKind;
  return { ok: true, body: { matcher, reason, expiresAt: new Date(now + duration.minutes * 60_000).toISOString() } };
}
