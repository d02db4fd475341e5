import { useAuthStore } from "../../stores/auth";
import { AutonomySelector } from "../monitor/AutonomySelector";
import { KillSwitchToggle } from "../monitor/KillSwitch";
import { MonitorIndicator } from "../monitor/MonitorIndicator";
import { ModeSwitch, ThemePicker } from "./AppearanceControls";
import { Clock } from "./Clock";
import { ConnectionStatus } from "./ConnectionStatus";
import { QuorumIndicator } from "./QuorumIndicator";
import { StaleBadge } from "./StaleBadge";

export function TopBar() {
  const signOut = useAuthStore((s) => s.signOut);
  return (
    <header className="topbar">
      <div className="topbar__brand">
        <span className="topbar__logo" aria-hidden="true" />
        <h1 className="topbar__title">J.A.R.V.I.S.</h1>
      </div>
      <div className="topbar__status">
        <QuorumIndicator />
        <ConnectionStatus />
        <MonitorIndicator />
        <StaleBadge />
      </div>
      <div className="topbar__controls">
        <AutonomySelector />
        <KillSwitchToggle />
        <Clock />
        <ModeSwitch />
        <ThemePicker />
        <button type="button" className="btn btn--ghost" onClick={() => signOut()} data-testid="logout" title="Sign out">
          LOGOUT
        </button>
      </div>
    </header>
  );
}
