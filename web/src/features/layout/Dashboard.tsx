import { useMemo, useRef, type FocusEvent } from "react";
import { Panel } from "../../components/Panel";
import { useUiStore, type PanelId } from "../../stores/ui";
import { NodeCount, NodeList } from "../cluster/NodeList";
import { StoragePanel } from "../cluster/StoragePanel";
import { useClusterSocket } from "../cluster/useClusterSocket";
import { useInitialSnapshot } from "../cluster/useInitialSnapshot";
import { VmCount, VmList } from "../cluster/VmList";
import { useClusterStore } from "../../stores/cluster";
import { ConfirmDialog } from "../actions/ConfirmDialog";
import { useChatSocket } from "../chat/useChatSocket";
import { CostPanel } from "../cost/CostPanel";
import { PendingConfirmations } from "../actions/PendingConfirmations";
import { useConfirmationExpiry, useEventsSocket } from "../events/useEventsSocket";
import { KillSwitchBanner } from "../monitor/KillSwitch";
import { TerminalPanel } from "../terminal/TerminalPanel";
import { CenterPanel } from "./CenterPanel";
import { TopBar } from "./TopBar";
import { useKeyboardShortcuts } from "./useKeyboardShortcuts";
import { useRoute } from "./useRoute";

function VmPanel() {
  const count = useClusterStore((s) => s.vms.length);
  return (
    <Panel title={`VMS & CONTAINERS (${count})`} aside={<VmCount />} className="panel--vms">
      <VmList />
    </Panel>
  );
}

/**
 * The signed-in screen: top bar and the original's three columns (nodes, guests and storage on
 * the left; HUD, activity feed, incidents, monitor and chat in the centre; cost and terminal on
 * the right).
 */
export function Dashboard({ token }: { token: string }) {
  useInitialSnapshot(token);
  useClusterSocket(token);
  useEventsSocket(token);
  useChatSocket(token);
  useConfirmationExpiry();
  useRoute();

  const left = useRef<HTMLDivElement>(null);
  const center = useRef<HTMLDivElement>(null);
  const right = useRef<HTMLDivElement>(null);
  const refs = useMemo(() => ({ left, center, right }), []);
  useKeyboardShortcuts(refs);
  const focused = useUiStore((s) => s.focusedPanel);
  const setFocused = useUiStore((s) => s.setFocusedPanel);

  const column = (id: PanelId) => ({
    tabIndex: -1,
    "data-focused": focused === id ? "true" : undefined,
    onBlur: (e: FocusEvent<HTMLDivElement>) => {
      // Leaving the column (not moving inside it) clears the highlight.
      if (focused === id && !e.currentTarget.contains(e.relatedTarget as Node | null)) setFocused(null);
    },
  });

  return (
    <div className="app-shell">
      <TopBar />
      <KillSwitchBanner />
      <main className="grid">
        <div className="column column--left" ref={left} aria-label="Cluster inventory" data-testid="column-left" {...column("left")}>
          <Panel title="CLUSTER NODES" aside={<NodeCount />} className="panel--nodes">
            <NodeList />
          </Panel>
          <VmPanel />
          <Panel title="STORAGE" className="panel--storage">
            <StoragePanel />
          </Panel>
        </div>
        <div className="column column--center" ref={center} aria-label="Main display" data-testid="column-center" {...column("center")}>
          <PendingConfirmations />
          <Panel title="COMMAND CENTER" className="panel--center">
            <CenterPanel />
          </Panel>
        </div>
        <div className="column column--right" ref={right} aria-label="Cost and terminal" data-testid="column-right" {...column("right")}>
          <Panel title="LLM COST TRACKER" className="panel--cost" testId="cost-panel">
            <CostPanel />
          </Panel>
          <TerminalPanel token={token} />
        </div>
      </main>
      <ConfirmDialog />
    </div>
  );
}
