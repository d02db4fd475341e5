import { StatusDot, type DotTone } from "../../components/StatusDot";
import { useClusterStore, type ConnectionState } from "../../stores/cluster";

const VIEW: Record<ConnectionState, { label: string; tone: DotTone; hint: string }> = {
  connecting: { label: "CONNECTING", tone: "warn", hint: "Opening the live connection to Jarvis" },
  live: { label: "LIVE", tone: "ok", hint: "Receiving live cluster updates" },
  reconnecting: { label: "RECONNECTING", tone: "warn", hint: "Connection lost; retrying (data shown may be old)" },
  offline: { label: "OFFLINE", tone: "crit", hint: "Jarvis is unreachable; still retrying in the background" },
};

/** The socket indicator: LIVE / RECONNECTING / OFFLINE (CONNECTING before the first connect). */
export function ConnectionStatus() {
  const connection = useClusterStore((s) => s.connection);
  const view = VIEW[connection];
  return (
    <span className={`conn conn--${connection}`} data-testid="conn-status" data-state={connection} title={view.hint} role="status">
      <StatusDot tone={view.tone} pulse={connection === "live"} label={view.hint} />
      <span className="conn__label">{view.label}</span>
    </span>
  );
}
