//! What is active in a scenario, as [`crate::SimControl::scenario`] and `GET /_sim/state`
//! (`scenario`, camelCase JSON) show it: the clock offset, pins, flaps, failing starts and
//! running backups.

use std::time::Instant;

use serde::Serialize;

use crate::model::Cluster;
use crate::scenario::{BackupMode, FillKey, FlapMetric};

/// The active scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioState {
    /// Seconds every reported time is ahead of the wall clock (`advance_clock`).
    pub clock_offset_secs: u64,
    /// Pinned disk usages.
    pub disk_fills: Vec<DiskFillState>,
    /// Pinned CPU temperatures.
    pub temperatures: Vec<TemperatureState>,
    /// Flapping node metrics.
    pub flaps: Vec<FlapState>,
    /// Guests whose starts fail.
    pub fail_starts: Vec<FailStartsState>,
    /// Backups running now.
    pub backups: Vec<BackupState>,
}

/// One pinned disk usage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskFillState {
    /// `rootfs`, `storage` or `guest` (a fill of storage `local` is the root filesystem's).
    pub target: &'static str,
    /// Node of a rootfs or node-local storage fill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Storage id of a storage fill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<&'static str>,
    /// Container of a guest fill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<u32>,
    /// Used fraction (0..=1).
    pub fraction: f64,
}

/// A pinned CPU package temperature.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemperatureState {
    /// Node name.
    pub node: String,
    /// °C.
    pub celsius: f64,
}

/// A flapping node metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlapState {
    /// Node name.
    pub node: String,
    /// Which metric.
    pub metric: FlapMetric,
    /// Low value (fraction).
    pub low: f64,
    /// High value (fraction), shown first.
    pub high: f64,
    /// Ticks each value holds.
    pub every_ticks: u32,
    /// The value at the current tick.
    pub current: f64,
}

/// A guest whose starts fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailStartsState {
    /// Guest id.
    pub vmid: u32,
    /// Failing starts left; None fails until cleared.
    pub remaining: Option<u32>,
}

/// A running backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupState {
    /// The `vzdump` task.
    pub upid: String,
    /// Guest being backed up.
    pub vmid: u32,
    /// Its node.
    pub node: String,
    /// `stop`, `suspend` or `snapshot`.
    pub mode: BackupMode,
    /// Whether it will end with an error.
    pub fail: bool,
    /// Real milliseconds until it ends.
    pub remaining_ms: u64,
}

impl Cluster {
    /// The active scenario at `now`.
    pub fn scenario_state(&self, now: Instant) -> ScenarioState {
        let s = &self.scenario;
        let node = |i: usize| self.nodes[i].name.clone();
        let disk_fills = s
            .fills
            .iter()
            .map(|(key, f)| {
                let (target, n, storage, vmid) = match *key {
                    FillKey::Rootfs(i) => ("rootfs", Some(node(i)), None, None),
                    FillKey::Lvm(i) => ("storage", Some(node(i)), Some("local-lvm"), None),
                    FillKey::Nfs => ("storage", None, Some("nfs-backup"), None),
                    FillKey::Guest(v) => ("guest", None, None, Some(v)),
                };
                DiskFillState { target, node: n, storage, vmid, fraction: f.fraction }
            })
            .collect();
        ScenarioState {
            clock_offset_secs: self.clock_offset.max(0) as u64,
            disk_fills,
            temperatures: s
                .temperatures
                .iter()
                .map(|(&i, &celsius)| TemperatureState { node: node(i), celsius })
                .collect(),
            flaps: s
                .flaps
                .iter()
                .map(|(&(i, metric), f)| FlapState {
                    node: node(i),
                    metric,
                    low: f.low,
                    high: f.high,
                    every_ticks: f.every,
                    current: f.value(self.ticks),
                })
                .collect(),
            fail_starts: s
                .fail_starts
                .iter()
                .map(|(&vmid, &remaining)| FailStartsState { vmid, remaining })
                .collect(),
            backups: s
                .backups
                .iter()
                .map(|b| BackupState {
                    upid: b.upid.clone(),
                    vmid: b.vmid,
                    node: node(b.node),
                    mode: b.mode,
                    fail: b.fail,
                    remaining_ms: b.ends_at.saturating_duration_since(now).as_millis() as u64,
                })
                .collect(),
        }
    }
}
