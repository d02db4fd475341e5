//! State changes (MON-02), decided from PVE's own task list and Jarvis's audit log, never from
//! guesses.
//!
//! A **crash** is a guest seen running, then stopped, on a node that stayed online, with no task
//! that explains it: no stop, shutdown, migration, HA action, backup or destruction overlapping
//! the interval, and no stop/shutdown/restart by Jarvis. Without a task list (the read failed)
//! nothing is decided — the guest stays "last seen running" until a list arrives. A guest stopped
//! when monitoring starts is never a crash (nobody saw it die); neither are guests of a node that
//! went offline (they come back as first sightings). A node going offline is an incident unless
//! Jarvis itself powered it down; one that is already offline at start-up is an incident that no
//! runbook acts on (Jarvis did not see it go down, and it may be off on purpose).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};

use super::model::IncidentKind;
use super::observe::{Condition, JarvisAction, Observed, Subject, TaskInfo};
use crate::cluster::{ClusterSnapshot, GuestStatus, GuestType, NodeStatus, Vm};
use crate::events::Severity;

/// Tolerance for clock skew between PVE's task times and Jarvis's observations.
pub const TASK_SLACK: Duration = Duration::seconds(60);
/// How long a Jarvis node power action explains the node being down.
const NODE_POWER_WINDOW: Duration = Duration::minutes(15);
/// How stale the cluster data may get before "cannot reach PVE" is an incident.
pub const PVE_STALE_AFTER: Duration = Duration::seconds(60);

/// PVE task types after which a guest is legitimately stopped (or briefly seen stopped).
const STOPPING_TASKS: &[&str] = &[
    "qmstop",
    "qmshutdown",
    "qmreboot",
    "qmsuspend",
    "qmigrate",
    "qmdestroy",
    "qmrestore",
    "vzstop",
    "vzshutdown",
    "vzreboot",
    "vzsuspend",
    "vzmigrate",
    "vzdestroy",
    "vzrestore",
    "hastop",
    "hashutdown",
    "hamigrate",
    "harelocate",
    "vzdump",
];

/// Jarvis tools after which a guest is legitimately stopped.
const STOPPING_TOOLS: &[&str] = &[
    "stop_vm",
    "shutdown_vm",
    "restart_vm",
    "stop_container",
    "shutdown_container",
    "restart_container",
];

/// A change worth an activity-feed line.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A guest died: no task explains its stop.
    Crashed {
        /// The guest.
        vm: GuestRef,
    },
    /// A guest was stopped on purpose.
    Stopped {
        /// The guest.
        vm: GuestRef,
        /// What explains it (`qmshutdown by root@pam`).
        by: String,
    },
    /// A guest started.
    Started {
        /// The guest.
        vm: GuestRef,
    },
    /// A guest moved to another node.
    Migrated {
        /// The guest.
        vm: GuestRef,
        /// The node it left.
        from: String,
    },
    /// A node stopped answering.
    NodeOffline {
        /// The node.
        node: String,
        /// Jarvis powered it down (`reboot_node by operator`), if so.
        deliberate: Option<String>,
    },
    /// A node is back.
    NodeOnline {
        /// The node.
        node: String,
    },
    /// The cluster lost quorum.
    QuorumLost,
    /// The cluster has quorum again.
    QuorumRegained,
}

/// A guest named the way titles name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestRef {
    /// Id.
    pub vmid: u32,
    /// Name.
    pub name: String,
    /// VM or container.
    pub kind: GuestType,
    /// Node.
    pub node: String,
}

impl GuestRef {
    fn of(vm: &Vm) -> GuestRef {
        GuestRef { vmid: vm.vmid, name: vm.name.clone(), kind: vm.kind, node: vm.node.clone() }
    }

    /// `VM web (101)` / `CT db (102)`.
    pub fn label(&self) -> String {
        let kind = if self.kind == GuestType::Lxc { "CT" } else { "VM" };
        format!("{kind} {} ({})", self.name, self.vmid)
    }
}

#[derive(Debug, Clone)]
struct Seen {
    status: GuestStatus,
    node: String,
    at: DateTime<Utc>,
}

/// What the state detector remembers between evaluations.
#[derive(Debug, Clone, Default)]
pub struct StateTracker {
    guests: HashMap<u32, Seen>,
    nodes: HashMap<String, NodeStatus>,
    /// Guests that crashed and have not run since.
    crashed: BTreeMap<u32, GuestRef>,
    /// Nodes Jarvis powered down (not incidents while down).
    expected_down: BTreeSet<String>,
    /// Nodes already offline at their first sighting (incident, but no runbook).
    down_at_start: BTreeSet<String>,
    quorate: Option<bool>,
    stale_since: Option<DateTime<Utc>>,
}

/// One state evaluation's result.
#[derive(Debug, Clone, Default)]
pub struct StateEvaluation {
    /// Conditions that hold now.
    pub conditions: Vec<Condition>,
    /// What changed since the last evaluation.
    pub changes: Vec<Change>,
    /// False when the data was stale: conditions missing from the list are not cleared.
    pub complete: bool,
}

