//! The event bus: typed server events fanned out (tokio broadcast) to Socket.IO rooms and, later,
//! notifications and memory. Producers never wait on consumers; a lagging consumer skips ahead.

use tokio::sync::broadcast;

use crate::db::confirmations::Confirmation;
use crate::events::Event;
pub use crate::monitor::MonitorStatus;

/// Something every interested consumer hears about.
#[derive(Debug, Clone)]
pub enum ServerEvent {
    /// An activity event (already stored).
    Event(Event),
    /// A confirmation was created or changed status.
    Confirmation(Confirmation),
    /// Kill switch / autonomy / the monitor's state changed.
    MonitorStatus(MonitorStatus),
    /// An incident opened, changed or resolved.
    Incident(Box<jarvis_domain::monitor::Incident>),
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
