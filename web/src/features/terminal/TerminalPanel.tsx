/**
 * TERMINAL: SSH shells on the cluster's nodes over `/terminal` (TERM-01). Node selector from the
 * live cluster (offline nodes listed but disabled), CONNECT opens a new tab, several sessions at
 * once, DISCONNECT stops the active one. The panel collapses with [–] or the `t` key; sessions
 * keep running and screens keep their contents while collapsed.
 */
import { useMemo } from "react";
import { Panel } from "../../components/Panel";
import { StatusDot, type DotTone } from "../../components/StatusDot";
import { useClusterStore } from "../../stores/cluster";
import { sessionControl, useTerminalStore, type TermTab } from "../../stores/terminal";
import { isLive, type SessionStatus } from "./session";
import { TerminalPane } from "./TerminalPane";
import "./terminal.css";

const STATUS_LABEL: Record<SessionStatus, string> = {
  connecting: "CONNECTING",
  starting: "STARTING",
  ready: "CONNECTED",
  closing: "CLOSING",
  closed: "CLOSED",
  error: "ERROR",
};

const STATUS_TONE: Record<SessionStatus, DotTone> = {
  connecting: "warn",
  starting: "warn",
  ready: "ok",
  closing: "warn",
  closed: "idle",
  error: "crit",
};

export function statusLine(tab: TermTab | undefined): string {
  if (!tab) return "NO SESSION";
  const parts = [STATUS_LABEL[tab.status], tab.node];
  if (tab.detail && tab.detail !== tab.node) parts.push(tab.detail);
  return parts.join(" · ");
}

function CollapseToggle() {
  const collapsed = useTerminalStore((s) => s.collapsed);
  const toggle = useTerminalStore((s) => s.toggleCollapsed);
  return (
    <button
      type="button"
      className="btn btn--ghost btn--small"
      onClick={toggle}
      aria-expanded={!collapsed}
      aria-controls="terminal-body"
      title={collapsed ? "Show the terminal (t)" : "Hide the terminal — sessions keep running (t)"}
      data-testid="term-collapse"
    >
      {collapsed ? "[+]" : "[–]"}
    </button>
  );
}

export function TerminalPanel({ token }: { token: string }) {
  const nodes = useClusterStore((s) => s.nodes);
  const tabs = useTerminalStore((s) => s.tabs);
  const activeId = useTerminalStore((s) => s.activeId);
  const collapsed = useTerminalStore((s) => s.collapsed);
  const selected = useTerminalStore((s) => s.selectedNode);
  const { open, close, activate, selectNode } = useTerminalStore.getState();

  const sortedNodes = useMemo(() => [...nodes].sort((a, b) => a.name.localeCompare(b.name)), [nodes]);
  const isOnline = (name: string | null) => sortedNodes.some((n) => n.name === name && n.status === "online");
  // The selection falls back to the first online node when the chosen one is gone or offline.
  const node = isOnline(selected) ? selected : (sortedNodes.find((n) => n.status === "online")?.name ?? null);
  const active = tabs.find((t) => t.id === activeId);
  const live = tabs.filter((t) => isLive(t.status)).length;

  return (
    <Panel
      title="TERMINAL"
      aside={
        <>
          {tabs.length > 0 && (
            <span className="term__count" title="live sessions">
              {live}/{tabs.length}
            </span>
          )}
          <CollapseToggle />
        </>
      }
      className={`panel--terminal${collapsed ? " panel--collapsed" : ""}`}
      testId="terminal-panel"
    >
      <div className="term" id="terminal-body" style={collapsed ? { display: "none" } : undefined}>
        <div className="term__toolbar">
          <select
            className="input input--small term__select"
            aria-label="Node"
            value={node ?? ""}
            onChange={(e) => selectNode(e.target.value)}
            disabled={sortedNodes.length === 0}
            data-testid="term-node-select"
          >
            {sortedNodes.length === 0 && <option value="">no nodes yet</option>}
            {sortedNodes.map((n) => (
              <option key={n.name} value={n.name} disabled={n.status !== "online"}>
                {n.name}
                {n.status !== "online" ? ` (${n.status})` : ""}
              </option>
            ))}
          </select>
          <button type="button" className="btn btn--primary btn--small" disabled={!node} onClick={() => node && open(node)} data-testid="term-connect">
            CONNECT
          </button>
          <button
            type="button"
            className="btn btn--ghost btn--small"
            disabled={!active || !isLive(active.status)}
            onClick={() => sessionControl(activeId)?.stop()}
            data-testid="term-disconnect"
          >
            DISCONNECT
          </button>
        </div>
        {tabs.length > 0 && (
          <div className="term__tabs" role="tablist" aria-label="Terminal sessions">
            {tabs.map((t) => (
              <span key={t.id} className={`term__tab${t.id === activeId ? " is-active" : ""}${isLive(t.status) ? "" : " is-closed"}`}>
                <button
                  type="button"
                  role="tab"
                  id={`term-tab-${t.id}`}
                  aria-selected={t.id === activeId}
                  aria-controls={`term-panel-${t.id}`}
                  className="term__tab-btn"
                  onClick={() => activate(t.id)}
                  title={statusLine(t)}
                  data-testid={`term-tab-${t.id}`}
                  data-status={t.status}
                  data-node={t.node}
                >
                  <StatusDot tone={STATUS_TONE[t.status]} label={STATUS_LABEL[t.status]} />
                  <span className="term__tab-label">
                    {t.id}:{t.node}
                  </span>
                </button>
                <button
                  type="button"
                  className="term__tab-close"
                  onClick={() => close(t.id)}
                  aria-label={`Close session ${t.id}`}
                  title={isLive(t.status) ? "Disconnect and close" : "Close"}
                  data-testid={`term-tab-close-${t.id}`}
                >
                  ×
                </button>
              </span>
            ))}
          </div>
        )}
        <div className={`term__status term__status--${active?.status ?? "none"}`} role="status" data-testid="term-status" data-status={active?.status ?? "none"}>
          {statusLine(active)}
        </div>
        <div className="term__screens">
          {tabs.length === 0 && (
            <p className="term__empty">
              {sortedNodes.length === 0 ? "Waiting for the cluster's nodes…" : "Select a node and CONNECT to open a shell."}
            </p>
          )}
          {tabs.map((t) => (
            <TerminalPane key={t.id} tab={t} active={t.id === activeId} token={token} />
          ))}
        </div>
      </div>
    </Panel>
  );
}