fn explained_by_task(
    tasks: &[TaskInfo],
    vmid: u32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<String> {
    tasks
        .iter()
        .filter(|t| t.vmid() == Some(vmid) && STOPPING_TASKS.contains(&t.kind.as_str()))
        .find(|t| t.overlaps(from, to, TASK_SLACK))
        .map(|t| format!("{} by {}", t.kind, t.user))
}

fn explained_by_jarvis(
    actions: &[JarvisAction],
    vmid: u32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<String> {
    actions
        .iter()
        .filter(|a| a.vmid == Some(vmid) && STOPPING_TOOLS.contains(&a.tool.as_str()))
        .find(|a| a.at >= from - TASK_SLACK && a.at <= to + TASK_SLACK)
        .map(|a| format!("{} by {} via Jarvis", a.tool, a.actor))
}

fn node_powered_by_jarvis(
    actions: &[JarvisAction],
    node: &str,
    now: DateTime<Utc>,
) -> Option<String> {
    actions
        .iter()
        .filter(|a| a.node.as_deref() == Some(node))
        .filter(|a| matches!(a.tool.as_str(), "reboot_node" | "shutdown_node"))
        .find(|a| now - a.at <= NODE_POWER_WINDOW)
        .map(|a| format!("{} by {} via Jarvis", a.tool, a.actor))
}

impl StateTracker {
    /// Restores the crashed set from unresolved crash incidents (after a restart).
    pub fn restore_crash(&mut self, vm: GuestRef) {
        self.crashed.insert(vm.vmid, vm);
    }

    /// Whether `node` was online at the last state evaluation (unknown nodes are not).
    pub fn node_online(&self, node: &str) -> bool {
        self.nodes.get(node) == Some(&NodeStatus::Online)
    }

    /// The operator resolved the crash incident: no longer tracked as crashed.
    pub fn accept_crash(&mut self, vmid: u32) {
        self.crashed.remove(&vmid);
    }

    /// Evaluates the state family.
    pub fn evaluate(&mut self, o: &Observed<'_>, now: DateTime<Utc>) -> StateEvaluation {
        let snap = o.snapshot;
        let mut out = StateEvaluation { complete: true, ..StateEvaluation::default() };
        if snap.freshness.stale {
            // Stale data decides nothing: every other condition stays as it was; after a
            // minute, not reaching PVE is itself the incident.
            out.conditions.extend(self.pve_condition(snap, now));
            out.complete = false;
            return out;
        }
        self.stale_since = None;
        self.nodes_and_quorum(o, now, &mut out);
        self.guests(o, now, &mut out);
        self.conditions(snap, &mut out.conditions);
        out
    }

    fn pve_condition(&mut self, snap: &ClusterSnapshot, now: DateTime<Utc>) -> Option<Condition> {
        let since = *self.stale_since.get_or_insert(now);
        // Stale since the last good poll, or (before any) since we first saw it stale.
        let last = snap.freshness.updated_at.map_or(since, |t| t.min(since));
        (now - last >= PVE_STALE_AFTER).then(|| {
            let reason = snap.freshness.error.clone().unwrap_or_else(|| "no answer yet".into());
            Condition {
                key: "pve:api".into(),
                kind: IncidentKind::Pve,
                severity: Severity::Critical,
                node: None,
                vmid: None,
                title: "Jarvis cannot read the cluster from PVE".into(),
                detail: format!(
                    "Every PVE endpoint failed: {reason}. The dashboard shows the last data."
                ),
                subject: Subject::None,
                remediable: false,
                backup: None,
                flapping: false,
                settling: false,
            }
        })
    }

    fn nodes_and_quorum(
        &mut self,
        o: &Observed<'_>,
        now: DateTime<Utc>,
        out: &mut StateEvaluation,
    ) {
        let snap = o.snapshot;
        for node in &snap.nodes {
            if node.status == NodeStatus::Unknown {
                continue;
            }
            let prev = self.nodes.insert(node.name.clone(), node.status);
            match (prev, node.status) {
                (None, NodeStatus::Offline) => {
                    self.down_at_start.insert(node.name.clone());
                }
                (Some(NodeStatus::Online), NodeStatus::Offline) => {
                    let deliberate = node_powered_by_jarvis(o.actions, &node.name, now);
                    if deliberate.is_some() {
                        self.expected_down.insert(node.name.clone());
                    }
                    // Its guests come back as first sightings, not as crashes.
                    self.guests.retain(|_, s| s.node != node.name);
                    out.changes.push(Change::NodeOffline { node: node.name.clone(), deliberate });
                }
                (Some(NodeStatus::Offline), NodeStatus::Online) => {
                    self.expected_down.remove(&node.name);
                    self.down_at_start.remove(&node.name);
                    out.changes.push(Change::NodeOnline { node: node.name.clone() });
                }
                _ => {}
            }
        }
        let names: BTreeSet<&str> = snap.nodes.iter().map(|n| n.name.as_str()).collect();
        self.nodes.retain(|n, _| names.contains(n.as_str()));
        self.expected_down.retain(|n| names.contains(n.as_str()));
        self.down_at_start.retain(|n| names.contains(n.as_str()));
        if snap.quorum.expected > 1 {
            let quorate = snap.quorum.quorate;
            match (self.quorate, quorate) {
                (Some(true), false) => out.changes.push(Change::QuorumLost),
                (Some(false), true) => out.changes.push(Change::QuorumRegained),
                _ => {}
            }
            self.quorate = Some(quorate);
        }
    }

    fn guests(&mut self, o: &Observed<'_>, now: DateTime<Utc>, out: &mut StateEvaluation) {
        let snap = o.snapshot;
        let online = |n: &str| snap.node(n).is_some_and(|node| node.status == NodeStatus::Online);
        for vm in snap.vms.iter().filter(|v| !v.template) {
            if !online(&vm.node) {
                // No news from an offline node: keep what we knew.
                continue;
            }
            let Some(prev) = self.guests.get(&vm.vmid).cloned() else {
                self.guests
                    .insert(vm.vmid, Seen { status: vm.status, node: vm.node.clone(), at: now });
                continue;
            };
            let r = GuestRef::of(vm);
            if vm.status == GuestStatus::Running {
                self.crashed.remove(&vm.vmid);
            }
            let moved = prev.node != vm.node;
            match (prev.status, vm.status) {
                (GuestStatus::Running, GuestStatus::Stopped) if moved => {
                    out.changes.push(Change::Migrated { vm: r, from: prev.node.clone() });
                }
                (GuestStatus::Running, GuestStatus::Stopped) => {
                    let Some(tasks) = o.tasks else {
                        // Undecidable without PVE's task list: look again next time.
                        continue;
                    };
                    let why = explained_by_task(tasks, vm.vmid, prev.at, now)
                        .or_else(|| explained_by_jarvis(o.actions, vm.vmid, prev.at, now));
                    match why {
                        Some(by) => out.changes.push(Change::Stopped { vm: r, by }),
                        None => {
                            self.crashed.insert(vm.vmid, r.clone());
                            out.changes.push(Change::Crashed { vm: r });
                        }
                    }
                }
                (GuestStatus::Stopped | GuestStatus::Paused, GuestStatus::Running) => {
                    out.changes.push(Change::Started { vm: r });
                }
                (_, _) if moved => {
                    out.changes.push(Change::Migrated { vm: r, from: prev.node.clone() })
                }
                _ => {}
            }
            self.guests.insert(vm.vmid, Seen { status: vm.status, node: vm.node.clone(), at: now });
        }
        let present: BTreeSet<u32> = snap.vms.iter().map(|v| v.vmid).collect();
        self.guests.retain(|id, _| present.contains(id));
        self.crashed.retain(|id, _| present.contains(id));
    }

    fn conditions(&self, snap: &ClusterSnapshot, out: &mut Vec<Condition>) {
        for r in self.crashed.values() {
            // The guest may have moved while stopped; act where it is now.
            let node = snap.vm(r.vmid).map_or(r.node.clone(), |v| v.node.clone());
            out.push(Condition {
                key: format!("crash:{}/{}", r.kind.as_str(), r.vmid),
                kind: IncidentKind::Crash,
                severity: Severity::Error,
                node: Some(node.clone()),
                vmid: Some(r.vmid),
                title: format!("{} crashed on {node}", r.label()),
                detail: format!(
                    "{} was running and stopped with no PVE task and no Jarvis action explaining it.",
                    r.label()
                ),
                subject: Subject::Guest { node, vmid: r.vmid, kind: r.kind },
                remediable: true,
                backup: None,
                flapping: false,
                settling: false,
            });
        }
        for (name, status) in &self.nodes {
            if *status != NodeStatus::Offline || self.expected_down.contains(name) {
                continue;
            }
            let at_start = self.down_at_start.contains(name);
            out.push(Condition {
                key: format!("node_offline:{name}"),
                kind: IncidentKind::NodeOffline,
                severity: Severity::Critical,
                node: Some(name.clone()),
                vmid: None,
                title: format!("Node {name} is offline"),
                detail: if at_start {
                    format!("{name} was already offline when monitoring started; it is not woken automatically.")
                } else {
                    format!("{name} stopped answering the cluster.")
                },
                subject: Subject::Node { node: name.clone() },
                remediable: !at_start,
                backup: None,
                flapping: false,
                settling: false,
            });
        }
        if self.quorate == Some(false) {
            out.push(Condition {
                key: "quorum:cluster".into(),
                kind: IncidentKind::Quorum,
                severity: Severity::Critical,
                node: None,
                vmid: None,
                title: "The cluster has lost quorum".into(),
                detail: format!(
                    "{} of {} nodes are online; without quorum PVE refuses configuration changes and HA stops.",
                    snap.quorum.nodes, snap.quorum.expected
                ),
                subject: Subject::None,
                remediable: false,
                backup: None,
                flapping: false,
                settling: false,
            });
        }
    }
}
