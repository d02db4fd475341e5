//! The event bus: typed server events fanned out (tokio broadcast) to Socket.IO rooms and, later,
//! notifications and memory. Producers never wait on consumers; a lagging consumer skips ahead.

use serde::Serialize;
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::db::confirmations::Confirmation;
use crate::events::Event;

/// Body of the `monitor:status` event and `GET /api/monitor/status`.
#[derive(Debug, Clone, PartialEq, Serialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct MonitorStatus {
    /// Whether the monitor runs (it arrives with the monitor issue; false until then).
    pub running: bool,
    /// Autonomy level 0..4.
    pub autonomy_level: u8,
    /// Whether the kill switch is on.
    pub kill_switch: bool,
    /// Remediations in progress.
    pub active_remediations: u32,
}

/// Something every interested consumer hears about.
#[derive(Debug, Clone)]
pub enum ServerEvent {
    /// An activity event (already stored).
    Event(Event),
    /// A confirmation was created or changed status.
    Confirmation(Confirmation),
    /// Kill switch / autonomy changed.
    MonitorStatus(MonitorStatus),
}

/// Sender side of the bus; cheap to clone.
#[derive(Debug, Clone)]
pub struct Bus {
    tx: broadcast::Sender<ServerEvent>,
}

impl Default for Bus {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(1024);
        Self { tx }
    }
}

impl Bus {
    /// Publishes (no receivers is fine).
    pub fn publish(&self, e: ServerEvent) {
        let _ = self.tx.send(e);
    }

    /// A new receiver.
    pub fn subscribe(&self) -> broadcast::Receiver<ServerEvent> {
        self.tx.subscribe()
    }
}
