/**
 * The autonomy level selector in the top bar (MON-05): how much the monitor may do on its own,
 * 0 (observe only) to 4 (act, report only failures). Choosing a level sends
 * `PUT /api/monitor/autonomy-level`; the button shows the level the *server* answered with (and
 * `monitor:status` pushes from elsewhere), never a guess, and the server's own description of it
 * appears for a few seconds.
 */
import { useEffect, useRef, useState } from "react";
import { useMonitorStore } from "../../stores/monitor";
import type { AutonomyLevel } from "../../lib/types/monitor";
import { AUTONOMY_LEVEL_INFO } from "./monitorView";
import "./monitor.css";

/** How long the server's answer stays next to the selector. */
export const ANSWER_TTL_MS = 6_000;

export function AutonomySelector() {
  const level = useMonitorStore((s) => s.status?.autonomyLevel ?? null);
  const pending = useMonitorStore((s) => s.levelPending);
  const error = useMonitorStore((s) => s.levelError);
  const answer = useMonitorStore((s) => s.levelAnswer);
  const setLevel = useMonitorStore((s) => s.setAutonomyLevel);
  const clear = useMonitorStore((s) => s.clearLevelMessages);
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const current = AUTONOMY_LEVEL_INFO.find((l) => l.level === level);

  useEffect(() => {
    if (!answer) return;
    const timer = setTimeout(clear, ANSWER_TTL_MS);
    return () => clearTimeout(timer);
  }, [answer, clear]);

  // Opening puts the keyboard on the level in force (arrow-free: Tab moves, Enter chooses).
  useEffect(() => {
    if (!open) return;
    const menu = root.current;
    (menu?.querySelector<HTMLButtonElement>('[role="radio"][aria-checked="true"]') ?? menu?.querySelector<HTMLButtonElement>('[role="radio"]'))?.focus();
  }, [open]);

  // A click anywhere else closes the menu.
  useEffect(() => {
    if (!open) return;
    const onDown = (e: PointerEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", onDown);
    return () => document.removeEventListener("pointerdown", onDown);
  }, [open]);

  const choose = async (l: AutonomyLevel) => {
    clear();
    await setLevel(l);
    // Close once the server agreed; on an error the menu stays open beside the message.
    if (useMonitorStore.getState().levelError === null) setOpen(false);
  };

  return (
    <div className="autonomy" ref={root}>
      <button
        type="button"
        className="autonomy__btn"
        aria-haspopup="dialog"
        aria-expanded={open}
        onClick={() => {
          clear();
          setOpen((o) => !o);
        }}
        title={current ? `Autonomy level ${current.level}: ${current.meaning}` : "Autonomy level unknown"}
        data-testid="autonomy-toggle"
        data-level={level ?? "unknown"}
      >
        <span className="autonomy__label">AUTONOMY</span>
        <span className="autonomy__level">{level === null ? "L—" : `L${level}`}</span>
        <span className="autonomy__name">{current?.name ?? ""}</span>
        {pending !== null && <span className="spinner" aria-hidden="true" />}
      </button>
      {open && (
        <div
          className="autonomy__menu"
          role="dialog"
          aria-label="Autonomy level"
          data-testid="autonomy-menu"
          onKeyDown={(e) => {
            e.stopPropagation();
            if (e.key === "Escape") setOpen(false);
          }}
        >
          <div role="radiogroup" aria-label="Autonomy level" className="autonomy__options">
            {AUTONOMY_LEVEL_INFO.map((info) => (
              <button
                key={info.level}
                type="button"
                role="radio"
                aria-checked={level === info.level}
                className="autonomy__option"
                disabled={pending !== null}
                onClick={() => void choose(info.level)}
                data-testid={`autonomy-level-${info.level}`}
              >
                <span className="autonomy__option-level">L{info.level}</span>
                <span className="autonomy__option-text">
                  <span className="autonomy__option-name">{info.name}</span>
                  <span className="autonomy__option-meaning">{info.meaning}</span>
                </span>
                {pending === info.level && <span className="spinner" aria-hidden="true" />}
              </button>
            ))}
          </div>
          {error && (
            <p className="autonomy__error" role="alert" data-testid="autonomy-error">
              {error}
            </p>
          )}
        </div>
      )}
      {answer && !open && (
        <span className="autonomy__answer" role="status" data-testid="autonomy-answer">
          L{answer.level} in force: {answer.description}
        </span>
      )}
    </div>
  );
}
