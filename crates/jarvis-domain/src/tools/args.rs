//! The argument shapes of every tool as serde + schemars types: what `parse_call` deserializes
//! and what `input_schema` publishes, so the schema an LLM sees and the parser that judges it are
//! the same code.
//!
//! Every struct is camelCase with `deny_unknown_fields` (a misspelt or smuggled field is an
//! error, not silently ignored). Every constrained scalar is a small newtype whose `Deserialize`
//! validates and whose error message names the field and the rule.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::events::{EventType, Severity};
use crate::ids::{NodeName, ServiceName, StorageId, VmId};

/// Defines an integer argument with an inclusive range and a field-naming error message.
macro_rules! bounded_int {
    ($ty:ident, $field:literal, $min:literal, $max:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) struct $ty(pub(crate) u32);

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "{} as a JSON integer from {} to {}", $field, $min, $max)
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$ty, E> {
                        match u32::try_from(v) {
                            Ok(v) if ($min..=$max).contains(&v) => Ok($ty(v)),
                            _ => Err(E::custom(format!(
                                "{}: must be an integer from {} to {} (got {v})",
                                $field, $min, $max
                            ))),
                        }
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$ty, E> {
                        self.visit_u64(u64::try_from(v).unwrap_or(u64::MAX))
                    }
                }
                d.deserialize_u64(V)
            }
        }

        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                stringify!($ty).into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({"type": "integer", "minimum": $min, "maximum": $max})
            }
        }
    };
}

bounded_int!(Limit, "limit", 1, 500, "How many entries to return (1-500).");
bounded_int!(TimeoutSeconds, "timeoutSeconds", 1, 120, "Command timeout in seconds (1-120).");

/// Defines a string argument validated by `$check` (which returns the rule on failure).
macro_rules! checked_string {
    ($ty:ident, $field:literal, $check:path, $schema:tt) => {
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub(crate) struct $ty(pub(crate) String);

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "{} as a JSON string", $field)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        $check(v)
                            .map(|()| $ty(v.to_owned()))
                            .map_err(|rule| E::custom(format!("{}: {rule}", $field)))
                    }
                }
                d.deserialize_str(V)
            }
        }

        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                stringify!($ty).into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

/// Maximum length of an SSH command in bytes (the command policy enforces the same bound).
pub(crate) const MAX_COMMAND_BYTES: usize = 1000;

fn check_command_text(s: &str) -> Result<(), String> {
    // Only size here: the content is judged by the command policy in `safety::decide`, which
    // gives a specific reason rather than a schema error.
    if s.trim().is_empty() {
        Err("must not be empty".into())
    } else if s.len() > MAX_COMMAND_BYTES {
        Err(format!("must be at most {MAX_COMMAND_BYTES} bytes (got {})", s.len()))
    } else {
        Ok(())
    }
}

fn check_upid(s: &str) -> Result<(), String> {
    // A UPID becomes a URL path segment, so nothing structural (`/ ? # %`, spaces, controls).
    let ok = s.len() <= 200
        && s.starts_with("UPID:")
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b":@._!=+-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err("must be a PVE task id starting with \"UPID:\", at most 200 characters of letters, \
             digits and ':@._!=+-'"
            .into())
    }
}

fn check_query(s: &str) -> Result<(), String> {
    let n = s.chars().count();
    if s.trim().is_empty() || n > 500 {
        Err(format!("must be 1-500 characters and not blank (got {n})"))
    } else if s.chars().any(char::is_control) {
        Err("must not contain control characters".into())
    } else {
        Ok(())
    }
}

checked_string!(CommandText, "command", check_command_text, {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_COMMAND_BYTES,
    "description": "One allow-listed diagnostic command, words separated by single spaces, e.g. \"df -h\" or \"journalctl -u pveproxy -n 100\"."
});
checked_string!(Upid, "upid", check_upid, {
    "type": "string",
    "maxLength": 200,
    "pattern": "^UPID:[A-Za-z0-9:@._!=+-]*$",
    "description": "Task id, e.g. UPID:pve1:0000A1B2:0012D687:65A1B2C3:qmstart:101:root@pam:"
});
checked_string!(Query, "query", check_query, {
    "type": "string",
    "minLength": 1,
    "maxLength": 500,
    "description": "Words to search for."
});

/// A start time: RFC 3339 with a time zone, kept as UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Since(pub(crate) DateTime<Utc>);

impl Since {
    /// The canonical wire form: RFC 3339 UTC with `Z`.
    pub(crate) fn format(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

impl<'de> Deserialize<'de> for Since {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)
            .map_err(|e| de::Error::custom(format!("since: must be a JSON string ({e})")))?;
        DateTime::parse_from_rfc3339(&raw).map(|t| Since(t.with_timezone(&Utc))).map_err(|_| {
            de::Error::custom(
                "since: must be an RFC 3339 timestamp with a time zone, e.g. 2026-01-31T08:00:00Z",
            )
        })
    }
}

impl JsonSchema for Since {
    fn schema_name() -> Cow<'static, str> {
        "Since".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "Only entries at or after this time (RFC 3339, e.g. 2026-01-31T08:00:00Z)."
        })
    }
}

