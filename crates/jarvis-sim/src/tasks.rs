//! PVE tasks ("workers"): UPIDs, the task list, and what happens when a task finishes.
//!
//! A power action answers at once with a UPID; its effect lands when the task completes
//! (`task_duration` later), exactly when its status turns `stopped`. Whether it succeeds is
//! decided at that moment from the guest's state then, the way PVE's worker re-checks inside
//! the fork (so starting an already-running VM fails the task, not the request).
//! Completion is lazy: `Cluster::settle` runs before every request and every tick.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jarvis_domain::GuestType;

use crate::model::{Cluster, PowerOp, RunState};

/// Cap on remembered tasks; the oldest finished ones are forgotten first.
const MAX_TASKS: usize = 4000;

/// What a finished task does to a guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Start,
    Stop,
    Shutdown,
    Reboot,
    Reset,
    Pause,
    Resume,
    HaStart,
    HaStop,
    /// The end of a `vzdump` run over the guest (see `backup.rs`).
    Backup,
}

/// One task.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub upid: String,
    pub node: usize,
    pub pid: u32,
    pub pstart: u64,
    pub starttime: i64,
    /// Task type (`qmstart`, `vzdump`, …).
    pub kind: String,
    /// Task id, usually the vmid (may be empty).
    pub id: String,
    /// Owner as written in the UPID (`root@pam` or `root@pam!token`).
    pub user: String,
    /// Set while running: when the task finishes.
    pub ends_at: Option<Instant>,
    /// Whole seconds the task runs (for `endtime`).
    pub run_secs: i64,
    /// The clock offset when the task started: if the test clock moves on while it runs, the
    /// reported `endtime` moves with it, so it is never before the start on the shifted clock.
    pub start_offset: i64,
    pub effect: Option<(Action, u32)>,
    pub endtime: Option<i64>,
    pub exitstatus: Option<String>,
    pub log: Vec<String>,
}

impl Task {
    /// Whether the task is still running.
    pub fn running(&self) -> bool {
        self.ends_at.is_some()
    }

    /// Owner split like PVE's task API does for tokens: (`root@pam`, Some(`jarvis`)).
    pub fn owner(&self) -> (&str, Option<&str>) {
        match self.user.split_once('!') {
            Some((user, token)) => (user, Some(token)),
            None => (&self.user, None),
        }
    }
}

/// All tasks the cluster remembers, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Tasks {
    pub list: Vec<Task>,
    pub by_upid: HashMap<String, usize>,
    /// Indices of running tasks.
    pub running: Vec<usize>,
}

impl Tasks {
    /// The task with this UPID.
    #[cfg(test)]
    pub fn get(&self, upid: &str) -> Option<&Task> {
        self.by_upid.get(upid).map(|&i| &self.list[i])
    }

    fn push(&mut self, task: Task) {
        if self.list.len() >= MAX_TASKS {
            self.trim();
        }
        let idx = self.list.len();
        if task.running() {
            self.running.push(idx);
        }
        self.by_upid.insert(task.upid.clone(), idx);
        self.list.push(task);
    }

    fn trim(&mut self) {
        let mut drop = MAX_TASKS / 4;
        self.list.retain(|t| {
            if drop > 0 && !t.running() {
                drop -= 1;
                false
            } else {
                true
            }
        });
        self.by_upid = self.list.iter().enumerate().map(|(i, t)| (t.upid.clone(), i)).collect();
        self.running =
            self.list.iter().enumerate().filter(|(_, t)| t.running()).map(|(i, _)| i).collect();
    }
}

/// The exit status of a start that is set to fail (`SimControl::fail_starts`), in PVE's words:
/// QEMU dying at start for a VM, the failed startup unit for a container.
fn start_failure(ct: bool, vmid: u32) -> String {
    if ct {
        format!("startup for container '{vmid}' failed")
    } else {
        "start failed: QEMU exited with code 1".into()
    }
}

/// Formats a UPID the way PVE does: hex pid, pstart and start time, 8 digits each.
pub(crate) fn format_upid(
    node: &str,
    pid: u32,
    pstart: u64,
    starttime: i64,
    kind: &str,
    id: &str,
    user: &str,
) -> String {
    format!("UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:{kind}:{id}:{user}:")
}

