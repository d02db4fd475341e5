/**
 * The kill switch: the emergency brake for every mutating action (the operator's and the
 * monitor's). Engaging it is one click, always; releasing it asks "Resume actions?" first.
 * While it is on, a red banner says so across the whole dashboard.
 */
import { useEffect, useRef, useState } from "react";
import { useMonitorStore } from "../../stores/monitor";

export function KillSwitchToggle() {
  const on = useMonitorStore((s) => s.killSwitch);
  const toggling = useMonitorStore((s) => s.toggling);
  const error = useMonitorStore((s) => s.error);
  const setKillSwitch = useMonitorStore((s) => s.setKillSwitch);
  const clearError = useMonitorStore((s) => s.clearError);
  const [asking, setAsking] = useState(false);
  const resumeButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (asking) resumeButton.current?.focus();
  }, [asking]);
  // If the switch is released elsewhere while we ask, there is nothing left to ask.
  if (asking && on !== true) setAsking(false);

  const onClick = () => {
    clearError();
    if (on === true) setAsking(true);
    else void setKillSwitch(true); // unknown or off: engage at once
  };

  const state = on === true ? "on" : on === false ? "off" : "unknown";
  return (
    <div className="killswitch">
      <button
        type="button"
        className={`killswitch__btn killswitch__btn--${state}`}
        aria-pressed={on === true}
        onClick={onClick}
        title={on === true ? "Kill switch ON: no actions run. Click to resume." : "Engage the kill switch: stop every action at once"}
        data-testid="killswitch-toggle"
        data-state={state}
        data-busy={toggling ? "true" : undefined}
      >
        <span className="killswitch__lamp" aria-hidden="true" />
        <span className="killswitch__label">KILL SWITCH</span>
        <span className="killswitch__state">{state === "unknown" ? "—" : state.toUpperCase()}</span>
      </button>
      {asking && (
        <div
          className="killswitch__ask"
          role="dialog"
          aria-label="Resume actions?"
          data-testid="killswitch-confirm"
          onKeyDown={(e) => {
            e.stopPropagation();
            if (e.key === "Escape") setAsking(false);
          }}
        >
          <span className="killswitch__question">Resume actions?</span>
          <button
            ref={resumeButton}
            type="button"
            className="btn btn--primary btn--small"
            onClick={() => {
              setAsking(false);
              void setKillSwitch(false);
            }}
            data-testid="killswitch-resume"
          >
            RESUME
          </button>
          <button type="button" className="btn btn--ghost btn--small" onClick={() => setAsking(false)} data-testid="killswitch-cancel">
            KEEP ON
          </button>
        </div>
      )}
      {error && (
        <span className="killswitch__error" role="alert" data-testid="killswitch-error" title={error}>
          {error}
        </span>
      )}
    </div>
  );
}

export function KillSwitchBanner() {
  const on = useMonitorStore((s) => s.killSwitch === true);
  if (!on) return null;
  return (
    <div className="killswitch-banner" role="alert" data-testid="killswitch-banner">
      <span className="killswitch-banner__icon" aria-hidden="true">
        ⚠
      </span>
      KILL SWITCH ACTIVE — no actions will run
      <span className="killswitch-banner__note">monitoring and reads continue</span>
    </div>
  );
}
