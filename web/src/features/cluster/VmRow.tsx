import { memo } from "react";
import { StatusDot, type DotTone } from "../../components/StatusDot";
import { formatBytes, formatBytesPair, formatPercent } from "../../lib/format";
import type { GuestStatus, Vm } from "../../types/cluster";
import { GuestActionButtons, GuestActionFeedback } from "../actions/GuestActions";
import { guestLabel } from "./guests";

const TONE: Record<GuestStatus, DotTone> = { running: "ok", paused: "warn", stopped: "idle", unknown: "unknown" };

/**
 * One guest row. Memoised on the (structurally shared) Vm object; the action buttons and the
 * feedback line subscribe to their own stores, so an action never re-renders the other rows.
 */
export const VmRow = memo(function VmRow({ vm }: { vm: Vm }) {
  const running = vm.status === "running";
  return (
    <li
      className={`vm-row vm-row--${vm.status}${vm.template ? " vm-row--template" : ""}`}
      data-testid={`vm-row-${vm.vmid}`}
      data-status={vm.status}
      data-type={vm.type}
    >
      <span className="vm-row__line">
        <StatusDot tone={vm.template ? "unknown" : TONE[vm.status]} label={vm.status} />
        <span className="vm-row__name" title={vm.tags.length ? `tags: ${vm.tags.join(", ")}` : undefined}>
          {guestLabel(vm)}
        </span>
        <span className={`badge badge--${vm.type}`}>{vm.type === "qemu" ? "VM" : "CT"}</span>
        {vm.template && <span className="badge badge--template">TEMPLATE</span>}
        <span className="vm-row__spacer" />
        <span className={`vm-row__status vm-row__status--${vm.status}`} data-testid={`vm-status-${vm.vmid}`}>
          {vm.status}
        </span>
      </span>
      <span className="vm-row__line vm-row__line--meta">
        <span className="vm-row__id">{vm.vmid}</span>
        <span className="vm-row__node">{vm.node}</span>
        <span className="vm-row__spacer" />
        <span className="vm-row__cpu" title={`${vm.maxcpu} vCPU`}>
          {running ? formatPercent(vm.cpu) : "—"}
        </span>
        <span className="vm-row__mem" title="memory used / assigned">
          {running ? formatBytesPair(vm.mem, vm.maxmem) : `— / ${formatBytes(vm.maxmem)}`}
        </span>
      </span>
      <GuestActionButtons vm={vm} />
      <GuestActionFeedback vmid={vm.vmid} />
    </li>
  );
});
