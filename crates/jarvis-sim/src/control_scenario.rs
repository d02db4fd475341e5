//! Scenario controls on [`SimControl`]: everything the autonomous monitor handles, made to
//! happen on demand — a guest crashing, a node losing power (and waking on a magic packet), a
//! disk filling up, a CPU running hot, a backup running over a guest, a metric flapping, a
//! restart that fails, a clock that jumps ahead, and hostile text in guest names and task logs.
//!
//! Each control changes the cluster model only; the effects reach clients through the normal
//! PVE wire format (`/cluster/resources`, task lists and logs, guest status and config, node
//! status, SSH sensor output), so the real PVE client reads them without knowing it talks to a
//! simulator. `/_sim/scenario` (see `scenario_http.rs`) drives the same methods over HTTP.

use std::time::{Duration, Instant};

use jarvis_domain::GuestType;

use crate::config::SimError;
use crate::control::SimControl;
use crate::model::Cluster;
use crate::scenario::{BackupMode, DiskTarget, FillKey, Flap, FlapMetric, GuestText};
use crate::scenario_state::ScenarioState;

/// Longest backup a scenario may run.
const MAX_BACKUP: Duration = Duration::from_secs(86_400);
/// Longest guest name, description (PVE's own limit), tag and task-log line accepted.
const MAX_NAME: usize = 128;
const MAX_DESCRIPTION: usize = 8 * 1024;
const MAX_TAG: usize = 64;
const MAX_LOG_LINE: usize = 4096;
/// Most task-log lines appended at once.
const MAX_LOG_LINES: usize = 1000;

fn refuse(msg: impl Into<String>) -> SimError {
    SimError::Scenario(msg.into())
}

fn node_of(cl: &Cluster, name: &str) -> Result<usize, SimError> {
    cl.node_idx(name).ok_or_else(|| SimError::UnknownNode(name.into()))
}

fn guest_of(cl: &Cluster, vmid: u32) -> Result<usize, SimError> {
    cl.guest_idx(vmid).ok_or(SimError::UnknownGuest(vmid))
}

fn fraction_ok(name: &str, v: f64) -> Result<(), SimError> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(refuse(format!("{name} must be between 0 and 1, got {v}")))
    }
}

fn fill_key(cl: &Cluster, target: &DiskTarget) -> Result<FillKey, SimError> {
    Ok(match target {
        DiskTarget::Rootfs { node } => FillKey::Rootfs(node_of(cl, node)?),
        DiskTarget::Storage { node, storage } => {
            let i = node_of(cl, node)?;
            match storage.as_str() {
                // `local` is a directory on the root filesystem: they fill together.
                "local" => FillKey::Rootfs(i),
                "local-lvm" => FillKey::Lvm(i),
                "nfs-backup" => FillKey::Nfs,
                other => return Err(SimError::UnknownStorage(other.into())),
            }
        }
        DiskTarget::Guest { vmid } => {
            let g = &cl.guests[guest_of(cl, *vmid)?];
            if g.kind == GuestType::Qemu {
                return Err(refuse(format!(
                    "guest {vmid} is a VM: PVE reports no disk usage for VMs, so only \
                     containers can be filled"
                )));
            }
            FillKey::Guest(*vmid)
        }
    })
}

impl SimControl {
    /// Runs `f` on the cluster after applying what is due (finished tasks, boots).
    fn with_cluster<T>(&self, f: impl FnOnce(&mut Cluster, Instant) -> T) -> T {
        let now = Instant::now();
        let out = {
            let mut cl = self.shared.cluster.lock();
            cl.settle(now);
            f(&mut cl, now)
        };
        // A node may have changed power state.
        self.shared.sync_node_endpoints();
        out
    }

    /// Crashes a running guest: it stops at once without a task, as if QEMU died or the OOM
    /// killer struck. The simulator has no HA manager, so an HA guest stays down too. Refuses a
    /// template or a guest that is not running.
    pub fn crash_guest(&self, vmid: u32) -> Result<(), SimError> {
        self.with_cluster(|cl, _| {
            let gi = guest_of(cl, vmid)?;
            let g = &mut cl.guests[gi];
            if g.template {
                return Err(refuse(format!("guest {vmid} is a template and never runs")));
            }
            if !g.is_up() {
                return Err(refuse(format!("guest {vmid} is not running")));
            }
            g.halt();
            Ok(())
        })
    }

    /// Cuts a node's power: its guests stop (no tasks), it goes offline (595 for its API paths,
    /// SSH refused, quorum recomputed), and only a boot brings it back — `POST
    /// /nodes/{other}/wakeonlan` for it starts one that lasts `boot_delay` and then starts its
    /// `onboot` guests. Unlike [`SimControl::set_node_online`]`(false)`, which is network loss:
    /// there the guests keep running and a magic packet changes nothing.
    pub fn power_off_node(&self, node: &str) -> Result<(), SimError> {
        self.with_cluster(|cl, now| {
            let i = node_of(cl, node)?;
            cl.power_off(i, now);
            Ok(())
        })
    }

