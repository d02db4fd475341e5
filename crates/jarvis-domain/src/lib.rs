//! Pure Jarvis logic: the cluster model every component reads, and (in later modules) safety
//! policy, tool descriptors, the agent state machine, routing and cost math.
//!
//! This crate never does IO: no tokio, no reqwest, no SQLite. Everything here is a plain value or
//! a pure function, so it tests fast and cannot reach the network. CI checks that `tokio` never
//! appears in its dependency tree.

pub mod cluster;

pub use cluster::{
    ClusterSnapshot, Freshness, GuestStatus, GuestType, Node, NodeStatus, Quorum, Storage,
    TemperatureReading, Vm,
};
