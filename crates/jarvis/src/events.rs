//! Activity events (the feed of PROTOCOL.md `Event`) and the in-process bus that fans them out.
//!
//! An event is stored first, then broadcast on `/events`; a slow or absent browser never holds up
//! the producer (tokio broadcast drops for lagging receivers, who then reload from the table).

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// What kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum EventType {
    /// Something needs attention.
    Alert,
    /// Something was done (or refused).
    Action,
    /// A state change.
    Status,
    /// A measurement.
    Metric,
}

/// How serious.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS, ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Severity {
    /// For the record.
    Info,
    /// Worth a look.
    Warning,
    /// Something failed.
    Error,
    /// Act now.
    Critical,
}

/// Who caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum EventSource {
    /// The monitor.
    Monitor,
    /// The operator.
    User,
    /// The assistant.
    Jarvis,
    /// The server itself.
    System,
}

/// One activity event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Event {
    /// Unique id.
    pub id: String,
    /// Kind.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// Severity.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Details.
    pub message: String,
    /// Node concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub node: Option<String>,
    /// Origin.
    pub source: EventSource,
    /// When (UTC).
    #[ts(type = "string")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: DateTime<Utc>,
    /// Whether the condition is over.
    pub resolved: bool,
    /// When the operator acknowledged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<DateTime<Utc>>,
}

impl Event {
    /// A new, unresolved event stamped now.
    pub fn new(
        kind: EventType,
        severity: Severity,
        source: EventSource,
        title: impl Into<String>,
        message: impl Into<String>,
    ) -> Event {
        Event {
            id: uuid::Uuid::new_v4().to_string(),
            kind,
            severity,
            title: title.into(),
            message: message.into(),
            node: None,
            source,
            // Millisecond precision, as stored, so an event equals itself read back.
            timestamp: Utc::now().trunc_subsecs(3),
            resolved: false,
            acknowledged_at: None,
        }
    }

    /// Sets the node.
    pub fn on_node(mut self, node: impl Into<String>) -> Event {
        self.node = Some(node.into());
        self
    }

    /// Sets the node when there is one.
    pub fn with_node(mut self, node: Option<String>) -> Event {
        self.node = node;
        self
    }
}
