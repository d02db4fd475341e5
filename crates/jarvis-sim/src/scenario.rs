//! Scenario state the autonomous monitor's tests steer: disk fills, pinned temperatures,
//! flapping node metrics, guests whose starts fail, and backups running over guests (their
//! `vzdump` tasks are in `backup.rs`). Plain data inside [`Cluster`]; the controls that set it
//! are in `control_scenario.rs`, its JSON view in `scenario_state.rs`.
//!
//! Pins act on the model itself (when they are set and after every tick), so every view of a
//! value — `/cluster/resources`, node status, storage lists, rrd data, `df` over SSH — agrees,
//! and no tick can undo them. Clearing a fill puts back the value from before the pin, so an
//! alert on it can resolve; normal movement then resumes from there.

use std::collections::BTreeMap;
use std::time::Instant;

use jarvis_domain::GuestType;
use serde::{Deserialize, Serialize};

use crate::model::Cluster;

/// How `vzdump` treats a running guest during its backup (`--mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupMode {
    /// The guest is shut down when the backup starts and started again when it ends.
    Stop,
    /// The guest is suspended for a moment at the start (too short to show in the simulator).
    Suspend,
    /// A live snapshot: the guest keeps running.
    Snapshot,
}

impl BackupMode {
    /// The `--mode` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Suspend => "suspend",
            Self::Snapshot => "snapshot",
        }
    }
}

/// A node metric that can flap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlapMetric {
    /// CPU load (`cpu`, a fraction of all threads).
    Cpu,
    /// Memory use (`mem`, as a fraction of `maxmem`).
    Mem,
}

/// Which disk a fill pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskTarget {
    /// A node's root filesystem: node `disk`/`maxdisk` in `/cluster/resources`, `rootfs` in
    /// `/nodes/{node}/status`, `/` in `df`, and the `local` storage, which lives on it.
    Rootfs {
        /// Node name.
        node: String,
    },
    /// A storage as a node reports it (`/cluster/resources` storage entries and
    /// `/nodes/{node}/storage`). `local` is the root filesystem (see [`DiskTarget::Rootfs`]);
    /// `nfs-backup` is shared, so filling it fills it for every node.
    Storage {
        /// Node name.
        node: String,
        /// Storage id (`local`, `local-lvm`, `nfs-backup`).
        storage: String,
    },
    /// A container's root disk (`disk` of the guest, shown while it runs). VMs report no disk
    /// usage in PVE (without the guest agent), so they cannot be filled.
    Guest {
        /// Container id.
        vmid: u32,
    },
}

/// Text a guest shows (`name`, `description`, `tags`), for prompt-injection tests; absent
/// fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestText {
    /// New name (no control characters, at most 128 characters). Deliberately not held to
    /// PVE's DNS-name rule, so tests can send what a hostile or buggy source might.
    pub name: Option<String>,
    /// New description (config `description`; at most 8 KiB, as in PVE; newlines allowed).
    pub description: Option<String>,
    /// New tags (each non-empty, without `;`, `,` or whitespace, at most 64 characters).
    pub tags: Option<Vec<String>>,
}

/// A pinned usage and the value it replaced.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fill {
    pub fraction: f64,
    /// Used bytes before the pin, put back when it is cleared.
    pub before: u64,
}

/// A metric alternating between two values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flap {
    pub low: f64,
    pub high: f64,
    pub every: u32,
    /// The tick count when it started: it shows `high` first.
    pub since_tick: u64,
}

impl Flap {
    /// The value at tick count `ticks`: `high` for `every` ticks, then `low`, and so on.
    pub fn value(&self, ticks: u64) -> f64 {
        let phase = ticks.saturating_sub(self.since_tick) / u64::from(self.every.max(1));
        if phase.is_multiple_of(2) { self.high } else { self.low }
    }
}

/// A backup running over a guest.
#[derive(Debug, Clone)]
pub(crate) struct RunningBackup {
    pub upid: String,
    pub vmid: u32,
    pub node: usize,
    pub mode: BackupMode,
    pub fail: bool,
    /// Stop mode shut the guest down: start it again at the end.
    pub restart: bool,
    pub ends_at: Instant,
    /// Reported start time (for the log and the archive name).
    pub started: i64,
}

/// A finished backup archive on `nfs-backup` (listed in its content).
#[derive(Debug, Clone)]
pub(crate) struct BackupVolume {
    pub vmid: u32,
    pub kind: GuestType,
    pub name: String,
    pub ctime: i64,
    pub size: u64,
}

/// At most this many archives made by `start_backup` are listed; the oldest go first.
const MAX_VOLUMES: usize = 1000;

