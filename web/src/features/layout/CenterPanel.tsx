import { useClusterStore } from "../../stores/cluster";
import { useMonitorStore } from "../../stores/monitor";
import { CENTER_TABS, useUiStore, type CenterTab } from "../../stores/ui";
import { ChatPanel } from "../chat/ChatPanel";
import { ClusterHud } from "../cluster/ClusterHud";
import { ActivityFeed } from "../events/ActivityFeed";
import { IncidentsView } from "../monitor/IncidentsView";
import { MonitorPanel } from "../monitor/MonitorPanel";

function TabLabel({ tab }: { tab: CenterTab }) {
  const open = useMonitorStore((s) => s.status?.openIncidents ?? 0);
  if (tab !== "INCIDENTS" || open === 0) return <>{tab}</>;
  return (
    <>
      {tab}
      <span className="tabs__count" data-testid="tab-incidents-count" aria-label={`${open} open`}>
        {open}
      </span>
    </>
  );
}

/** Centre column: HUD / FEED / INCIDENTS / MONITOR / CHAT tabs (the tab lives in the ui store, so
 *  the top bar's incident badge and the `/incidents/{id}` deep link can switch it). */
export function CenterPanel() {
  const tab = useUiStore((s) => s.centerTab);
  const setTab = useUiStore((s) => s.setCenterTab);
  const refresh = useClusterStore((s) => s.requestRefresh);
  const live = useClusterStore((s) => s.connection === "live");
  return (
    <div className="center">
      <div className="tabs" role="tablist" aria-label="Centre display">
        {CENTER_TABS.map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`tab-${t}`}
            aria-selected={tab === t}
            aria-controls={`tabpanel-${t}`}
            className="tabs__tab"
            onClick={() => setTab(t)}
            data-testid={`tab-${t.toLowerCase()}`}
          >
            <TabLabel tab={t} />
          </button>
        ))}
        <span className="tabs__spacer" />
        {tab === "HUD" && (
          <button
            type="button"
            className="btn btn--ghost btn--small"
            disabled={!refresh || !live}
            onClick={() => refresh?.()}
            title="Ask the server to resend the cluster state now"
            data-testid="refresh"
          >
            ↻ SYNC
          </button>
        )}
      </div>
      <div className="center__body" role="tabpanel" id={`tabpanel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === "HUD" && <ClusterHud />}
        {tab === "FEED" && <ActivityFeed />}
        {tab === "INCIDENTS" && <IncidentsView />}
        {tab === "MONITOR" && <MonitorPanel />}
        {tab === "CHAT" && <ChatPanel />}
      </div>
    </div>
  );
}
