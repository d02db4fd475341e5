//! Metric, storage and backup conditions (MON-03), read from the one cluster snapshot and the
//! task list, with backup awareness: while `vzdump` runs for a guest (or on a node), what it
//! causes — a guest stopped for a stop-mode backup, a busy node, a full disk — is recorded but
//! held back, and says so.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::model::IncidentKind;
use super::observe::{Condition, Subject, TaskInfo};
use super::threshold::{Firing, Metric, ThresholdSettings, ThresholdTracker};
use crate::cluster::{ClusterSnapshot, GuestStatus, GuestType, NodeStatus};
use crate::events::Severity;

/// Backups running now, by guest and by node (the UPID that says so).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Backups {
    /// Guest id → why it counts as being backed up.
    pub guests: BTreeMap<u32, String>,
    /// Node → the running vzdump task's UPID.
    pub nodes: BTreeMap<String, String>,
}

impl Backups {
    /// Running `vzdump` tasks from the task list, plus guests PVE has locked for a backup (a
    /// multi-guest job's task names no guest; the lock does).
    pub fn from_state(tasks: &[TaskInfo], snap: &ClusterSnapshot) -> Backups {
        let mut b = Backups::default();
        for t in tasks.iter().filter(|t| t.kind == "vzdump" && t.running()) {
            b.nodes.insert(t.node.clone(), t.upid.clone());
            if let Some(vmid) = t.vmid() {
                b.guests.insert(vmid, format!("backup running ({})", t.upid));
            }
        }
        for vm in snap.vms.iter().filter(|v| v.lock.as_deref() == Some("backup")) {
            b.guests.entry(vm.vmid).or_insert_with(|| "backup running (guest locked)".into());
        }
        b
    }

    /// Why a condition on `node` / guest `vmid` is caused by a backup, if it is.
    pub fn explains(&self, node: Option<&str>, vmid: Option<u32>) -> Option<String> {
        if let Some(why) = vmid.and_then(|v| self.guests.get(&v)) {
            return Some(why.clone());
        }
        node.and_then(|n| self.nodes.get(n))
            .map(|upid| format!("backup running on the node ({upid})"))
    }
}

fn pct(used: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| used as f64 * 100.0 / total as f64)
}

struct Reading<'a> {
    key: String,
    metric: Metric,
    value: f64,
    node: Option<&'a str>,
    vmid: Option<u32>,
    what: String,
}

fn condition(r: &Reading<'_>, f: Firing, backups: &Backups) -> Condition {
    let level = if f.severity == Severity::Critical { "critical" } else { "high" };
    let mark = match (f.severity, f.rule.critical) {
        (Severity::Critical, Some(c)) => c,
        _ => f.rule.warn,
    };
    let mut detail = format!(
        "{} {} at {} (threshold {}; clears below {}).",
        r.metric.label(),
        r.what,
        r.metric.format(r.value),
        r.metric.format(mark),
        r.metric.format(f.rule.clear)
    );
    if f.settling_since.is_some() {
        detail.push_str(" Below the clear mark now; resolving once it stays there.");
    }
    Condition {
        key: r.key.clone(),
        kind: IncidentKind::Threshold,
        severity: f.severity,
        node: r.node.map(str::to_owned),
        vmid: r.vmid,
        title: format!("{} {level} {}", r.metric.label(), r.what),
        detail,
        subject: Subject::None,
        remediable: false,
        backup: backups.explains(r.node, r.vmid),
        flapping: f.flapping,
        settling: f.settling_since.is_some(),
    }
}

fn run(
    readings: Vec<Reading<'_>>,
    settings: &ThresholdSettings,
    tracker: &mut ThresholdTracker,
    backups: &Backups,
    now: DateTime<Utc>,
) -> Vec<Condition> {
    readings
        .into_iter()
        .filter_map(|r| {
            let rule = settings.rule(r.metric, r.node, r.vmid);
            tracker.observe(&r.key, r.value, &rule, now).map(|f| condition(&r, f, backups))
        })
        .collect()
}

