/**
 * Ordering and filtering of the VM/CT list, kept out of the component so it can be tested and
 * memoised on its inputs.
 */
import type { GuestStatus, Vm } from "../../types/cluster";

export type GuestKindFilter = "all" | "qemu" | "lxc";

const STATUS_RANK: Record<GuestStatus, number> = { running: 0, paused: 1, stopped: 2, unknown: 3 };

/**
 * Running → paused → stopped → unknown, then by vmid. Templates never run, so they go after all
 * real guests (still by vmid) instead of mixing with stopped machines someone may want to start.
 */
export function compareGuests(a: Vm, b: Vm): number {
  const ta = a.template ? 1 : 0;
  const tb = b.template ? 1 : 0;
  if (ta !== tb) return ta - tb;
  const rank = STATUS_RANK[a.status] - STATUS_RANK[b.status];
  return rank !== 0 ? rank : a.vmid - b.vmid;
}

export function sortGuests(vms: readonly Vm[]): Vm[] {
  return [...vms].sort(compareGuests);
}

/**
 * Guests matching the kind toggle and every whitespace-separated term of `query`; a term matches
 * the name, vmid, node or a tag, case-insensitively (`web pve2` = web guests on pve2).
 */
export function filterGuests(vms: readonly Vm[], query: string, kind: GuestKindFilter): Vm[] {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  return vms.filter((vm) => {
    if (kind !== "all" && vm.type !== kind) return false;
    if (terms.length === 0) return true;
    const haystack = [vm.name, String(vm.vmid), vm.node, ...vm.tags].map((s) => s.toLowerCase());
    return terms.every((t) => haystack.some((h) => h.includes(t)));
  });
}

/** The name to show: PVE allows empty names, so fall back to `VM 101` / `CT 101`. */
export function guestLabel(vm: Vm): string {
  return vm.name.trim() !== "" ? vm.name : `${vm.type === "qemu" ? "VM" : "CT"} ${vm.vmid}`;
}
