//! Backups over a guest (`SimControl::start_backup`): a `vzdump` task on the guest's node, as
//! PVE runs it for `vzdump <vmid> --mode <mode>`.
//!
//! While it runs the guest carries `lock: backup` (so power actions fail with "VM is locked
//! (backup)"), the task is listed as running, and the node is a little busier on ticks. In stop
//! mode the guest is shut down at the start and started again at the end by vzdump itself (no
//! `qmshutdown`/`qmstart` tasks). The task log reads like vzdump's. At the end the lock goes, a
//! successful run leaves an archive in `nfs-backup`'s content, and the task ends `OK` — or, when
//! asked to fail, `job errors` (what vzdump's task reports when a guest's backup failed).
//! Stopping the task (`DELETE …/tasks/{upid}`) ends it like a killed vzdump: the guest is
//! unlocked and restarted, the task ends `interrupted by signal`.

use std::time::{Duration, Instant};

use jarvis_domain::GuestType;

use crate::model::Cluster;
use crate::scenario::{BackupMode, BackupVolume, RunningBackup};
use crate::tasks::Action;

/// `YYYY-MM-DD HH:MM:SS` (UTC), as vzdump logs times.
fn log_time(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// `HH:MM:SS` of a duration, as in "Finished Backup of VM 102 (00:00:30)".
fn hms(secs: i64) -> String {
    let secs = secs.max(0);
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// The archive name for a backup started at `ts`.
pub(crate) fn archive_name(kind: GuestType, vmid: u32, ts: i64) -> String {
    let stamp = chrono::DateTime::from_timestamp(ts, 0)
        .map(|t| t.format("%Y_%m_%d-%H_%M_%S").to_string())
        .unwrap_or_default();
    match kind {
        GuestType::Qemu => format!("vzdump-qemu-{vmid}-{stamp}.vma.zst"),
        GuestType::Lxc => format!("vzdump-lxc-{vmid}-{stamp}.tar.zst"),
    }
}

impl Cluster {
    /// Starts a backup of guest `vmid` that runs `duration` and returns its UPID; the error
    /// says why it cannot start (offline node, a lock already held).
    pub fn start_backup(
        &mut self,
        vmid: u32,
        mode: BackupMode,
        duration: Duration,
        fail: bool,
        now: Instant,
    ) -> Result<String, String> {
        let gi = self.guest_idx(vmid).ok_or_else(|| format!("no guest with vmid {vmid}"))?;
        let node = self.guests[gi].node;
        if !self.nodes[node].online {
            return Err(format!("node {} is offline", self.nodes[node].name));
        }
        if let Some(lock) = &self.guests[gi].lock {
            return Err(format!("guest {vmid} is locked ({lock})"));
        }
        let upid = self.spawn_task_for(
            node,
            "vzdump",
            &vmid.to_string(),
            Some((Action::Backup, vmid)),
            Vec::new(),
            now,
            duration,
        );
        let ti = self.tasks.by_upid[&upid];
        let started = self.tasks.list[ti].starttime;
        let g = &self.guests[gi];
        let qemu = g.kind == GuestType::Qemu;
        let running = g.is_up();
        let mut log = vec![
            format!(
                "INFO: starting new backup job: vzdump {vmid} --mode {} --storage nfs-backup \
                 --compress zstd --remove 0 --node {}",
                mode.as_str(),
                self.nodes[node].name
            ),
            format!("INFO: Starting Backup of VM {vmid} ({})", if qemu { "qemu" } else { "lxc" }),
            format!("INFO: Backup started at {}", log_time(started)),
            format!("INFO: status = {}", g.status_str()),
            format!("INFO: backup mode: {}", mode.as_str()),
            "INFO: ionice priority: 7".into(),
            format!("INFO: {} Name: {}", if qemu { "VM" } else { "CT" }, g.name),
        ];
        let restart = mode == BackupMode::Stop && running;
        match mode {
            BackupMode::Stop if running => log.push("INFO: stopping virtual guest".into()),
            BackupMode::Suspend if running => {
                log.push("INFO: suspending guest".into());
                log.push("INFO: resuming guest".into());
            }
            BackupMode::Snapshot if running && qemu => {
                log.push("INFO: issuing guest-agent 'fs-freeze' command".into());
                log.push("INFO: issuing guest-agent 'fs-thaw' command".into());
            }
            _ => {}
        }
        log.push(format!(
            "INFO: creating vzdump archive '/mnt/pve/nfs-backup/dump/{}'",
            archive_name(g.kind, vmid, started)
        ));
        self.tasks.list[ti].log = log;
        let g = &mut self.guests[gi];
        g.lock = Some("backup".into());
        if restart {
            g.halt();
        }
        self.scenario.backups.push(RunningBackup {
            upid: upid.clone(),
            vmid,
            node,
            mode,
            fail,
            restart,
            ends_at: now + duration,
            started,
        });
        Ok(upid)
    }

    /// Ends the backup run by task `task` (finished, or `aborted` by a task stop): unlocks and
    /// restarts the guest, writes the closing log lines and returns the task's result.
    pub(crate) fn end_backup(
        &mut self,
        task: usize,
        vmid: u32,
        aborted: bool,
    ) -> Result<(), String> {
        let upid = self.tasks.list[task].upid.clone();
        let Some(pos) = self.scenario.backups.iter().position(|b| b.upid == upid) else {
            return Ok(());
        };
        let b = self.scenario.backups.remove(pos);
        let now = self.unix_now();
        let online = self.nodes[b.node].online;
        let mut log = Vec::new();
        let failure = if !online || aborted {
            Some("interrupted by signal")
        } else if b.fail {
            Some("vma_queue_write: write error - No space left on device")
        } else {
            None
        };
        if let Some(why) = failure {
            log.push(format!("ERROR: Backup of VM {vmid} failed - {why}"));
        }
        let mut volume = None;
        if let Some(gi) = self.guest_idx(vmid) {
            if self.guests[gi].lock.as_deref() == Some("backup") {
                self.guests[gi].lock = None;
            }
            if b.restart && online && !self.guests[gi].is_up() {
                let qemu = self.guests[gi].kind == GuestType::Qemu;
                log.push(format!("INFO: restarting {}", if qemu { "vm" } else { "container" }));
                let pid = self.next_pid(b.node);
                self.guests[gi].boot(pid);
                log.push(format!("INFO: guest is online again after {} seconds", now - b.started));
            }
            let g = &self.guests[gi];
            volume = Some(BackupVolume {
                vmid,
                kind: g.kind,
                name: g.name.clone(),
                ctime: b.started,
                size: g.maxdisk / 5 + u64::from(vmid) * 1_048_576,
            });
        }
        let result = match failure {
            Some(_) => {
                log.push(format!("INFO: Failed at {}", log_time(now)));
                log.push("INFO: Backup job finished with errors".into());
                Err(if b.fail && online && !aborted {
                    "job errors"
                } else {
                    "interrupted by signal"
                }
                .to_string())
            }
            None => {
                if let Some(v) = &volume {
                    log.push(format!("INFO: archive file size: {:.2}GB", v.size as f64 / 1e9));
                }
                log.push(format!(
                    "INFO: Finished Backup of VM {vmid} ({})",
                    hms(now - b.started).as_str()
                ));
                log.push(format!("INFO: Backup finished at {}", log_time(now)));
                log.push("INFO: Backup job finished successfully".into());
                if let Some(v) = volume {
                    self.scenario.add_volume(v);
                }
                Ok(())
            }
        };
        self.tasks.list[task].log.extend(log);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;

    #[test]
    fn a_stop_mode_backup_stops_locks_and_restarts_its_guest() {
        let mut c = Cluster::generate(&SimConfig::default(), None);
        let gi = c.guests.iter().position(|g| g.is_up() && !g.ha).unwrap();
        let vmid = c.guests[gi].vmid;
        let now = Instant::now();
        let upid = c.start_backup(vmid, BackupMode::Stop, Duration::from_secs(5), false, now);
        let upid = upid.unwrap();
        assert!(upid.contains(":vzdump:"), "{upid}");
        assert!(!c.guests[gi].is_up(), "stop mode stops the guest at the start");
        assert_eq!(c.guests[gi].lock.as_deref(), Some("backup"));
        let again = c.start_backup(vmid, BackupMode::Snapshot, Duration::from_secs(5), false, now);
        assert_eq!(again.unwrap_err(), format!("guest {vmid} is locked (backup)"));
        c.settle(now + Duration::from_secs(5));
        assert!(c.guests[gi].is_up(), "vzdump starts it again");
        assert_eq!(c.guests[gi].lock, None);
        let t = c.tasks.get(&upid).unwrap();
        assert_eq!(t.exitstatus.as_deref(), Some("OK"));
        assert!(t.log.iter().any(|l| l == "INFO: stopping virtual guest"), "{:?}", t.log);
        assert!(c.scenario.backups.is_empty());
        assert_eq!(c.scenario.volumes.len(), 1);
    }

    #[test]
    fn a_failing_backup_ends_with_job_errors_and_unlocks() {
        let mut c = Cluster::generate(&SimConfig::default(), None);
        let vmid = c.guests.iter().find(|g| g.is_up()).unwrap().vmid;
        let now = Instant::now();
        let upid =
            c.start_backup(vmid, BackupMode::Snapshot, Duration::from_secs(1), true, now).unwrap();
        c.settle(now + Duration::from_secs(1));
        let t = c.tasks.get(&upid).unwrap();
        assert_eq!(t.exitstatus.as_deref(), Some("job errors"));
        assert_eq!(t.log.last().map(String::as_str), Some("TASK ERROR: job errors"));
        assert_eq!(c.guests[c.guest_idx(vmid).unwrap()].lock, None);
        assert!(c.scenario.volumes.is_empty(), "no archive from a failed run");
    }

    #[test]
    fn an_aborted_backup_still_unlocks_and_restarts() {
        let mut c = Cluster::generate(&SimConfig::default(), None);
        let gi = c.guests.iter().position(|g| g.is_up()).unwrap();
        let vmid = c.guests[gi].vmid;
        let now = Instant::now();
        let upid =
            c.start_backup(vmid, BackupMode::Stop, Duration::from_secs(60), false, now).unwrap();
        let ti = c.tasks.by_upid[&upid];
        c.abort_task(ti);
        let t = &c.tasks.list[ti];
        assert_eq!(t.exitstatus.as_deref(), Some("interrupted by signal"));
        assert!(c.guests[gi].is_up() && c.guests[gi].lock.is_none());
        assert!(c.scenario.backups.is_empty());
    }
}
