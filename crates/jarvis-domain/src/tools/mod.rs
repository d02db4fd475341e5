//! The tool registry: every tool Jarvis can run, its safety tier, whether it changes anything,
//! its description for the LLM and its argument schema.
//!
//! This module is the single source of truth (SAFE-01). The LLM tool list, the MCP tool list,
//! `GET /api/tools`, confirmation texts and docs are all generated from [`REGISTRY`],
//! [`input_schema`] and [`ToolCall::summary`] — the original system kept three hand-written copies
//! that drifted apart (a `get_backups` schema without `node`, a phantom `reboot_node`).
//!
//! Each tool is defined once, in `defs/<family>.rs`: a unit struct implementing [`ToolDef`] with
//! its name, tier, mutating flag, description, argument type (which is both the published schema
//! and the parser) and the mapping of those arguments to its [`ToolCall`] variant, with its unit
//! test right after it. [`REGISTRY`], [`descriptor`], [`tier_of`], [`input_schema`] and
//! [`parse_call`] are derived from those definitions; nothing here matches on tool names.
//!
//! Arguments are parsed into the typed [`ToolCall`] by [`parse_call`] before any safety check,
//! and [`canonical_args`] / [`args_digest`] bind a server-side confirmation to exactly those
//! arguments.

mod args;
mod call;
pub(crate) mod defs;
#[cfg(test)]
mod snapshot;
#[cfg(test)]
mod tests;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use args::ResourceType;
pub use call::{ToolCall, ToolError, args_digest, canonical_args, canonical_json};
pub use defs::{DEFAULT_EVENT_LIMIT, DEFAULT_SSH_TIMEOUT_SECONDS, DEFAULT_TASK_LIMIT, REGISTRY};

/// How dangerous a tool is. Ordered by danger: `Green < Yellow < Red < Black`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Reads only; runs without asking.
    Green,
    /// Operational and recoverable (start a guest, restart a service); runs and is audited.
    Yellow,
    /// Destructive or disruptive (stop, shut down, restart a guest); runs only after a human
    /// approves a server-side confirmation.
    Red,
    /// Takes a whole node down; never runs, except confirmed during an override (elevation).
    Black,
}

impl Tier {
    /// The wire name (`green`, `yellow`, `red`, `black`).
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Green => "green",
            Tier::Yellow => "yellow",
            Tier::Red => "red",
            Tier::Black => "black",
        }
    }
}

/// One registry entry: what every consumer (LLM tool list, MCP, REST, safety) reads about a tool.
/// Built only from a [`ToolDef`] (its `DESCRIPTOR`), so the schema and the parser of a tool are
/// always the same code.
#[derive(Clone, Copy)]
pub struct ToolDescriptor {
    /// The tool name the LLM, MCP and REST use.
    pub name: &'static str,
    /// Its safety tier.
    pub tier: Tier,
    /// False only for tools that cannot change the cluster; the kill switch and protected
    /// resources apply to every mutating tool.
    pub mutating: bool,
    /// What the tool does and when to use it, written for an LLM.
    pub description: &'static str,
    /// Deserializes an argument object into the tool's call (the message names the field).
    parse: fn(&Value) -> Result<ToolCall, String>,
    /// The argument type's JSON Schema.
    schema: fn() -> Value,
}

impl ToolDescriptor {
    /// The JSON Schema of the arguments: an object with `additionalProperties: false`, every
    /// subschema inlined so simple LLM servers can read it.
    pub fn input_schema(&self) -> Value {
        (self.schema)()
    }

    /// Parses arguments for this tool. A missing (`null`) `args` means `{}`; any other
    /// non-object is invalid. Unknown fields, wrong JSON types and out-of-range values are
    /// errors that name the field.
    pub fn parse(&self, args: &Value) -> Result<ToolCall, ToolError> {
        let invalid =
            |message: String| ToolError::InvalidArguments { tool: self.name.to_owned(), message };
        let empty = Value::Object(Map::new());
        let args = match args {
            Value::Null => &empty,
            Value::Object(_) => args,
            other => {
                let kind = match other {
                    Value::Bool(_) => "a boolean",
                    Value::Number(_) => "a number",
                    Value::String(_) => "a string",
                    _ => "an array",
                };
                return Err(invalid(format!("arguments must be a JSON object, got {kind}")));
            }
        };
        (self.parse)(args).map_err(invalid)
    }
}

// Two descriptors are the same tool when their public fields agree; the function pointers are
// derived from the definition and not meaningfully comparable.
impl PartialEq for ToolDescriptor {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.tier == other.tier
            && self.mutating == other.mutating
            && self.description == other.description
    }
}

impl Eq for ToolDescriptor {}

impl std::fmt::Debug for ToolDescriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolDescriptor")
            .field("name", &self.name)
            .field("tier", &self.tier)
            .field("mutating", &self.mutating)
            .finish_non_exhaustive()
    }
}

/// The definition of one tool (implemented by a unit struct in `defs/`). Everything the rest of
/// the system knows about a tool comes from here through [`ToolDef::DESCRIPTOR`].
pub(crate) trait ToolDef: Sized + 'static {
    /// The tool name the LLM, MCP and REST use.
    const NAME: &'static str;
    /// Its safety tier.
    const TIER: Tier;
    /// Whether it can change the cluster (the kill switch and protection apply when true).
    const MUTATING: bool;
    /// What the tool does and when to use it, written for an LLM.
    const DESCRIPTION: &'static str;
    /// The argument object: its `Deserialize` validates, its `JsonSchema` is published.
    type Args: DeserializeOwned + schemars::JsonSchema;

    /// Turns validated arguments into the call (and applies rules a schema cannot express);
    /// the error is the message shown to the caller.
    fn call(args: Self::Args) -> Result<ToolCall, String>;

    /// The registry entry derived from the items above.
    const DESCRIPTOR: ToolDescriptor = ToolDescriptor {
        name: Self::NAME,
        tier: Self::TIER,
        mutating: Self::MUTATING,
        description: Self::DESCRIPTION,
        parse: parse_args::<Self>,
        schema: args::schema_of::<Self::Args>,
    };
}

fn parse_args<T: ToolDef>(args: &Value) -> Result<ToolCall, String> {
    let parsed: T::Args = serde_json::from_value(args.clone()).map_err(|e| e.to_string())?;
    T::call(parsed)
}

/// The registry entry for `name`, if the tool exists.
pub fn descriptor(name: &str) -> Option<&'static ToolDescriptor> {
    REGISTRY.iter().find(|d| d.name == name)
}

/// The tier of `name`; an unknown tool is [`Tier::Black`] (SAFE-02), so code that only has a
/// name (audit views, metrics) never treats an unknown tool as harmless.
pub fn tier_of(name: &str) -> Tier {
    descriptor(name).map_or(Tier::Black, |d| d.tier)
}

/// The JSON Schema of `name`'s arguments (an object with `additionalProperties: false`, every
/// subschema inlined so simple LLM servers can read it), or `None` for an unknown tool.
pub fn input_schema(name: &str) -> Option<Value> {
    descriptor(name).map(ToolDescriptor::input_schema)
}

/// Parses a tool call by name: [`ToolError::UnknownTool`] for a name not in the registry,
/// otherwise [`ToolDescriptor::parse`].
pub fn parse_call(name: &str, args: &Value) -> Result<ToolCall, ToolError> {
    match descriptor(name) {
        Some(d) => d.parse(args),
        None => Err(ToolError::UnknownTool(name.chars().take(100).collect())),
    }
}