/// Node CPU, RAM, root disk and temperature, and guest disk.
pub fn metric_conditions(
    snap: &ClusterSnapshot,
    settings: &ThresholdSettings,
    tracker: &mut ThresholdTracker,
    backups: &Backups,
    now: DateTime<Utc>,
) -> Vec<Condition> {
    let mut readings = Vec::new();
    for n in snap.nodes.iter().filter(|n| n.status == NodeStatus::Online) {
        let on = format!("on {}", n.name);
        let node = Some(n.name.as_str());
        let mut push = |metric: Metric, value: Option<f64>| {
            if let Some(value) = value {
                let key = format!("threshold:{metric}:node/{}", n.name);
                readings.push(Reading { key, metric, value, node, vmid: None, what: on.clone() });
            }
        };
        push(Metric::Cpu, (n.maxcpu > 0).then_some(n.cpu * 100.0));
        push(Metric::Memory, pct(n.mem, n.maxmem));
        push(Metric::Disk, pct(n.disk, n.maxdisk));
        let hottest = n.temperatures.as_ref().and_then(|t| t.values().copied().reduce(f64::max));
        push(Metric::Temperature, hottest);
    }
    for vm in snap.vms.iter().filter(|v| v.status == GuestStatus::Running && v.disk > 0) {
        let online = snap.node(&vm.node).is_some_and(|n| n.status == NodeStatus::Online);
        if let (true, Some(value)) = (online, pct(vm.disk, vm.maxdisk)) {
            let kind = if vm.kind == GuestType::Lxc { "CT" } else { "VM" };
            readings.push(Reading {
                key: format!("threshold:guest_disk:guest/{}", vm.vmid),
                metric: Metric::GuestDisk,
                value,
                node: Some(vm.node.as_str()),
                vmid: Some(vm.vmid),
                what: format!("of {kind} {} ({}) on {}", vm.name, vm.vmid, vm.node),
            });
        }
    }
    run(readings, settings, tracker, backups, now)
}

/// Storage use (shared storage once, local storage per node) and storage that is not available.
pub fn storage_conditions(
    snap: &ClusterSnapshot,
    settings: &ThresholdSettings,
    tracker: &mut ThresholdTracker,
    now: DateTime<Utc>,
) -> Vec<Condition> {
    let online = |n: &str| snap.node(n).is_some_and(|node| node.status == NodeStatus::Online);
    let mut readings = Vec::new();
    let mut out = Vec::new();
    let mut shared_seen = std::collections::BTreeSet::new();
    for s in snap.storage.iter().filter(|s| online(&s.node)) {
        if s.status != "available" {
            out.push(Condition {
                key: format!("storage:{}/{}", s.node, s.storage),
                kind: IncidentKind::Storage,
                severity: Severity::Warning,
                node: Some(s.node.clone()),
                vmid: None,
                title: format!("Storage {} is not available on {}", s.storage, s.node),
                detail: format!("PVE reports {} as `{}` on {}.", s.storage, s.status, s.node),
                subject: Subject::None,
                remediable: false,
                backup: None,
                flapping: false,
                settling: false,
            });
            continue;
        }
        if s.shared && !shared_seen.insert(s.storage.clone()) {
            continue;
        }
        if let Some(value) = pct(s.used, s.total) {
            let (key, what) = if s.shared {
                (
                    format!("threshold:storage:shared/{}", s.storage),
                    format!("of {} (shared)", s.storage),
                )
            } else {
                (
                    format!("threshold:storage:{}/{}", s.node, s.storage),
                    format!("of {} on {}", s.storage, s.node),
                )
            };
            let node = (!s.shared).then_some(s.node.as_str());
            readings.push(Reading { key, metric: Metric::Storage, value, node, vmid: None, what });
        }
    }
    out.extend(run(readings, settings, tracker, &Backups::default(), now));
    out
}

/// The newest finished backup per guest (or per node for jobs that name no guest).
#[derive(Debug, Clone, Default)]
pub struct BackupTracker {
    last: BTreeMap<String, LastBackup>,
}

#[derive(Debug, Clone)]
struct LastBackup {
    end: DateTime<Utc>,
    ok: bool,
    status: String,
    node: String,
    vmid: Option<u32>,
}

