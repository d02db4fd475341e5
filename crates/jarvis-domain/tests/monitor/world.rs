//! A virtual cluster and a mini driver for the monitor machine: the cluster changes as a
//! scenario says, the schedule runs on a virtual clock, tool calls change the cluster the way
//! PVE would, and everything the machine does is written to a log (the golden output).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use jarvis_domain::cluster::{
    ClusterSnapshot, Freshness, GuestStatus, GuestType, Node, NodeStatus, Quorum, Storage, Vm,
};
use jarvis_domain::monitor::{
    ActionOutcome, ActionResult, AutonomyLevel, Effect, Incident, IncidentState, JarvisAction,
    Matcher, Monitor, MonitorAction, MonitorSettings, NoticeKind, Observed, Schedule, Settled,
    Silence, TaskInfo,
};
use serde_json::Value;

pub const GIB: u64 = 1 << 30;

/// A confirmation the machine asked for (level 2) and nobody decided yet.
#[derive(Debug, Clone)]
pub struct PendingConfirmation {
    pub id: String,
    pub action_id: String,
    pub tool: String,
    pub args: Value,
    pub expires: DateTime<Utc>,
}

/// Something the world does by itself later (a node finishing its boot, a backup ending).
#[derive(Debug, Clone)]
enum Later {
    NodeUp(String),
    BackupEnd { vmid: u32, upid: String, restart: bool, fail: bool },
}

/// Counters the invariants check.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// (incident id, notice kind) → count.
    pub notices: BTreeMap<(String, NoticeKind), u32>,
    /// Every action start: (key, time, confirm, action id).
    pub runs: Vec<(String, DateTime<Utc>, bool, String)>,
    /// Violations seen while running (kill switch on, level too low, two running at once).
    pub violations: Vec<String>,
}

pub struct World {
    pub t0: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub snap: ClusterSnapshot,
    pub tasks: Vec<TaskInfo>,
    pub audit: Vec<JarvisAction>,
    pub kill: bool,
    pub level: AutonomyLevel,
    pub fail_starts: BTreeMap<u32, u32>,
    pub wol_fails: Vec<String>,
    pub monitor: Monitor,
    pub schedule: Schedule,
    wake_at: Option<DateTime<Utc>>,
    later: Vec<(DateTime<Utc>, Later)>,
    /// Every incident ever stored, by id.
    pub incidents: BTreeMap<String, Incident>,
    /// The latest incident id per key.
    pub latest: BTreeMap<String, String>,
    pub actions: BTreeMap<String, MonitorAction>,
    pub silences: Vec<Silence>,
    pub confirmations: Vec<PendingConfirmation>,
    pub log: Vec<String>,
    pub tally: Tally,
    pub settings: MonitorSettings,
    /// Log events (feed lines) too.
    pub log_events: bool,
    seq: u32,
}

fn node(name: &str) -> Node {
    Node {
        name: name.into(),
        status: NodeStatus::Online,
        ip: None,
        cpu: 0.10,
        maxcpu: 8,
        mem: 8 * GIB,
        maxmem: 32 * GIB,
        disk: 20 * GIB,
        maxdisk: 100 * GIB,
        uptime: 86_400,
        temperatures: None,
    }
}

impl World {
    pub fn new(level: AutonomyLevel) -> World {
        let t0 = DateTime::parse_from_rfc3339("2026-01-05T08:00:00Z").unwrap().to_utc();
        let settings = MonitorSettings::default();
        let mut snap = ClusterSnapshot::empty();
        snap.freshness =
            Freshness { updated_at: Some(t0), stale: false, error: None, endpoint: None };
        snap.updated_at = Some(t0);
        World {
            t0,
            now: t0,
            snap,
            tasks: Vec::new(),
            audit: Vec::new(),
            kill: false,
            level,
            fail_starts: BTreeMap::new(),
            wol_fails: Vec::new(),
            monitor: Monitor::new(settings.clone(), level),
            schedule: Schedule::defaults(),
            wake_at: None,
            later: Vec::new(),
            incidents: BTreeMap::new(),
            latest: BTreeMap::new(),
            actions: BTreeMap::new(),
            silences: Vec::new(),
            confirmations: Vec::new(),
            log: Vec::new(),
            tally: Tally::default(),
            settings,
            log_events: true,
            seq: 0,
        }
    }

