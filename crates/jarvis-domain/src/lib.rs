//! Pure Jarvis logic: the cluster model every component reads, and the safety core — validated
//! ids, the tool registry, the safety decision, the SSH command policy, temperature parsing and
//! the audit hash chain. It also holds the chat turn state machine (`agent`), routing and cost math.
//!
//! This crate never does IO: no tokio, no reqwest, no SQLite. Everything here is a plain value or
//! a pure function, so it tests fast and cannot reach the network. CI checks that `tokio` never
//! appears in its dependency tree.

pub mod agent;
pub mod audit;
pub mod cluster;
pub mod command_policy;
pub mod cost;
pub mod events;
pub mod ids;
pub mod monitor;
pub mod prompt;
pub mod routing;
pub mod safety;
pub mod slash;
pub mod temperature;
pub mod tools;

pub use audit::{
    AUDIT_SOURCES, AuditEntry, GENESIS_HASH, entry_hash, verify_chain, verify_chain_from,
};
pub use cluster::{
    ClusterSnapshot, Freshness, GuestStatus, GuestType, Node, NodeStatus, Quorum, Storage,
    TemperatureReading, Vm,
};
pub use command_policy::{
    MAX_COMMAND_BYTES, PolicyViolation, SafeCommand, allowed_programs, check_command,
};
pub use events::{Event, EventSource, EventType, Severity};
pub use ids::{IdError, NodeName, ServiceName, StorageId, VmId};
pub use safety::{BlockCode, Decision, Protected, SafetyContext, decide, recheck_at_execution};
pub use temperature::{TEMPERATURE_COMMAND, parse_temperatures};
pub use tools::{
    REGISTRY, ResourceType, Tier, ToolCall, ToolDescriptor, ToolError, args_digest, canonical_args,
    canonical_json, descriptor, input_schema, parse_call, tier_of,
};
