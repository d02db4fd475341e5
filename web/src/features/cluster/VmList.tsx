import { useDeferredValue, useMemo, useState } from "react";
import { useClusterStore } from "../../stores/cluster";
import { AwaitingData } from "./AwaitingData";
import { filterGuests, sortGuests, type GuestKindFilter } from "./guests";
import { VmRow } from "./VmRow";

const KINDS: { id: GuestKindFilter; label: string }[] = [
  { id: "all", label: "ALL" },
  { id: "qemu", label: "VM" },
  { id: "lxc", label: "CT" },
];

/** VMs and containers: filter box, VM/CT/ALL toggle, rows sorted running → paused → stopped. */
export function VmList() {
  const vms = useClusterStore((s) => s.vms);
  const hasNodes = useClusterStore((s) => s.nodes.length > 0);
  const [query, setQuery] = useState("");
  const [kind, setKind] = useState<GuestKindFilter>("all");
  // Typing stays responsive on big clusters: the list catches up at lower priority.
  const deferredQuery = useDeferredValue(query);
  const sorted = useMemo(() => sortGuests(vms), [vms]);
  const shown = useMemo(() => filterGuests(sorted, deferredQuery, kind), [sorted, deferredQuery, kind]);

  if (vms.length === 0 && !hasNodes) return <AwaitingData />;

  return (
    <div className="vm-list">
      <div className="vm-list__controls">
        <input
          type="search"
          className="input input--small"
          placeholder="filter name · id · node · tag"
          aria-label="Filter guests"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          data-testid="vm-filter"
        />
        <div className="segmented" role="group" aria-label="Guest type">
          {KINDS.map((k) => (
            <button
              key={k.id}
              type="button"
              className="segmented__btn"
              aria-pressed={kind === k.id}
              onClick={() => setKind(k.id)}
              data-testid={`vm-kind-${k.id}`}
            >
              {k.label}
            </button>
          ))}
        </div>
      </div>
      {shown.length === 0 ? (
        <p className="muted vm-list__empty">{vms.length === 0 ? "No guests on this cluster." : "No guest matches the filter."}</p>
      ) : (
        <ul className="vm-list__rows">
          {shown.map((vm) => (
            <VmRow key={vm.vmid} vm={vm} />
          ))}
        </ul>
      )}
    </div>
  );
}

/** Header count: "(n)", or "(shown of n)" is left to the list itself; this is the total. */
export function VmCount() {
  const total = useClusterStore((s) => s.vms.length);
  const running = useClusterStore((s) => s.vms.filter((v) => v.status === "running").length);
  if (total === 0) return null;
  return (
    <span>
      <span className="level-ok">{running}</span>/{total} RUNNING
    </span>
  );
}