    // ---- building the cluster ----

    pub fn add_node(&mut self, name: &str) {
        self.snap.nodes.push(node(name));
        self.snap.normalise();
        self.fix_quorum();
        for storage in ["local", "local-lvm"] {
            self.snap.storage.push(Storage {
                storage: storage.into(),
                node: name.into(),
                kind: if storage == "local" { "dir".into() } else { "lvmthin".into() },
                status: "available".into(),
                total: 500 * GIB,
                used: 100 * GIB,
                avail: 400 * GIB,
                content: vec!["images".into(), "rootdir".into(), "backup".into()],
                shared: false,
            });
        }
    }

    pub fn add_guest(&mut self, vmid: u32, kind: GuestType, name: &str, node: &str, running: bool) {
        self.snap.vms.push(Vm {
            vmid,
            name: name.into(),
            kind,
            node: node.into(),
            status: if running { GuestStatus::Running } else { GuestStatus::Stopped },
            cpu: 0.05,
            maxcpu: 2,
            mem: GIB,
            maxmem: 4 * GIB,
            disk: if kind == GuestType::Lxc { 2 * GIB } else { 0 },
            maxdisk: 10 * GIB,
            uptime: if running { 3600 } else { 0 },
            template: false,
            tags: vec![],
            lock: None,
        });
        self.snap.normalise();
    }

    fn fix_quorum(&mut self) {
        let total = self.snap.nodes.len() as u32;
        let online =
            self.snap.nodes.iter().filter(|n| n.status == NodeStatus::Online).count() as u32;
        self.snap.quorum = Quorum {
            quorate: online * 2 > total,
            nodes: online,
            expected: total,
            cluster_name: Some("lab".into()),
        };
    }

    pub fn vm_mut(&mut self, vmid: u32) -> &mut Vm {
        self.snap
            .vms
            .iter_mut()
            .find(|v| v.vmid == vmid)
            .unwrap_or_else(|| panic!("no guest {vmid}"))
    }