/// Whether `s` parses as a UPID (PVE's `upid_decode` pattern).
pub(crate) fn is_upid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("UPID:") else { return false };
    let parts: Vec<&str> = rest.split(':').collect();
    let hex = |p: &str, lens: &[usize]| {
        lens.contains(&p.len()) && p.chars().all(|c| c.is_ascii_hexdigit())
    };
    let word = |p: &str| !p.is_empty() && !p.contains(char::is_whitespace);
    parts.len() == 8
        && word(parts[0])
        && parts[0].chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && hex(parts[1], &[8])
        && hex(parts[2], &[8, 9])
        && hex(parts[3], &[8])
        && word(parts[4])
        && !parts[5].contains(char::is_whitespace)
        && word(parts[6])
        && parts[7].is_empty()
}

impl Cluster {
    /// Starts a task on `node` that runs `task_duration` and returns its UPID. `effect` lands
    /// when it finishes.
    pub fn spawn_task(
        &mut self,
        node: usize,
        kind: &str,
        id: &str,
        effect: Option<(Action, u32)>,
        first_lines: Vec<String>,
        now: Instant,
    ) -> String {
        let duration = self.task_duration;
        self.spawn_task_for(node, kind, id, effect, first_lines, now, duration)
    }

    /// [`Cluster::spawn_task`] for a task that runs `duration`.
    #[allow(clippy::too_many_arguments)]
    pub fn spawn_task_for(
        &mut self,
        node: usize,
        kind: &str,
        id: &str,
        effect: Option<(Action, u32)>,
        first_lines: Vec<String>,
        now: Instant,
        duration: Duration,
    ) -> String {
        let user = self.token_id.clone();
        let starttime = self.unix_now();
        let mut pid = self.next_pid(node);
        let pstart = self.nodes[node].uptime_ms / 10;
        let name = self.nodes[node].name.clone();
        let mut upid = format_upid(&name, pid, pstart, starttime, kind, id, &user);
        while self.tasks.by_upid.contains_key(&upid) {
            pid = self.next_pid(node);
            upid = format_upid(&name, pid, pstart, starttime, kind, id, &user);
        }
        self.tasks.push(Task {
            upid: upid.clone(),
            node,
            pid,
            pstart,
            starttime,
            kind: kind.to_string(),
            id: id.to_string(),
            user,
            ends_at: Some(now + duration),
            run_secs: duration.as_secs_f64().ceil() as i64,
            start_offset: self.clock_offset,
            effect,
            endtime: None,
            exitstatus: None,
            log: first_lines,
        });
        upid
    }

    /// Applies everything that is due: finished tasks, node boots and power-offs.
    pub fn settle(&mut self, now: Instant) {
        for i in 0..self.nodes.len() {
            if let Some((at, op)) = self.nodes[i].power_op
                && at <= now
            {
                self.power_off(i, now);
                if op == PowerOp::Reboot {
                    self.nodes[i].boot_at = Some(now + self.boot_delay);
                }
            }
            if self.nodes[i].boot_at.is_some_and(|at| at <= now) {
                self.finish_boot(i);
            }
        }
        if self.tasks.running.is_empty() {
            return;
        }
        let mut due: Vec<usize> = self
            .tasks
            .running
            .iter()
            .copied()
            .filter(|&i| self.tasks.list[i].ends_at.is_some_and(|t| t <= now))
            .collect();
        if due.is_empty() {
            return;
        }
        due.sort_by_key(|&i| (self.tasks.list[i].ends_at, i));
        for &i in &due {
            self.finish_task(i);
        }
        let list = &self.tasks.list;
        self.tasks.running.retain(|&i| list[i].running());
    }

    fn finish_task(&mut self, i: usize) {
        let effect = self.tasks.list[i].effect.take();
        let node = self.tasks.list[i].node;
        let result = match effect {
            Some((Action::Backup, vmid)) => self.end_backup(i, vmid, false),
            Some((action, vmid)) => self.apply(action, vmid, node),
            None => Ok(()),
        };
        let offset = self.clock_offset;
        let t = &mut self.tasks.list[i];
        t.ends_at = None;
        t.endtime = Some(t.starttime + t.run_secs.max(1) + (offset - t.start_offset));
        match result {
            Ok(()) => {
                t.log.push("TASK OK".into());
                t.exitstatus = Some("OK".into());
            }
            Err(e) => {
                t.log.push(format!("TASK ERROR: {e}"));
                t.exitstatus = Some(e);
            }
        }
    }

    /// Stops running task `i` (`DELETE /nodes/{node}/tasks/{upid}`): its effect never lands,
    /// except that an aborted backup still unlocks (and restarts) its guest, as vzdump does
    /// when it is killed. A finished task stays as it is.
    pub fn abort_task(&mut self, i: usize) {
        if !self.tasks.list[i].running() {
            return;
        }
        if let Some((Action::Backup, vmid)) = self.tasks.list[i].effect.take() {
            // The result is always "interrupted by signal"; its log lines are what matter.
            let _ = self.end_backup(i, vmid, true);
        }
        let now = self.unix_now();
        let t = &mut self.tasks.list[i];
        t.ends_at = None;
        t.endtime = Some(now.max(t.starttime + 1));
        t.exitstatus = Some("interrupted by signal".into());
        t.log.push("TASK ERROR: interrupted by signal".into());
        let list = &self.tasks.list;
        self.tasks.running.retain(|&i| list[i].running());
    }

