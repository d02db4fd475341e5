/** Small builders for wire objects, so tests state only what they care about. */
import type { Confirmation, JarvisEvent, MonitorStatus } from "../lib/types/actions";
import type { Incident } from "../lib/types/monitor";
import type { ClusterSnapshot, Node, Quorum, Storage, Vm } from "../types/cluster";

export const GiB = 1024 ** 3;

export function node(name: string, over: Partial<Node> = {}): Node {
  return {
    name,
    status: "online",
    cpu: 0.25,
    maxcpu: 8,
    mem: 8 * GiB,
    maxmem: 32 * GiB,
    disk: 20 * GiB,
    maxdisk: 100 * GiB,
    uptime: 3 * 86_400 + 4 * 3_600 + 12 * 60,
    ...over,
  };
}

export function vm(vmid: number, over: Partial<Vm> = {}): Vm {
  return {
    vmid,
    name: `guest-${vmid}`,
    type: "qemu",
    node: "pve1",
    status: "running",
    cpu: 0.1,
    maxcpu: 2,
    mem: 1 * GiB,
    maxmem: 4 * GiB,
    disk: 0,
    maxdisk: 32 * GiB,
    uptime: 3600,
    template: false,
    tags: [],
    ...over,
  };
}

export function storage(name: string, nodeName: string, over: Partial<Storage> = {}): Storage {
  return {
    storage: name,
    node: nodeName,
    type: "dir",
    status: "available",
    total: 100 * GiB,
    used: 40 * GiB,
    avail: 60 * GiB,
    content: ["images"],
    shared: false,
    ...over,
  };
}

export const quorum: Quorum = { quorate: true, nodes: 3, expected: 3, clusterName: "homelab" };

export function snapshot(over: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  return {
    nodes: [node("pve1"), node("pve2"), node("pve3")],
    vms: [vm(100), vm(101, { type: "lxc", status: "stopped" })],
    storage: [storage("local", "pve1")],
    quorum,
    updatedAt: "2026-11-21T10:00:00Z",
    freshness: { stale: false, updatedAt: "2026-11-21T10:00:00Z", endpoint: "https://pve1:8006" },
    ...over,
  };
}

/** A fetch Response with a JSON body. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/** A pending confirmation as the server sends it (expires `inMs` from `now`). */
export function confirmation(
  id: string,
  over: Partial<Confirmation> = {},
  inMs = 5 * 60_000,
  now = Date.now(),
): Confirmation {
  return {
    id,
    tool: "stop_vm",
    args: { node: "pve1", vmid: 100 },
    summary: "Stop VM 100 (guest-100) on node pve1",
    tier: "red",
    expiresAt: new Date(now + inMs).toISOString(),
    createdAt: new Date(now).toISOString(),
    ...over,
  };
}

/** A monitor status as the server sends it (running, level 3, every tier just run). */
export function monitorStatus(over: Partial<MonitorStatus> = {}, now = Date.now()): MonitorStatus {
  const at = new Date(now).toISOString();
  return {
    running: true,
    autonomyLevel: 3,
    killSwitch: false,
    activeRemediations: 0,
    lastPoll: { critical: at, important: at, routine: at, background: at },
    openIncidents: 0,
    intervals: { critical: 12, important: 32, routine: 300, background: 1800 },
    ...over,
  };
}

/** An activity event. */
export function event(id: string, over: Partial<JarvisEvent> = {}): JarvisEvent {
  return {
    id,
    type: "alert",
    severity: "error",
    title: `event ${id}`,
    message: "details",
    node: "pve1",
    source: "monitor",
    timestamp: "2026-11-21T10:00:00.000Z",
    resolved: false,
    ...over,
  };
}

/** An open crash incident with a detection entry (timeline entries `at` ascending). */
export function incident(id: string, over: Partial<Incident> = {}): Incident {
  return {
    id,
    key: `crash:qemu/${id}`,
    kind: "crash",
    severity: "error",
    state: "open",
    node: "pve1",
    vmid: 101,
    title: `VM web (101) crashed on pve1 [${id}]`,
    openedAt: "2026-11-21T10:00:00.000Z",
    occurrences: 1,
    flapping: false,
    escalated: false,
    timeline: [{ at: "2026-11-21T10:00:00.000Z", kind: "detected", detail: "VM web (101) was running and stopped with no task." }],
    ...over,
  };
}