    pub fn node_mut(&mut self, name: &str) -> &mut Node {
        self.snap
            .nodes
            .iter_mut()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("no node {name}"))
    }

    fn upid(&mut self, node: &str, kind: &str, id: &str) -> String {
        self.seq += 1;
        format!(
            "UPID:{node}:{:08X}:00000000:{:08X}:{kind}:{id}:root@pam:",
            self.seq,
            self.now.timestamp()
        )
    }

    /// A task that ran from now for `secs` and ended with `status`.
    pub fn task(&mut self, node: &str, kind: &str, vmid: u32, user: &str, secs: i64, status: &str) {
        let upid = self.upid(node, kind, &vmid.to_string());
        self.tasks.push(TaskInfo {
            upid,
            node: node.into(),
            kind: kind.into(),
            id: vmid.to_string(),
            user: user.into(),
            start: self.now,
            end: Some(self.now + Duration::seconds(secs)),
            status: Some(status.into()),
        });
    }

    // ---- cluster events ----

    pub fn crash(&mut self, vmid: u32) {
        let vm = self.vm_mut(vmid);
        vm.status = GuestStatus::Stopped;
        vm.uptime = 0;
    }

    pub fn operator_stop(&mut self, vmid: u32, kind: &str) {
        let node = self.vm_mut(vmid).node.clone();
        self.task(&node, kind, vmid, "root@pam", 4, "OK");
        self.crash(vmid);
    }

    pub fn jarvis_stop(&mut self, vmid: u32) {
        let node = self.vm_mut(vmid).node.clone();
        self.audit.push(JarvisAction {
            at: self.now,
            tool: "stop_vm".into(),
            node: Some(node.clone()),
            vmid: Some(vmid),
            actor: "operator".into(),
        });
        self.task(&node, "qmstop", vmid, "jarvis@pve!jarvis", 2, "OK");
        self.crash(vmid);
    }

    pub fn operator_start(&mut self, vmid: u32) {
        let (node, kind) = {
            let vm = self.vm_mut(vmid);
            vm.status = GuestStatus::Running;
            (vm.node.clone(), vm.kind)
        };
        let task = if kind == GuestType::Lxc { "vzstart" } else { "qmstart" };
        self.task(&node, task, vmid, "root@pam", 2, "OK");
    }

    pub fn migrate(&mut self, vmid: u32, to: &str) {
        let from = self.vm_mut(vmid).node.clone();
        self.task(&from, "qmigrate", vmid, "root@pam", 30, "OK");
        self.vm_mut(vmid).node = to.into();
    }

    pub fn node_off(&mut self, name: &str) {
        let n = self.node_mut(name);
        n.status = NodeStatus::Offline;
        n.cpu = 0.0;
        n.uptime = 0;
        for vm in self.snap.vms.iter_mut().filter(|v| v.node == name) {
            vm.status = GuestStatus::Stopped;
        }
        self.fix_quorum();
    }

    pub fn node_on(&mut self, name: &str) {
        self.node_mut(name).status = NodeStatus::Online;
        self.node_mut(name).uptime = 10;
        self.fix_quorum();
    }

    pub fn backup(&mut self, vmid: u32, mode: &str, minutes: i64, fail: bool) {
        let node = self.vm_mut(vmid).node.clone();
        let upid = self.upid(&node, "vzdump", &vmid.to_string());
        self.tasks.push(TaskInfo {
            upid: upid.clone(),
            node: node.clone(),
            kind: "vzdump".into(),
            id: vmid.to_string(),
            user: "root@pam".into(),
            start: self.now,
            end: None,
            status: None,
        });
        let restart = mode == "stop" && self.vm_mut(vmid).status == GuestStatus::Running;
        if restart {
            self.vm_mut(vmid).status = GuestStatus::Stopped;
        }
        // A backup keeps the node busy.
        self.node_mut(&node).cpu = 0.97;
        self.later.push((
            self.now + Duration::minutes(minutes),
            Later::BackupEnd { vmid, upid, restart, fail },
        ));
    }

    pub fn set_pve_reachable(&mut self, up: bool) {
        if up {
            self.snap.freshness =
                Freshness { updated_at: Some(self.now), stale: false, error: None, endpoint: None };
            self.snap.updated_at = Some(self.now);
        } else {
            self.snap.freshness.stale = true;
            self.snap.freshness.error = Some("connection refused (every endpoint)".into());
        }
    }

    pub fn silence(&mut self, matcher: Matcher, reason: &str, minutes: i64) {
        self.seq += 1;
        self.silences.push(Silence {
            id: format!("sil-{}", self.seq),
            matcher,
            reason: reason.into(),
            created_by: "operator".into(),
            created_at: self.now,
            expires_at: self.now + Duration::minutes(minutes),
        });
        let fx = self.monitor.set_silences(self.silences.clone(), self.now);
        self.apply(fx);
    }

    // ---- operator commands ----

    pub fn incident_id(&self, key: &str) -> String {
        self.latest.get(key).cloned().unwrap_or_else(|| panic!("no incident {key}"))
    }

    /// The latest incident of `key`.
    pub fn latest(&self, key: &str) -> Option<&Incident> {
        self.incidents.get(self.latest.get(key)?)
    }

    pub fn ack(&mut self, key: &str) {
        let id = self.incident_id(key);
        let fx = self.monitor.acknowledge(&id, "operator", self.now).expect("ack");
        self.apply(fx);
    }

    pub fn resolve(&mut self, key: &str) {
        let id = self.incident_id(key);
        let fx = self.monitor.resolve_by(&id, "operator", self.now).expect("resolve");
        self.apply(fx);
    }

    pub fn set_level(&mut self, level: AutonomyLevel) {
        self.level = level;
        let fx = self.monitor.set_level(level, self.now);
        self.apply(fx);
    }

    pub fn decide(&mut self, key: &str, approve: bool) {
        let id = self.incident_id(key);
        let Some(pos) = self
            .confirmations
            .iter()
            .position(|c| self.actions.get(&c.action_id).is_some_and(|a| a.incident_id == id))
        else {
            panic!("no pending confirmation for {key}");
        };
        let c = self.confirmations.remove(pos);
        self.log(format!("operator {} {}", if approve { "approves" } else { "denies" }, c.tool));
        let settled = if approve {
            match self.execute(&c.tool, &c.args) {
                Ok(()) => Settled::Executed,
                Err(e) => Settled::Failed(e),
            }
        } else {
            Settled::Denied
        };
        let fx = self.monitor.confirmation_settled(&c.id, settled, self.now);
        self.apply(fx);
    }

    /// Jarvis restarts: a new machine from what the store holds.
    pub fn restart(&mut self) {
        self.log("jarvis restarts".into());
        let window = self.settings.reopen_window;
        let incidents: Vec<Incident> = self
            .incidents
            .values()
            .filter(|i| {
                i.is_live()
                    || i.resolved_at.is_some_and(|t| self.now - t < window)
                    || i.tracking.accepted
            })
            .cloned()
            .collect();
        let actions: Vec<MonitorAction> = self
            .actions
            .values()
            .filter(|a| a.in_progress() || self.now - a.timestamp < Duration::hours(1))
            .cloned()
            .collect();
        let (m, fx) = Monitor::restore(
            self.settings.clone(),
            self.level,
            incidents,
            actions,
            self.silences.clone(),
            self.now,
        );
        self.monitor = m;
        self.schedule = Schedule::defaults();
        self.wake_at = None;
        self.apply(fx);
    }

    // ---- the driver ----

    pub fn log(&mut self, line: String) {
        let secs = (self.now - self.t0).num_seconds();
        self.log.push(format!(
            "{:02}:{:02}:{:02} {line}",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        ));
    }

    fn execute(&mut self, tool: &str, args: &Value) -> Result<(), String> {
        let vmid = args.get("vmid").and_then(Value::as_u64).map(|v| v as u32);
        let node = args.get("node").and_then(Value::as_str).unwrap_or_default().to_owned();
        match (tool, vmid) {
            ("start_vm" | "start_container", Some(vmid)) => {
                let left = self.fail_starts.get(&vmid).copied().unwrap_or(0);
                let kind = if tool == "start_vm" { "qmstart" } else { "vzstart" };
                if left > 0 {
                    self.fail_starts.insert(vmid, left - 1);
                    self.task(
                        &node,
                        kind,
                        vmid,
                        "jarvis@pve!jarvis",
                        1,
                        "start failed: QEMU exited with code 1",
                    );
                    return Err("task failed: start failed: QEMU exited with code 1".into());
                }
                self.vm_mut(vmid).status = GuestStatus::Running;
                self.task(&node, kind, vmid, "jarvis@pve!jarvis", 1, "OK");
                Ok(())
            }
            ("wake_node", None) => {
                if !self.wol_fails.contains(&node) {
                    self.later.push((self.now + Duration::seconds(90), Later::NodeUp(node)));
                }
                Ok(())
            }
            other => Err(format!("the world cannot run {other:?}")),
        }
    }

    fn run_action(&mut self, action_id: String, tool: String, args: Value, confirm: bool) {
        let key = self.actions.get(&action_id).map(|a| a.incident_key.clone()).unwrap_or_default();
        self.tally.runs.push((key.clone(), self.now, confirm, action_id.clone()));
        if self.kill {
            self.tally
                .violations
                .push(format!("{} {tool} submitted while the kill switch is on", self.now));
        }
        if self.level < AutonomyLevel::Recommend
            || (self.level == AutonomyLevel::Recommend && !confirm)
        {
            self.tally.violations.push(format!(
                "{} {tool} ran at level {:?} confirm={confirm}",
                self.now, self.level
            ));
        }
        let running = self
            .actions
            .values()
            .filter(|a| a.result == ActionResult::Pending && a.id != action_id)
            .count();
        if running > 0 && !confirm {
            self.tally
                .violations
                .push(format!("{} {tool} while another remediation runs", self.now));
        }
        self.log(format!("run {tool} {args}{}", if confirm { " (as a confirmation)" } else { "" }));
        let outcome = if confirm {
            self.seq += 1;
            let id = format!("conf-{}", self.seq);
            self.confirmations.push(PendingConfirmation {
                id: id.clone(),
                action_id: action_id.clone(),
                tool: tool.clone(),
                args: args.clone(),
                expires: self.now + Duration::minutes(5),
            });
            ActionOutcome::ConfirmationCreated { confirmation_id: id }
        } else {
            match self.execute(&tool, &args) {
                Ok(()) => ActionOutcome::Executed { audit_id: Some(i64::from(self.seq)) },
                Err(error) => ActionOutcome::Failed { audit_id: Some(i64::from(self.seq)), error },
            }
        };
        let fx = self.monitor.action_done(&action_id, outcome, self.now);
        self.apply(fx);
    }

    pub fn apply(&mut self, fx: Vec<Effect>) {
        for e in fx {
            match e {
                Effect::SaveIncident(inc) => {
                    let known = self.incidents.get(&inc.id).map(|o| o.timeline.len());
                    if known.is_none() {
                        self.log(format!(
                            "incident {} {} [{}] \"{}\"",
                            inc.id, inc.key, inc.severity, inc.title
                        ));
                    }
                    for entry in inc.timeline.iter().skip(known.unwrap_or(0)) {
                        let line = format!("  {} {}: {}", inc.key, entry.kind, entry.detail);
                        self.log(line);
                    }
                    self.latest.insert(inc.key.clone(), inc.id.clone());
                    self.incidents.insert(inc.id.clone(), inc);
                }
                Effect::SaveAction(a) => {
                    self.actions.insert(a.id.clone(), a);
                }
                Effect::RunAction(req) => {
                    self.run_action(req.action_id, req.tool, req.args, req.confirm)
                }
                Effect::WithdrawConfirmation { confirmation_id, reason } => {
                    self.confirmations.retain(|c| c.id != confirmation_id);
                    self.log(format!("withdraw {confirmation_id}: {reason}"));
                }
                Effect::Notify(n) => {
                    let key = self
                        .incidents
                        .get(&n.incident_id)
                        .map(|i| i.key.clone())
                        .unwrap_or_default();
                    *self.tally.notices.entry((n.incident_id.clone(), n.kind)).or_default() += 1;
                    self.log(format!("notify {} {key} [{}] \"{}\"", n.kind, n.severity, n.title));
                }
                Effect::Event(e) => {
                    if self.log_events {
                        self.log(format!("event {}/{} \"{}\"", e.kind, e.severity, e.title));
                    }
                }
                Effect::WakeAt(t) => self.wake_at = Some(self.wake_at.map_or(t, |w| w.min(t))),
            }
        }
    }

    fn world_events(&mut self) {
        let due: Vec<Later> = {
            let now = self.now;
            let (due, rest): (Vec<_>, Vec<_>) = self.later.drain(..).partition(|(t, _)| *t <= now);
            self.later = rest;
            due.into_iter().map(|(_, l)| l).collect()
        };
        for l in due {
            match l {
                Later::NodeUp(n) => {
                    self.log(format!("world: node {n} booted"));
                    self.node_on(&n);
                }
                Later::BackupEnd { vmid, upid, restart, fail } => {
                    let node = self.vm_mut(vmid).node.clone();
                    if let Some(t) = self.tasks.iter_mut().find(|t| t.upid == upid) {
                        t.end = Some(self.now);
                        t.status = Some(if fail {
                            "ERROR: job failed with err -5".into()
                        } else {
                            "OK".into()
                        });
                    }
                    if restart {
                        self.vm_mut(vmid).status = GuestStatus::Running;
                    }
                    self.node_mut(&node).cpu = 0.10;
                    self.log(format!("world: backup of {vmid} ended"));
                }
            }
        }
        let now = self.now;
        let expired: Vec<PendingConfirmation> =
            self.confirmations.iter().filter(|c| c.expires <= now).cloned().collect();
        self.confirmations.retain(|c| c.expires > now);
        for c in expired {
            self.log(format!("confirmation {} expired", c.id));
            let fx = self.monitor.confirmation_settled(&c.id, Settled::Expired, self.now);
            self.apply(fx);
        }
    }

    fn observed(&self) -> (ClusterSnapshot, Vec<TaskInfo>, Vec<JarvisAction>) {
        // PVE keeps recent tasks; the list the monitor reads is the last hour of them.
        let since = self.now - Duration::hours(1);
        let tasks =
            self.tasks.iter().filter(|t| t.end.is_none_or(|e| e >= since)).cloned().collect();
        let audit = self.audit.iter().filter(|a| a.at >= since).cloned().collect();
        let mut snap = self.snap.clone();
        if !snap.freshness.stale {
            snap.updated_at = Some(self.now);
            snap.freshness.updated_at = Some(self.now);
        }
        (snap, tasks, audit)
    }

    fn step_at(&mut self, t: DateTime<Utc>) {
        self.now = t;
        self.world_events();
        let (snap, tasks, audit) = self.observed();
        let due = self.schedule.due(self.now);
        for tier in due {
            self.schedule.ran(tier, self.now);
            let o = Observed {
                snapshot: &snap,
                tasks: tier.reads_tasks().then_some(tasks.as_slice()),
                actions: &audit,
                kill_switch: self.kill,
            };
            let fx = self.monitor.evaluate(tier, &o, self.now);
            self.apply(fx);
        }
        if self.wake_at.is_some_and(|w| w <= self.now) {
            self.wake_at = None;
            let (snap, _, audit) = self.observed();
            let o =
                Observed { snapshot: &snap, tasks: None, actions: &audit, kill_switch: self.kill };
            let fx = self.monitor.wake(&o, self.now);
            self.apply(fx);
        }
    }

    /// Runs the schedule until `until`, stepping from one due time to the next.
    pub fn run_until(&mut self, until: DateTime<Utc>) {
        let mut last: Option<DateTime<Utc>> = None;
        loop {
            let mut next = until;
            let candidates = self
                .schedule
                .next_due()
                .into_iter()
                .chain(self.wake_at)
                .chain(self.later.iter().map(|(t, _)| *t))
                .chain(self.confirmations.iter().map(|c| c.expires));
            for t in candidates {
                next = next.min(t.max(self.now));
            }
            // Everything due at the last step has run; a wake-up asked for the same instant again
            // moves on by a second rather than spinning.
            if last.is_some_and(|l| next <= l) {
                next = last.unwrap_or(next) + Duration::seconds(1);
            }
            if next > until {
                break;
            }
            self.step_at(next);
            last = Some(next);
            if next >= until {
                break;
            }
        }
        self.now = until;
    }

    /// Final summary lines: every incident with its state and notification counts.
    pub fn summary(&self) -> Vec<String> {
        let mut out = vec!["--- summary".to_string()];
        let mut all: Vec<&Incident> = self.incidents.values().collect();
        all.sort_by_key(|i| (i.opened_at, i.key.clone()));
        for inc in all {
            let count =
                |k: NoticeKind| self.tally.notices.get(&(inc.id.clone(), k)).copied().unwrap_or(0);
            out.push(format!(
                "{} {} occurrences={} notified: opened={} reopened={} resolved={} escalated={} reminder={}",
                inc.key,
                inc.state,
                inc.occurrences,
                count(NoticeKind::Opened),
                count(NoticeKind::Reopened),
                count(NoticeKind::Resolved),
                count(NoticeKind::Escalated),
                count(NoticeKind::Reminder)
            ));
        }
        for a in self.actions.values() {
            out.push(format!("action {} {} attempt={} {}", a.id, a.action, a.attempt, a.result));
        }
        out
    }

    pub fn state_of(&self, key: &str) -> Option<IncidentState> {
        self.latest(key).map(|i| i.state)
    }
}
