//! The monitor's driver (DESIGN.md §6): feeds `jarvis_domain::monitor::Monitor` the one cluster
//! state, PVE's task list (one shared read per tier that needs it) and Jarvis's audited actions
//! on the tiered schedule, and carries out its effects — incidents and actions into the
//! database, runbook actions through `Pipeline::submit_call` with the monitor as source,
//! notifications into the outbox, events onto the feed.
//!
//! [`MonitorService`] is the handle every part of the server shares (status, commands from the
//! REST API); the [`Driver`] is the component `jarvis::run` starts — never `build_core`, so
//! `jarvis mcp`, which shares the database, can never act a second time.

mod driver;
mod inputs;

use std::sync::Arc;

use jarvis_domain::monitor::{
    AutonomyLevel, CommandError, Incident, LastRuns, MonitorTier, Silence, ThresholdSettings,
};
use parking_lot::RwLock;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use ts_rs::TS;
use utoipa::ToSchema;

pub use driver::{Driver, DriverDeps};
pub use inputs::task_info;

use crate::db::{Db, DbError};

/// Settings keys.
pub(crate) const LEVEL_KEY: &str = "autonomy_level";
pub(crate) const THRESHOLDS_KEY: &str = "monitor_thresholds";
pub(crate) const RUNBOOKS_OFF_KEY: &str = "monitor_runbooks_disabled";

/// Tier intervals in seconds (`null` = disabled).
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TierIntervals {
    /// Critical tier.
    pub critical: Option<u32>,
    /// Important tier.
    pub important: Option<u32>,
    /// Routine tier.
    pub routine: Option<u32>,
    /// Background tier.
    pub background: Option<u32>,
}

/// Body of the `monitor:status` event and `GET /api/monitor/status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct MonitorStatus {
    /// Whether the monitor's driver runs.
    pub running: bool,
    /// Autonomy level 0..4.
    pub autonomy_level: u8,
    /// Whether the kill switch is on.
    pub kill_switch: bool,
    /// Remediations running or being verified.
    pub active_remediations: u32,
    /// When each tier last ran.
    pub last_poll: LastRuns,
    /// **[added]** Unresolved incidents.
    pub open_incidents: u32,
    /// **[added]** Each tier's interval.
    pub intervals: TierIntervals,
}

/// What the REST API asks of the running driver.
#[derive(Debug)]
pub(crate) enum Command {
    Ack { id: String, by: String, reply: oneshot::Sender<Result<Incident, CommandError>> },
    Resolve { id: String, by: String, reply: oneshot::Sender<Result<Incident, CommandError>> },
    SetLevel { level: AutonomyLevel, reply: oneshot::Sender<()> },
    Silences { silences: Vec<Silence>, reply: oneshot::Sender<()> },
    Thresholds { thresholds: ThresholdSettings, reply: oneshot::Sender<()> },
    Runbooks { disabled: std::collections::BTreeSet<String>, reply: oneshot::Sender<()> },
}

/// Why a monitor command failed.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The machine refused it.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The driver is not running (e.g. in `jarvis mcp`, or during shutdown).
    #[error("the monitor is not running")]
    NotRunning,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The shared handle: status and commands.
#[derive(Clone, Debug)]
pub struct MonitorService {
    tx: mpsc::Sender<Command>,
    status: Arc<RwLock<MonitorStatus>>,
    /// The receiving end, until the driver takes it.
    rx: Arc<parking_lot::Mutex<Option<mpsc::Receiver<Command>>>>,
    /// Unresolved incidents as the driver last published them (the chat's live context).
    live: Arc<RwLock<Vec<Incident>>>,
}

impl MonitorService {
    /// A handle whose driver is not started yet.
    pub fn new(initial_level: AutonomyLevel, kill_switch: bool) -> MonitorService {
        let (tx, rx) = mpsc::channel(64);
        let status = MonitorStatus {
            autonomy_level: initial_level.number(),
            kill_switch,
            ..MonitorStatus::default()
        };
        MonitorService {
            tx,
            status: Arc::new(RwLock::new(status)),
            rx: Arc::new(parking_lot::Mutex::new(Some(rx))),
            live: Arc::default(),
        }
    }

    /// The status as it stands.
    pub fn status(&self) -> MonitorStatus {
        self.status.read().clone()
    }

    pub(crate) fn status_cell(&self) -> Arc<RwLock<MonitorStatus>> {
        self.status.clone()
    }

    /// Unresolved incidents, as the driver last published them.
    pub fn live_incidents(&self) -> Vec<Incident> {
        self.live.read().clone()
    }

    pub(crate) fn set_live_incidents(&self, incidents: Vec<Incident>) {
        *self.live.write() = incidents;
    }

    /// Records the kill switch (thrown anywhere) in the status.
    pub fn note_kill_switch(&self, on: bool) {
        self.status.write().kill_switch = on;
    }

    pub(crate) fn take_receiver(&self) -> Option<mpsc::Receiver<Command>> {
        self.rx.lock().take()
    }

    pub(crate) fn return_receiver(&self, rx: mpsc::Receiver<Command>) {
        *self.rx.lock() = Some(rx);
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, MonitorError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).await.map_err(|_| MonitorError::NotRunning)?;
        rx.await.map_err(|_| MonitorError::NotRunning)
    }

    /// Acknowledges an incident.
    pub async fn acknowledge(&self, id: String, by: String) -> Result<Incident, MonitorError> {
        Ok(self.ask(|reply| Command::Ack { id, by, reply }).await??)
    }

    /// Resolves an incident by hand.
    pub async fn resolve(&self, id: String, by: String) -> Result<Incident, MonitorError> {
        Ok(self.ask(|reply| Command::Resolve { id, by, reply }).await??)
    }

    /// Changes the autonomy level (the caller persisted and audited it).
    pub async fn set_level(&self, level: AutonomyLevel) -> Result<(), MonitorError> {
        self.status.write().autonomy_level = level.number();
        self.ask(|reply| Command::SetLevel { level, reply }).await
    }

    /// Tells the driver the silences changed (it reloads them).
    pub async fn silences_changed(&self, db: &Db) -> Result<(), MonitorError> {
        let silences = db.active_silences(chrono::Utc::now()).await?;
        self.ask(|reply| Command::Silences { silences, reply }).await
    }

    /// New threshold rules.
    pub async fn set_thresholds(&self, thresholds: ThresholdSettings) -> Result<(), MonitorError> {
        self.ask(|reply| Command::Thresholds { thresholds, reply }).await
    }

    /// New set of switched-off runbooks.
    pub async fn set_disabled_runbooks(
        &self,
        disabled: std::collections::BTreeSet<String>,
    ) -> Result<(), MonitorError> {
        self.ask(|reply| Command::Runbooks { disabled, reply }).await
    }
}

/// The intervals as the status shows them.
pub(crate) fn intervals_view(intervals: &[Option<chrono::Duration>; 4]) -> TierIntervals {
    let secs = |t: MonitorTier| intervals[t as usize].map(|d| d.num_seconds() as u32);
    TierIntervals {
        critical: secs(MonitorTier::Critical),
        important: secs(MonitorTier::Important),
        routine: secs(MonitorTier::Routine),
        background: secs(MonitorTier::Background),
    }
}
