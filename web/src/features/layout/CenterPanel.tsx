import { useState } from "react";
import { Placeholder } from "../../components/Placeholder";
import { useClusterStore } from "../../stores/cluster";
import { ChatPanel } from "../chat/ChatPanel";
import { ClusterHud } from "../cluster/ClusterHud";

const TABS = ["HUD", "FEED", "CHAT"] as const;
type Tab = (typeof TABS)[number];

/** Centre column: HUD / FEED / CHAT tabs (the feed arrives with a later issue). */
export function CenterPanel() {
  const [tab, setTab] = useState<Tab>("HUD");
  const refresh = useClusterStore((s) => s.requestRefresh);
  const live = useClusterStore((s) => s.connection === "live");
  return (
    <div className="center">
      <div className="tabs" role="tablist" aria-label="Centre display">
        {TABS.map((t) => (
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
            {t}
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
        {tab === "FEED" && <Placeholder glyph="≋" title="ACTIVITY FEED" note="arrives with the chat issue" />}
        {tab === "CHAT" && <ChatPanel />}
      </div>
    </div>
  );
}