    /// The effect of a finished power task, with the checks PVE's worker makes.
    fn apply(&mut self, action: Action, vmid: u32, node: usize) -> Result<(), String> {
        let gi = self.guest_idx(vmid).ok_or_else(|| format!("VM {vmid} does not exist"))?;
        if !self.nodes[node].online {
            return Err("interrupted by signal".into());
        }
        let g = &self.guests[gi];
        let ct = g.kind == GuestType::Lxc;
        let what = if ct { "CT" } else { "VM" };
        let locked = g.lock.as_ref().map(|l| format!("{what} is locked ({l})"));
        match action {
            Action::Start => {
                if g.template {
                    return Err(format!(
                        "you can't start a {} if it's a template",
                        if ct { "CT" } else { "vm" }
                    ));
                }
                if let Some(e) = locked {
                    return Err(e);
                }
                if g.is_up() {
                    return Err(format!("{what} {vmid} already running"));
                }
                if self.take_start_failure(vmid) {
                    return Err(start_failure(ct, vmid));
                }
                let pid = self.next_pid(node);
                self.guests[gi].boot(pid);
            }
            Action::HaStart => {
                if !g.is_up() && !g.template {
                    if self.take_start_failure(vmid) {
                        return Err(start_failure(ct, vmid));
                    }
                    let pid = self.next_pid(node);
                    self.guests[gi].boot(pid);
                }
            }
            Action::Stop | Action::Shutdown => {
                if let Some(e) = locked {
                    return Err(e);
                }
                self.guests[gi].halt();
            }
            Action::HaStop => self.guests[gi].halt(),
            Action::Reboot | Action::Reset => {
                if !g.is_up() {
                    return Err(format!("{what} {vmid} not running"));
                }
                if let Some(e) = locked {
                    return Err(e);
                }
                let pid = if action == Action::Reboot { self.next_pid(node) } else { g.pid };
                self.guests[gi].boot(pid);
            }
            Action::Pause => {
                if !g.is_up() {
                    return Err(format!("VM {vmid} not running"));
                }
                let g = &mut self.guests[gi];
                g.run = RunState::Paused;
                g.cpu = 0.0;
            }
            Action::Resume => {
                if self.guests[gi].run == RunState::Paused {
                    self.guests[gi].run = RunState::Running;
                }
            }
            // Finished in `finish_task`, which knows the task.
            Action::Backup => {}
        }
        Ok(())
    }