/// Gives a plain-string enum the compact schema `{"type": "string", "enum": [...]}` (the derived
/// one lists every variant with its doc comment, which only costs LLM context).
macro_rules! string_enum_schema {
    ($ty:ident, $desc:literal, [$($v:literal),+]) => {
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                stringify!($ty).into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({"type": "string", "enum": [$($v),+], "description": $desc})
            }
        }
    };
}

/// Which kind of cluster resource to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceType {
    /// VMs and containers.
    Vm,
    /// Storage pools.
    Storage,
    /// Nodes.
    Node,
}
string_enum_schema!(ResourceType, "Resource kind.", ["vm", "storage", "node"]);

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoArgs {}

/// A node.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NodeArgs {
    /// The node, exactly as the cluster names it.
    pub node: NodeName,
}

/// A guest on a node.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct GuestArgs {
    /// The node the guest is on.
    pub node: NodeName,
    /// The guest id (VMID).
    pub vmid: VmId,
}

/// Optional resource type filter.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ClusterResourcesArgs {
    /// Only this kind of resource (vm, storage or node); all kinds when absent.
    #[serde(rename = "type")]
    pub resource_type: Option<ResourceType>,
}

/// Recent tasks, optionally for one node.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RecentTasksArgs {
    /// How many tasks (1-500, default 20).
    pub limit: Option<Limit>,
    /// Only tasks of this node.
    pub node: Option<NodeName>,
}

/// Backups on a node's storage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BackupsArgs {
    /// The node whose storage to list.
    pub node: NodeName,
    /// The storage holding backups (default: local).
    pub storage: Option<StorageId>,
}

/// One task.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TaskStatusArgs {
    /// The node that ran the task.
    pub node: NodeName,
    /// The task id (UPID).
    pub upid: Upid,
}

/// Event log filters.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct EventsArgs {
    /// How many events (1-500, default 50).
    pub limit: Option<Limit>,
    /// Only this kind of event.
    #[serde(rename = "type")]
    pub kind: Option<EventType>,
    /// Only this severity.
    pub severity: Option<Severity>,
    /// Only events about this node.
    pub node: Option<NodeName>,
    /// Only events at or after this time.
    pub since: Option<Since>,
}

/// Autonomy action filters.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct AutonomyActionsArgs {
    /// Only actions at or after this time.
    pub since: Option<Since>,
}

/// A memory search.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SearchMemoryArgs {
    /// What to look for (1-500 characters).
    pub query: Query,
}

/// A diagnostic command on a node.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ExecuteSshArgs {
    /// The node to run it on.
    pub node: NodeName,
    /// The command: one allow-listed program and its arguments, separated by spaces.
    pub command: CommandText,
    /// Give up after this many seconds (1-120, default 30).
    pub timeout_seconds: Option<TimeoutSeconds>,
}

/// A service on a node.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RestartServiceArgs {
    /// The node the service runs on.
    pub node: NodeName,
    /// The systemd service, e.g. pveproxy or pveproxy.service.
    pub service: ServiceName,
}

fn schema_of<T: JsonSchema>() -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| {
            // Inline everything and drop `$schema`: some OpenAI-compatible servers reject `$ref`,
            // and the tool list is sent with every request, so it should stay small.
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .into_generator();
    let mut v = generator.into_root_schema_for::<T>().to_value();
    if let Some(obj) = v.as_object_mut() {
        // The struct's name and doc comment are ours, not the tool's; the registry describes it.
        obj.remove("title");
        obj.remove("description");
        obj.insert("type".into(), "object".into());
        obj.entry("properties").or_insert_with(|| serde_json::json!({}));
        obj.insert("additionalProperties".into(), false.into());
    }
    v
}

/// The argument schema of a registered tool.
pub(crate) fn schema_for_tool(name: &str) -> Option<serde_json::Value> {
    Some(match name {
        "get_cluster_status" | "get_vms" | "get_containers" | "get_storage" => {
            schema_of::<NoArgs>()
        }
        "get_node_status"
        | "get_node_temperature"
        | "wake_node"
        | "reboot_node"
        | "shutdown_node" => schema_of::<NodeArgs>(),
        "get_cluster_resources" => schema_of::<ClusterResourcesArgs>(),
        "get_recent_tasks" => schema_of::<RecentTasksArgs>(),
        "get_backups" => schema_of::<BackupsArgs>(),
        "get_guest_config" | "start_vm" | "start_container" | "stop_vm" | "shutdown_vm"
        | "restart_vm" | "stop_container" | "shutdown_container" | "restart_container" => {
            schema_of::<GuestArgs>()
        }
        "get_task_status" => schema_of::<TaskStatusArgs>(),
        "get_events" => schema_of::<EventsArgs>(),
        "get_autonomy_actions" => schema_of::<AutonomyActionsArgs>(),
        "search_memory" => schema_of::<SearchMemoryArgs>(),
        "execute_ssh" => schema_of::<ExecuteSshArgs>(),
        "restart_service" => schema_of::<RestartServiceArgs>(),
        _ => return None,
    })
}