impl BackupTracker {
    /// Conditions for backups whose newest run failed.
    pub fn evaluate(&mut self, tasks: &[TaskInfo]) -> Vec<Condition> {
        for t in tasks.iter().filter(|t| t.kind == "vzdump") {
            let (Some(end), Some(ok)) = (t.end, t.succeeded()) else { continue };
            let key = match t.vmid() {
                Some(vmid) => format!("backup:guest/{vmid}"),
                None => format!("backup:node/{}", t.node),
            };
            if self.last.get(&key).is_some_and(|l| l.end >= end) {
                continue;
            }
            let status = t.status.clone().unwrap_or_default();
            self.last
                .insert(key, LastBackup { end, ok, status, node: t.node.clone(), vmid: t.vmid() });
        }
        self.last
            .iter()
            .filter(|(_, l)| !l.ok)
            .map(|(key, l)| {
                let what = match l.vmid {
                    Some(v) => format!("guest {v}"),
                    None => format!("the backup job on {}", l.node),
                };
                Condition {
                    key: key.clone(),
                    kind: IncidentKind::Backup,
                    severity: Severity::Error,
                    node: Some(l.node.clone()),
                    vmid: l.vmid,
                    title: format!("Backup of {what} failed"),
                    detail: format!("The last vzdump run ended with: {}", l.status),
                    subject: Subject::None,
                    remediable: false,
                    backup: None,
                    flapping: false,
                    settling: false,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(kind: &str, node: &str, id: &str, running: bool) -> TaskInfo {
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        TaskInfo {
            upid: format!("UPID:{node}:1:2:3:{kind}:{id}:root@pam:"),
            node: node.into(),
            kind: kind.into(),
            id: id.into(),
            user: "root@pam".into(),
            start: t,
            end: (!running).then_some(t),
            status: (!running).then(|| "OK".to_string()),
        }
    }

    #[test]
    fn backups_come_from_running_vzdump_tasks_and_guest_locks() {
        let mut snap = ClusterSnapshot::empty();
        snap.vms = vec![crate::cluster::Vm {
            vmid: 105,
            name: "db".into(),
            kind: GuestType::Lxc,
            node: "pve2".into(),
            status: GuestStatus::Running,
            cpu: 0.0,
            maxcpu: 1,
            mem: 0,
            maxmem: 1,
            disk: 0,
            maxdisk: 1,
            uptime: 0,
            template: false,
            tags: vec![],
            lock: Some("backup".into()),
        }];
        let tasks = [
            task("vzdump", "pve1", "101", true),
            // A job over several guests names none; the lock tells which one it is on.
            task("vzdump", "pve2", "", true),
            task("vzdump", "pve3", "103", false),
            task("qmstart", "pve3", "104", true),
        ];
        let b = Backups::from_state(&tasks, &snap);
        assert!(b.explains(None, Some(101)).unwrap().contains("vzdump:101"));
        assert!(b.explains(None, Some(105)).unwrap().contains("locked"));
        assert!(b.explains(Some("pve2"), None).unwrap().contains("on the node"));
        assert_eq!(b.explains(Some("pve3"), Some(103)), None, "a finished backup explains nothing");
        assert_eq!(b.explains(Some("pve3"), Some(104)), None);
    }

    #[test]
    fn the_newest_backup_run_decides() {
        let mut tr = BackupTracker::default();
        let mut failed = task("vzdump", "pve1", "101", false);
        failed.status = Some("ERROR: job failed with err -5".into());
        let conds = tr.evaluate(std::slice::from_ref(&failed));
        assert_eq!(conds.len(), 1);
        assert_eq!(conds[0].key, "backup:guest/101");
        // An older success does not clear it; a newer one does.
        let mut older = task("vzdump", "pve1", "101", false);
        older.end = Some(failed.end.unwrap() - chrono::Duration::hours(1));
        assert_eq!(tr.evaluate(&[older]).len(), 1);
        let mut newer = task("vzdump", "pve1", "101", false);
        newer.end = Some(failed.end.unwrap() + chrono::Duration::hours(1));
        assert!(tr.evaluate(&[newer]).is_empty());
    }
}