    /// A plausible recent task history, so task lists are not empty on first look.
    pub(crate) fn seed_history(&mut self, now: i64) {
        let day_start = now - now.rem_euclid(86_400);
        for node in 0..self.nodes.len().min(8) {
            let name = self.nodes[node].name.clone();
            let up_secs = (self.nodes[node].uptime_ms / 1000) as i64;
            let on_node: Vec<(u32, &'static str)> = self
                .guests
                .iter()
                .filter(|g| g.node == node && !g.template)
                .map(|g| (g.vmid, if g.kind == GuestType::Qemu { "qemu" } else { "lxc" }))
                .collect();

            let start = day_start - 86_400 + 7200 + node as i64 * 300;
            let mut log = vec![format!(
                "INFO: starting new backup job: vzdump --mode snapshot --compress zstd \
                 --storage nfs-backup --all 1 --mailnotification failure --node {name}"
            )];
            let mut t = 0i64;
            for (vmid, kind) in &on_node {
                log.push(format!("INFO: Starting Backup of VM {vmid} ({kind})"));
                let took = 40 + (*vmid as i64 * 37) % 300;
                log.push(format!(
                    "INFO: Finished Backup of VM {vmid} ({:02}:{:02}:{:02})",
                    took / 3600,
                    took / 60 % 60,
                    took % 60
                ));
                t += took + 3;
            }
            // One node's backup had a hiccup, as happens; everything else went fine.
            let status = if node == 1 && !on_node.is_empty() {
                log.push(
                    "ERROR: Backup of VM failed - unable to create temporary directory".into(),
                );
                "job errors"
            } else {
                log.push("INFO: Backup job finished successfully".into());
                "OK"
            };
            self.push_history(
                node,
                "vzdump",
                "",
                "root@pam",
                start,
                t.max(20),
                status,
                log,
                up_secs,
                now,
            );

            let start = now - 3 * 3600 - node as i64 * 611;
            let log = vec![
                "starting apt-get update".into(),
                "Hit:1 http://deb.debian.org/debian trixie InRelease".into(),
                "Hit:2 http://download.proxmox.com/debian/pve trixie InRelease".into(),
                "Reading package lists...".into(),
            ];
            self.push_history(node, "aptupdate", "", "root@pam", start, 6, "OK", log, up_secs, now);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_history(
        &mut self,
        node: usize,
        kind: &str,
        id: &str,
        user: &str,
        start: i64,
        secs: i64,
        status: &str,
        mut log: Vec<String>,
        node_up_secs: i64,
        now: i64,
    ) {
        let pid = self.next_pid(node);
        let booted = now - node_up_secs;
        let pstart = ((start - booted).max(1) * 100) as u64;
        let upid = format_upid(&self.nodes[node].name, pid, pstart, start, kind, id, user);
        log.push(if status == "OK" { "TASK OK".into() } else { format!("TASK ERROR: {status}") });
        self.tasks.push(Task {
            upid,
            node,
            pid,
            pstart,
            starttime: start,
            kind: kind.into(),
            id: id.into(),
            user: user.into(),
            ends_at: None,
            run_secs: secs,
            start_offset: 0,
            effect: None,
            endtime: Some(start + secs),
            exitstatus: Some(status.into()),
            log,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;

    #[test]
    fn upids_round_trip_through_the_parser() {
        let u = format_upid(
            "pve1",
            0x1234,
            0xABCDEF,
            1_700_000_000,
            "qmstart",
            "101",
            "root@pam!jarvis",
        );
        assert_eq!(u, "UPID:pve1:00001234:00ABCDEF:6553F100:qmstart:101:root@pam!jarvis:");
        assert!(is_upid(&u));
        assert!(is_upid("UPID:node1:000FF1FD:10F9374C:630D702C:vzdump::root@pam:"));
        assert!(!is_upid("UPID:pve1:1234:00ABCDEF:6553F100:qmstart:101:root@pam:"));
        assert!(!is_upid("UPID:pve1:00001234:00ABCDEF:6553F100:qmstart:101:root@pam"));
        assert!(!is_upid("nope"));
    }

    #[test]
    fn a_start_task_lands_when_it_finishes_and_a_second_one_fails() {
        let mut c = Cluster::generate(&SimConfig::default(), None);
        let gi = c.guests.iter().position(|g| !g.is_up() && !g.template).unwrap();
        let (vmid, node) = (c.guests[gi].vmid, c.guests[gi].node);
        let now = Instant::now();
        let a = c.spawn_task(
            node,
            "qmstart",
            &vmid.to_string(),
            Some((Action::Start, vmid)),
            vec![],
            now,
        );
        let b = c.spawn_task(
            node,
            "qmstart",
            &vmid.to_string(),
            Some((Action::Start, vmid)),
            vec![],
            now,
        );
        assert_ne!(a, b);
        c.settle(now);
        assert!(c.tasks.get(&a).unwrap().running());
        assert!(!c.guests[gi].is_up(), "not before the task ends");
        c.settle(now + c.task_duration);
        assert!(c.guests[gi].is_up());
        assert_eq!(c.tasks.get(&a).unwrap().exitstatus.as_deref(), Some("OK"));
        let second = c.tasks.get(&b).unwrap().exitstatus.clone().unwrap();
        assert!(second.contains("already running"), "{second}");
    }

    #[test]
    fn templates_do_not_start() {
        let mut c = Cluster::generate(&SimConfig::default(), None);
        let g = c.guests.iter().find(|g| g.template).unwrap();
        let (vmid, node) = (g.vmid, g.node);
        let now = Instant::now();
        let u = c.spawn_task(
            node,
            "qmstart",
            &vmid.to_string(),
            Some((Action::Start, vmid)),
            vec![],
            now,
        );
        c.settle(now + c.task_duration);
        assert_eq!(
            c.tasks.get(&u).unwrap().exitstatus.as_deref(),
            Some("you can't start a vm if it's a template")
        );
    }

    #[test]
    fn history_is_seeded_and_parseable() {
        let c = Cluster::generate(&SimConfig::default(), None);
        assert!(c.tasks.list.len() >= 8);
        assert!(c.tasks.list.iter().all(|t| is_upid(&t.upid)));
        assert!(c.tasks.list.iter().any(|t| t.exitstatus.as_deref() == Some("job errors")));
    }
}