/// Everything a scenario has set.
#[derive(Debug, Default)]
pub(crate) struct Scenario {
    /// Pinned usages.
    pub fills: BTreeMap<FillKey, Fill>,
    /// Node index → pinned CPU package temperature in °C.
    pub temperatures: BTreeMap<usize, f64>,
    pub flaps: BTreeMap<(usize, FlapMetric), Flap>,
    /// vmid → starts left to fail (None: until cleared).
    pub fail_starts: BTreeMap<u32, Option<u32>>,
    pub backups: Vec<RunningBackup>,
    pub volumes: Vec<BackupVolume>,
}

impl Scenario {
    /// Records a finished archive.
    pub fn add_volume(&mut self, v: BackupVolume) {
        if self.volumes.len() >= MAX_VOLUMES {
            self.volumes.remove(0);
        }
        self.volumes.push(v);
    }
}

/// What a fill pins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FillKey {
    /// Node index: root filesystem (and `local`).
    Rootfs(usize),
    /// Node index: `local-lvm`.
    Lvm(usize),
    /// The shared `nfs-backup`.
    Nfs,
    /// A container's disk, by vmid.
    Guest(u32),
}

fn part(total: u64, fraction: f64) -> u64 {
    (total as f64 * fraction.clamp(0.0, 1.0)).round() as u64
}

impl Cluster {
    /// The used bytes of a fill target and its size (None for a guest that is gone).
    fn fill_value(&mut self, key: FillKey) -> Option<(&mut u64, u64)> {
        Some(match key {
            FillKey::Rootfs(i) => {
                let n = &mut self.nodes[i];
                (&mut n.rootfs_used, n.rootfs_total)
            }
            FillKey::Lvm(i) => {
                let n = &mut self.nodes[i];
                (&mut n.lvm_used, n.lvm_total)
            }
            FillKey::Nfs => (&mut self.nfs_used, self.nfs_total),
            FillKey::Guest(vmid) => {
                let g = &mut self.guests[*self.guest_by_vmid.get(&vmid)?];
                (&mut g.disk_used, g.maxdisk)
            }
        })
    }

    /// Pins a fill target to `fraction` of its size, or clears the pin (None) and puts the
    /// value from before it back.
    pub fn set_fill(&mut self, key: FillKey, fraction: Option<f64>) {
        match fraction {
            Some(fraction) => {
                let before = self.fill_value(key).map_or(0, |(v, _)| *v);
                self.scenario
                    .fills
                    .entry(key)
                    .and_modify(|f| f.fraction = fraction)
                    .or_insert(Fill { fraction, before });
                self.enforce_pins();
            }
            None => {
                if let Some(fill) = self.scenario.fills.remove(&key)
                    && let Some((v, _)) = self.fill_value(key)
                {
                    *v = fill.before;
                }
            }
        }
    }

    /// Writes every pin into the model: fills, and the current phase of each flap (on online
    /// nodes only: an offline node reports nothing new).
    pub fn enforce_pins(&mut self) {
        let fills: Vec<(FillKey, f64)> =
            self.scenario.fills.iter().map(|(k, f)| (*k, f.fraction)).collect();
        for (key, fraction) in fills {
            if let Some((v, total)) = self.fill_value(key) {
                *v = part(total, fraction);
            }
        }
        for (&(i, metric), flap) in &self.scenario.flaps {
            let n = &mut self.nodes[i];
            if !n.online {
                continue;
            }
            let v = flap.value(self.ticks);
            match metric {
                FlapMetric::Cpu => n.cpu = v,
                FlapMetric::Mem => n.mem = part(n.maxmem, v),
            }
        }
    }

    /// Consumes one failing start of `vmid`; true when this start must fail.
    pub fn take_start_failure(&mut self, vmid: u32) -> bool {
        let Some(left) = self.scenario.fail_starts.get_mut(&vmid) else { return false };
        match left {
            None => true,
            Some(n) => {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.scenario.fail_starts.remove(&vmid);
                }
                true
            }
        }
    }

    /// Running backups per node (they add CPU and IO load on ticks).
    pub fn backups_per_node(&self) -> Vec<u32> {
        let mut per = vec![0u32; self.nodes.len()];
        for b in &self.scenario.backups {
            per[b.node] += 1;
        }
        per
    }

    /// Clears every pin, flap and failing start (fills put their old values back). Running
    /// backups and the clock are not pins: backups run to their end, the clock never goes back.
    pub fn clear_pins(&mut self) {
        let keys: Vec<FillKey> = self.scenario.fills.keys().copied().collect();
        for key in keys {
            self.set_fill(key, None);
        }
        self.scenario.temperatures.clear();
        self.scenario.flaps.clear();
        self.scenario.fail_starts.clear();
    }
}
