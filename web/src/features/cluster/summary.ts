/** The cluster-wide figures of the HUD, derived from the store's sections. */
import type { Node, Storage, Vm } from "../../types/cluster";

export interface ClusterSummary {
  nodesOnline: number;
  nodesTotal: number;
  guestsRunning: number;
  /** Real guests (templates excluded: they can never run). */
  guestsTotal: number;
  vmsRunning: number;
  vmsTotal: number;
  ctsRunning: number;
  ctsTotal: number;
  /** Used cores / all cores of online nodes (0..1), i.e. weighted by node size. */
  cpu: number;
  cores: number;
  memUsed: number;
  memTotal: number;
  storageUsed: number;
  storageTotal: number;
}

/**
 * One entry per pool: a shared pool (Ceph, NFS…) is reported by every node, so keep only its
 * first report; local pools stay one per node. Sorted by storage name, then node.
 */
export function uniqueStorage(storage: readonly Storage[]): Storage[] {
  const seen = new Set<string>();
  const out: Storage[] = [];
  const sorted = [...storage].sort((a, b) => a.storage.localeCompare(b.storage) || a.node.localeCompare(b.node));
  for (const s of sorted) {
    const key = s.shared ? `shared:${s.storage}` : `${s.storage}@${s.node}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(s);
  }
  return out;
}

export function summarize(nodes: readonly Node[], vms: readonly Vm[], storage: readonly Storage[]): ClusterSummary {
  const online = nodes.filter((n) => n.status === "online");
  const cores = online.reduce((sum, n) => sum + n.maxcpu, 0);
  const busy = online.reduce((sum, n) => sum + n.cpu * n.maxcpu, 0);
  const guests = vms.filter((v) => !v.template);
  const running = (list: Vm[]) => list.filter((v) => v.status === "running").length;
  const qemu = guests.filter((v) => v.type === "qemu");
  const lxc = guests.filter((v) => v.type === "lxc");
  const pools = uniqueStorage(storage).filter((s) => s.status === "available" || s.total > 0);
  return {
    nodesOnline: online.length,
    nodesTotal: nodes.length,
    guestsRunning: running(guests),
    guestsTotal: guests.length,
    vmsRunning: running(qemu),
    vmsTotal: qemu.length,
    ctsRunning: running(lxc),
    ctsTotal: lxc.length,
    cpu: cores > 0 ? busy / cores : 0,
    cores,
    memUsed: online.reduce((sum, n) => sum + n.mem, 0),
    memTotal: online.reduce((sum, n) => sum + n.maxmem, 0),
    storageUsed: pools.reduce((sum, s) => sum + s.used, 0),
    storageTotal: pools.reduce((sum, s) => sum + s.total, 0),
  };
}
