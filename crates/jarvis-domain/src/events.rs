//! Activity events: the feed of `GET /api/events` and the `/events` namespace, the `get_events`
//! tool's filters, and what the monitor reports. One vocabulary for all of them.
//!
//! Events are values here; storing and broadcasting them is the server's job (`jarvis::events`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// Defines a plain string enum with its wire words (`as_str`, `parse`) and the compact JSON
/// Schema `{"type": "string", "enum": [...]}` that tool arguments publish.
macro_rules! word_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $ty:ident, $desc:literal { $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            ::serde::Serialize, ::serde::Deserialize, ::ts_rs::TS, ::utoipa::ToSchema,
        )]
        #[serde(rename_all = "lowercase")]
        #[ts(export)]
        $vis enum $ty {
            $($(#[$vmeta])* $variant),+
        }

        impl $ty {
            /// Every value, in order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The wire word.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $word),+
                }
            }

            /// The value for a wire word.
            pub fn parse(word: &str) -> Option<$ty> {
                match word {
                    $($word => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::schemars::JsonSchema for $ty {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({"type": "string", "enum": [$($word),+], "description": $desc})
            }
        }
    };
}
pub(crate) use word_enum;

word_enum! {
    /// What kind of event.
    pub enum EventType, "Event kind." {
        /// Something needs attention.
        Alert = "alert",
        /// Something was done (or refused).
        Action = "action",
        /// A state change.
        Status = "status",
        /// A measurement.
        Metric = "metric",
    }
}

word_enum! {
    /// How serious. Ordered: `Info < Warning < Error < Critical`.
    pub enum Severity, "Severity." {
        /// For the record.
        Info = "info",
        /// Worth a look.
        Warning = "warning",
        /// Something failed.
        Error = "error",
        /// Act now.
        Critical = "critical",
    }
}

word_enum! {
    /// Who caused an event.
    pub enum EventSource, "Event source." {
        /// The monitor.
        Monitor = "monitor",
        /// The operator.
        User = "user",
        /// The assistant.
        Jarvis = "jarvis",
        /// The server itself.
        System = "system",
    }
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
    /// A new, unresolved event with the given id and time.
    pub fn new(
        id: String,
        timestamp: DateTime<Utc>,
        kind: EventType,
        severity: Severity,
        source: EventSource,
        title: impl Into<String>,
        message: impl Into<String>,
    ) -> Event {
        Event {
            id,
            kind,
            severity,
            title: title.into(),
            message: message.into(),
            node: None,
            source,
            timestamp,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_match_serde() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        for s in EventSource::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(Severity::parse("fatal"), None);
        assert!(Severity::Info < Severity::Warning && Severity::Error < Severity::Critical);
    }
}