    /// Pins the used share of a disk to `fraction` (0..=1) until cleared; metric ticks do not
    /// move it. See [`DiskTarget`] for where each target shows.
    pub fn fill_disk(&self, target: &DiskTarget, fraction: f64) -> Result<(), SimError> {
        fraction_ok("fraction", fraction)?;
        self.with_cluster(|cl, _| {
            let key = fill_key(cl, target)?;
            cl.set_fill(key, Some(fraction));
            Ok(())
        })
    }

    /// Clears a disk fill: the usage from before it comes back and moves normally again.
    pub fn clear_disk_fill(&self, target: &DiskTarget) -> Result<(), SimError> {
        self.with_cluster(|cl, _| {
            let key = fill_key(cl, target)?;
            cl.set_fill(key, None);
            Ok(())
        })
    }

    /// Pins a node's CPU package temperature to `celsius` (cores read just below it) in what
    /// SSH shows: Jarvis' temperature script, `sensors`, the sysfs files.
    pub fn pin_temperature(&self, node: &str, celsius: f64) -> Result<(), SimError> {
        if !celsius.is_finite() || !(-40.0..=150.0).contains(&celsius) {
            return Err(refuse(format!("celsius must be between -40 and 150, got {celsius}")));
        }
        self.with_cluster(|cl, _| {
            let i = node_of(cl, node)?;
            cl.scenario.temperatures.insert(i, celsius);
            Ok(())
        })
    }

    /// Lets a node's temperatures follow its load again.
    pub fn clear_temperature(&self, node: &str) -> Result<(), SimError> {
        self.with_cluster(|cl, _| {
            let i = node_of(cl, node)?;
            cl.scenario.temperatures.remove(&i);
            Ok(())
        })
    }

    /// Runs a backup of `vmid` for `duration` and returns the UPID of its `vzdump` task: the
    /// guest is locked (`lock: backup`) while it runs, stop mode shuts it down for the duration,
    /// the node gets busier on ticks, and the task ends `OK` (see `backup.rs`). Refuses a guest
    /// that is locked already or whose node is offline.
    pub fn start_backup(
        &self,
        vmid: u32,
        mode: BackupMode,
        duration: Duration,
    ) -> Result<String, SimError> {
        self.backup(vmid, mode, duration, false)
    }

    /// [`SimControl::start_backup`] for a backup that fails at its end: the task ends with
    /// `job errors` and an `ERROR: Backup of VM … failed` log line; the guest is still unlocked
    /// (and restarted in stop mode).
    pub fn start_failing_backup(
        &self,
        vmid: u32,
        mode: BackupMode,
        duration: Duration,
    ) -> Result<String, SimError> {
        self.backup(vmid, mode, duration, true)
    }

    fn backup(
        &self,
        vmid: u32,
        mode: BackupMode,
        duration: Duration,
        fail: bool,
    ) -> Result<String, SimError> {
        if duration.is_zero() || duration > MAX_BACKUP {
            return Err(refuse(format!(
                "a backup must run between 1 ms and 24 h, not {duration:?}"
            )));
        }
        self.with_cluster(|cl, now| {
            guest_of(cl, vmid)?;
            cl.start_backup(vmid, mode, duration, fail, now).map_err(refuse)
        })
    }

    /// Makes a node's `metric` alternate: `high` for `every_ticks` ticks (starting now), then
    /// `low` as long, and so on, until [`SimControl::stop_flap`]. Values are fractions (CPU of
    /// all threads, memory of `maxmem`) with `0 <= low <= high <= 1`.
    pub fn flap_node_metric(
        &self,
        node: &str,
        metric: FlapMetric,
        low: f64,
        high: f64,
        every_ticks: u32,
    ) -> Result<(), SimError> {
        fraction_ok("low", low)?;
        fraction_ok("high", high)?;
        if low > high {
            return Err(refuse(format!("low ({low}) must not be above high ({high})")));
        }
        if every_ticks == 0 {
            return Err(refuse("everyTicks must be at least 1"));
        }
        self.with_cluster(|cl, _| {
            let i = node_of(cl, node)?;
            let flap = Flap { low, high, every: every_ticks, since_tick: cl.ticks };
            cl.scenario.flaps.insert((i, metric), flap);
            cl.enforce_pins();
            Ok(())
        })
    }

    /// Stops a node's flapping `metric` (None: both); it moves normally from the next tick.
    pub fn stop_flap(&self, node: &str, metric: Option<FlapMetric>) -> Result<(), SimError> {
        self.with_cluster(|cl, _| {
            let i = node_of(cl, node)?;
            cl.scenario.flaps.retain(|&(n, m), _| n != i || metric.is_some_and(|x| x != m));
            Ok(())
        })
    }

    /// Makes the next `count` starts of `vmid` fail (None: until cleared; `Some(0)` clears):
    /// `qmstart`/`vzstart`/`hastart` tasks end with PVE's error (`start failed: QEMU exited
    /// with code 1`, or `startup for container '<vmid>' failed`) and the guest stays stopped.
    /// Starting at node boot (`onboot`) fails the same way.
    pub fn fail_starts(&self, vmid: u32, count: Option<u32>) -> Result<(), SimError> {
        self.with_cluster(|cl, _| {
            guest_of(cl, vmid)?;
            match count {
                Some(0) => cl.scenario.fail_starts.remove(&vmid),
                count => cl.scenario.fail_starts.insert(vmid, count),
            };
            Ok(())
        })
    }

