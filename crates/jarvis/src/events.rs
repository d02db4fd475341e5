//! Activity events (the feed of PROTOCOL.md `Event`; the types live in `jarvis_domain::events`):
//! stamping new ones and [`record`]ing them — stored first, then broadcast on the bus, so a slow
//! or absent browser never holds up the producer (tokio broadcast drops for lagging receivers,
//! who then reload from the table).

use chrono::{SubsecRound, Utc};
pub use jarvis_domain::events::{Event, EventSource, EventType, Severity};

use crate::bus::{Bus, ServerEvent};
use crate::db::Db;

/// A new, unresolved event with a fresh id, stamped now (millisecond precision, as stored, so an
/// event equals itself read back).
pub fn new_event(
    kind: EventType,
    severity: Severity,
    source: EventSource,
    title: impl Into<String>,
    message: impl Into<String>,
) -> Event {
    let id = uuid::Uuid::new_v4().to_string();
    Event::new(id, Utc::now().trunc_subsecs(3), kind, severity, source, title, message)
}

/// Stores `event` and announces it. A storage failure is logged, never fatal: the feed is a
/// record of what happened, and the action that produced the event has already happened.
pub async fn record(db: &Db, bus: &Bus, event: Event) {
    if let Err(e) = db.insert_event(&event).await {
        tracing::warn!(error = %e, "could not store event");
    }
    bus.publish(ServerEvent::Event(event));
}
