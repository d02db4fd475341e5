//! The argument building blocks shared by the tool definitions in `defs/`: validated scalars
//! (limits, timeouts, UPIDs, queries, timestamps), the common argument objects (none, a node, a
//! guest) and [`schema_of`], which turns an argument type into the schema an LLM sees — the same
//! type whose `Deserialize` then judges the arguments.
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

use crate::ids::{NodeName, VmId};

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

/// The published schema of an argument type (what [`super::ToolDescriptor::input_schema`]
/// returns).
pub(crate) fn schema_of<T: JsonSchema>() -> serde_json::Value {
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