    /// Lets `vmid` start normally again.
    pub fn clear_fail_starts(&self, vmid: u32) -> Result<(), SimError> {
        self.fail_starts(vmid, Some(0))
    }

    /// Moves the reported clock ahead by `by` (whole seconds): every Unix time the simulator
    /// reports from now on (task start/end times and UPIDs, `ctime`, rrd timestamps,
    /// `last_update`, times over SSH) is shifted by the total offset, and the uptimes of
    /// online nodes and running guests grow by `by`, so their boot times stay put. What runs on
    /// real time keeps doing so: tasks finish after `task_duration`, ticks keep their pace,
    /// offline data goes stale after `offline_stale_after`.
    pub fn advance_clock(&self, by: Duration) {
        let secs = by.as_secs().min(i64::MAX as u64 / 4) as i64;
        self.with_cluster(|cl, _| {
            cl.clock_offset = cl.clock_offset.saturating_add(secs);
            let ms = (secs as u64).saturating_mul(1000);
            let online: Vec<bool> = cl.nodes.iter().map(|n| n.online).collect();
            for n in cl.nodes.iter_mut().filter(|n| n.online) {
                n.uptime_ms = n.uptime_ms.saturating_add(ms);
            }
            for g in cl.guests.iter_mut().filter(|g| g.is_up() && online[g.node]) {
                g.uptime_ms = g.uptime_ms.saturating_add(ms);
            }
        });
    }

    /// How far the reported clock is ahead of the wall clock.
    pub fn clock_offset(&self) -> Duration {
        Duration::from_secs(self.shared.cluster.lock().clock_offset.max(0) as u64)
    }

    /// Sets a guest's name, description and tags (absent fields stay), as an injection vector
    /// for prompt tests; shown in `/cluster/resources`, guest lists, status and config.
    pub fn set_guest_text(&self, vmid: u32, text: GuestText) -> Result<(), SimError> {
        if let Some(name) = &text.name
            && (name.is_empty()
                || name.chars().count() > MAX_NAME
                || name.chars().any(char::is_control))
        {
            return Err(refuse(format!(
                "name must be 1 to {MAX_NAME} characters without control characters"
            )));
        }
        if text.description.as_ref().is_some_and(|d| d.len() > MAX_DESCRIPTION) {
            return Err(refuse(format!("description must be at most {MAX_DESCRIPTION} bytes")));
        }
        for tag in text.tags.iter().flatten() {
            let bad = |c: char| c == ';' || c == ',' || c.is_whitespace() || c.is_control();
            if tag.is_empty() || tag.chars().count() > MAX_TAG || tag.chars().any(bad) {
                return Err(refuse(format!(
                    "tag {tag:?} must be 1 to {MAX_TAG} characters without ';', ',' or spaces"
                )));
            }
        }
        self.with_cluster(|cl, _| {
            let gi = guest_of(cl, vmid)?;
            let g = &mut cl.guests[gi];
            if let Some(name) = text.name {
                g.name = name;
            }
            if let Some(description) = text.description {
                g.description = description;
            }
            if let Some(tags) = text.tags {
                g.tags = tags.join(";");
            }
            Ok(())
        })
    }

    /// Appends lines to a task's log (a line with newlines becomes several). A finished task
    /// keeps its `TASK OK`/`TASK ERROR` line last, as PVE's logs end.
    pub fn append_task_log<S: AsRef<str>>(&self, upid: &str, lines: &[S]) -> Result<(), SimError> {
        let lines: Vec<String> = lines
            .iter()
            .flat_map(|l| l.as_ref().split('\n').map(|s| s.trim_end_matches('\r').to_string()))
            .collect();
        if lines.len() > MAX_LOG_LINES {
            return Err(refuse(format!("at most {MAX_LOG_LINES} lines at once")));
        }
        if lines.iter().any(|l| l.len() > MAX_LOG_LINE) {
            return Err(refuse(format!("a task log line must be at most {MAX_LOG_LINE} bytes")));
        }
        self.with_cluster(|cl, _| {
            let i =
                *cl.tasks.by_upid.get(upid).ok_or_else(|| SimError::UnknownTask(upid.into()))?;
            let t = &mut cl.tasks.list[i];
            let at = match t.running() {
                true => t.log.len(),
                false => t.log.iter().rposition(|l| l.starts_with("TASK ")).unwrap_or(t.log.len()),
            };
            t.log.splice(at..at, lines);
            Ok(())
        })
    }

    /// Clears every disk fill, temperature pin, flap and failing start. Running backups run to
    /// their end; the clock offset stays (clocks do not go back).
    pub fn clear_scenario(&self) {
        self.with_cluster(|cl, _| cl.clear_pins());
    }

    /// What is active: clock offset, pins, flaps, failing starts, running backups.
    pub fn scenario(&self) -> ScenarioState {
        self.with_cluster(|cl, now| cl.scenario_state(now))
    }
}
