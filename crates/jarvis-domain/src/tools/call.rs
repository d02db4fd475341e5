//! Typed tool calls: the [`ToolCall`] every definition in `defs/` parses into, what a call
//! targets, describing it for a confirmation dialog, and the canonical argument form and digest
//! that bind a confirmation to exactly one set of arguments.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::args::{ResourceType, Since};
use super::defs as d;
use super::{Tier, ToolDef, ToolDescriptor};
use crate::events::{EventType, Severity};
use crate::ids::{NodeName, ServiceName, StorageId, VmId};
use crate::monitor::IncidentState;

/// Why a tool call could not be parsed. Maps to 404 `unknown_tool` / 400 `invalid_arguments`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// No tool of that name is registered (unknown tools are treated as BLACK and never run).
    #[error("unknown tool `{0}`")]
    UnknownTool(String),
    /// The arguments are not what the tool's schema allows.
    #[error("invalid arguments for `{tool}`: {message}")]
    InvalidArguments {
        /// The tool name.
        tool: String,
        /// Which field is wrong and why.
        message: String,
    },
}

/// A parsed, fully validated tool call. Constructed only by [`super::parse_call`] (or directly in
/// trusted code such as runbooks and slash commands), so safety checks always see typed values.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // Variant fields are the tool arguments documented in the registry.
pub enum ToolCall {
    /// `get_cluster_status`
    GetClusterStatus,
    /// `get_node_status`
    GetNodeStatus { node: NodeName },
    /// `get_vms`
    GetVms,
    /// `get_containers`
    GetContainers,
    /// `get_storage`
    GetStorage,
    /// `get_cluster_resources`
    GetClusterResources { resource_type: Option<ResourceType> },
    /// `get_node_temperature`
    GetNodeTemperature { node: NodeName },
    /// `get_recent_tasks`
    GetRecentTasks { limit: u32, node: Option<NodeName> },
    /// `get_backups`
    GetBackups { node: NodeName, storage: Option<StorageId> },
    /// `get_guest_config`
    GetGuestConfig { node: NodeName, vmid: VmId },
    /// `get_task_status`
    GetTaskStatus { node: NodeName, upid: String },
    /// `get_events`
    GetEvents {
        limit: u32,
        kind: Option<EventType>,
        severity: Option<Severity>,
        node: Option<NodeName>,
        since: Option<DateTime<Utc>>,
    },
    /// `get_autonomy_actions`
    GetAutonomyActions { since: Option<DateTime<Utc>> },
    /// `get_incidents` (unresolved ones when `state` is `None`)
    GetIncidents { state: Option<IncidentState> },
    /// `search_memory`
    SearchMemory { query: String },
    /// `execute_ssh` — `command` is still raw text here; `safety::decide` runs the command
    /// policy on it, and the executor sends only `check_command(command)?.to_shell()`.
    ExecuteSsh { node: NodeName, command: String, timeout_seconds: u32 },
    /// `restart_service`
    RestartService { node: NodeName, service: ServiceName },
    /// `wake_node`
    WakeNode { node: NodeName },
    /// `start_vm`
    StartVm { node: NodeName, vmid: VmId },
    /// `start_container`
    StartContainer { node: NodeName, vmid: VmId },
    /// `stop_vm`
    StopVm { node: NodeName, vmid: VmId },
    /// `shutdown_vm`
    ShutdownVm { node: NodeName, vmid: VmId },
    /// `restart_vm`
    RestartVm { node: NodeName, vmid: VmId },
    /// `stop_container`
    StopContainer { node: NodeName, vmid: VmId },
    /// `shutdown_container`
    ShutdownContainer { node: NodeName, vmid: VmId },
    /// `restart_container`
    RestartContainer { node: NodeName, vmid: VmId },
    /// `reboot_node`
    RebootNode { node: NodeName },
    /// `shutdown_node`
    ShutdownNode { node: NodeName },
}

impl ToolCall {
    /// The definition this call belongs to (tier, mutating flag and name come from there,
    /// nowhere else).
    pub fn descriptor(&self) -> &'static ToolDescriptor {
        use ToolCall::*;
        match self {
            GetClusterStatus => &d::GetClusterStatus::DESCRIPTOR,
            GetNodeStatus { .. } => &d::GetNodeStatus::DESCRIPTOR,
            GetVms => &d::GetVms::DESCRIPTOR,
            GetContainers => &d::GetContainers::DESCRIPTOR,
            GetStorage => &d::GetStorage::DESCRIPTOR,
            GetClusterResources { .. } => &d::GetClusterResources::DESCRIPTOR,
            GetNodeTemperature { .. } => &d::GetNodeTemperature::DESCRIPTOR,
            GetRecentTasks { .. } => &d::GetRecentTasks::DESCRIPTOR,
            GetBackups { .. } => &d::GetBackups::DESCRIPTOR,
            GetGuestConfig { .. } => &d::GetGuestConfig::DESCRIPTOR,
            GetTaskStatus { .. } => &d::GetTaskStatus::DESCRIPTOR,
            GetEvents { .. } => &d::GetEvents::DESCRIPTOR,
            GetAutonomyActions { .. } => &d::GetAutonomyActions::DESCRIPTOR,
            GetIncidents { .. } => &d::GetIncidents::DESCRIPTOR,
            SearchMemory { .. } => &d::SearchMemory::DESCRIPTOR,
            ExecuteSsh { .. } => &d::ExecuteSsh::DESCRIPTOR,
            RestartService { .. } => &d::RestartService::DESCRIPTOR,
            WakeNode { .. } => &d::WakeNode::DESCRIPTOR,
            StartVm { .. } => &d::StartVm::DESCRIPTOR,
            StartContainer { .. } => &d::StartContainer::DESCRIPTOR,
            StopVm { .. } => &d::StopVm::DESCRIPTOR,
            ShutdownVm { .. } => &d::ShutdownVm::DESCRIPTOR,
            RestartVm { .. } => &d::RestartVm::DESCRIPTOR,
            StopContainer { .. } => &d::StopContainer::DESCRIPTOR,
            ShutdownContainer { .. } => &d::ShutdownContainer::DESCRIPTOR,
            RestartContainer { .. } => &d::RestartContainer::DESCRIPTOR,
            RebootNode { .. } => &d::RebootNode::DESCRIPTOR,
            ShutdownNode { .. } => &d::ShutdownNode::DESCRIPTOR,
        }
    }

    /// The registry name of this tool.
    pub fn name(&self) -> &'static str {
        self.descriptor().name
    }

    /// The safety tier.
    pub fn tier(&self) -> Tier {
        self.descriptor().tier
    }

    /// The node the call targets, if any.
    pub fn node(&self) -> Option<&NodeName> {
        use ToolCall::*;
        match self {
            GetClusterStatus
            | GetVms
            | GetContainers
            | GetStorage
            | GetClusterResources { .. }
            | GetAutonomyActions { .. }
            | GetIncidents { .. }
            | SearchMemory { .. } => None,
            GetRecentTasks { node, .. } | GetEvents { node, .. } => node.as_ref(),
            GetNodeStatus { node }
            | GetNodeTemperature { node }
            | GetBackups { node, .. }
            | GetGuestConfig { node, .. }
            | GetTaskStatus { node, .. }
            | ExecuteSsh { node, .. }
            | RestartService { node, .. }
            | WakeNode { node }
            | StartVm { node, .. }
            | StartContainer { node, .. }
            | StopVm { node, .. }
            | ShutdownVm { node, .. }
            | RestartVm { node, .. }
            | StopContainer { node, .. }
            | ShutdownContainer { node, .. }
            | RestartContainer { node, .. }
            | RebootNode { node }
            | ShutdownNode { node } => Some(node),
        }
    }

    /// The guest the call targets, if any. Exhaustive on purpose: a new guest tool must say
    /// which guest it touches, or protected guests would not be protected from it.
    pub fn vmid(&self) -> Option<VmId> {
        use ToolCall::*;
        match self {
            GetGuestConfig { vmid, .. }
            | StartVm { vmid, .. }
            | StartContainer { vmid, .. }
            | StopVm { vmid, .. }
            | ShutdownVm { vmid, .. }
            | RestartVm { vmid, .. }
            | StopContainer { vmid, .. }
            | ShutdownContainer { vmid, .. }
            | RestartContainer { vmid, .. } => Some(*vmid),
            GetClusterStatus
            | GetNodeStatus { .. }
            | GetVms
            | GetContainers
            | GetStorage
            | GetClusterResources { .. }
            | GetNodeTemperature { .. }
            | GetRecentTasks { .. }
            | GetBackups { .. }
            | GetTaskStatus { .. }
            | GetEvents { .. }
            | GetAutonomyActions { .. }
            | GetIncidents { .. }
            | SearchMemory { .. }
            | ExecuteSsh { .. }
            | RestartService { .. }
            | WakeNode { .. }
            | RebootNode { .. }
            | ShutdownNode { .. } => None,
        }
    }

    /// The service the call targets, if any.
    pub fn service(&self) -> Option<&ServiceName> {
        match self {
            ToolCall::RestartService { service, .. } => Some(service),
            _ => None,
        }
    }

    /// One line for a confirmation dialog or audit view, e.g.
    /// "Stop VM 101 on node pve1 (hard power-off)".
    pub fn summary(&self) -> String {
        use ToolCall::*;
        match self {
            GetClusterStatus => "Read the cluster status".into(),
            GetNodeStatus { node } => format!("Read the status of node {node}"),
            GetVms => "List VMs".into(),
            GetContainers => "List containers".into(),
            GetStorage => "List storage".into(),
            GetClusterResources { resource_type } => match resource_type {
                Some(t) => format!("List cluster resources of type {}", resource_type_str(*t)),
                None => "List cluster resources".into(),
            },
            GetNodeTemperature { node } => format!("Read temperatures of node {node}"),
            GetRecentTasks { limit, node: Some(node) } => {
                format!("List the last {limit} tasks on node {node}")
            }
            GetRecentTasks { limit, node: None } => format!("List the last {limit} tasks"),
            GetBackups { node, storage } => format!(
                "List backups on node {node} (storage {})",
                storage.as_ref().map_or("local", |s| s.as_str())
            ),
            GetGuestConfig { node, vmid } => format!("Read the config of guest {vmid} on {node}"),
            GetTaskStatus { node, .. } => format!("Read a task's status on node {node}"),
            GetEvents { limit, .. } => format!("List up to {limit} events"),
            GetAutonomyActions { .. } => "List autonomous actions".into(),
            GetIncidents { state: None } => "List unresolved incidents".into(),
            GetIncidents { state: Some(s) } => format!("List {s} incidents"),
            SearchMemory { query } => format!("Search memory for \"{}\"", printable(query, 80)),
            ExecuteSsh { node, command, .. } => {
                format!("Run `{}` on {node}", printable(command, 200))
            }
            RestartService { node, service } => {
                format!("Restart service {service} on node {node}")
            }
            WakeNode { node } => format!("Wake node {node} (Wake-on-LAN)"),
            StartVm { node, vmid } => format!("Start VM {vmid} on node {node}"),
            StartContainer { node, vmid } => format!("Start container {vmid} on node {node}"),
            StopVm { node, vmid } => format!("Stop VM {vmid} on node {node} (hard power-off)"),
            ShutdownVm { node, vmid } => {
                format!("Shut down VM {vmid} on node {node} (clean shutdown)")
            }
            RestartVm { node, vmid } => format!("Reboot VM {vmid} on node {node}"),
            StopContainer { node, vmid } => {
                format!("Stop container {vmid} on node {node} (hard stop)")
            }
            ShutdownContainer { node, vmid } => {
                format!("Shut down container {vmid} on node {node} (clean shutdown)")
            }
            RestartContainer { node, vmid } => format!("Reboot container {vmid} on node {node}"),
            RebootNode { node } => format!("Reboot node {node}"),
            ShutdownNode { node } => format!("Shut down node {node} (power off)"),
        }
    }
}

fn resource_type_str(t: ResourceType) -> &'static str {
    match t {
        ResourceType::Vm => "vm",
        ResourceType::Storage => "storage",
        ResourceType::Node => "node",
    }
}

/// Text for a dialog: control characters escaped (so a newline cannot fake a second line of the
/// summary) and cut to `max` characters.
fn printable(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The normalised arguments of a call as JSON: camelCase, defaults filled in, absent optionals
/// omitted, timestamps as RFC 3339 UTC. Parsing this again yields the same call, so it is what a
/// confirmation stores and what the executor runs.
///
/// Names are kept exactly as given: PVE node names and systemd unit names are case-sensitive, so
/// lower-casing them would change what runs.
pub fn canonical_args(call: &ToolCall) -> Value {
    use ToolCall::*;
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    match call {
        GetClusterStatus | GetVms | GetContainers | GetStorage => {}
        GetClusterResources { resource_type } => {
            if let Some(t) = resource_type {
                put("type", json!(t));
            }
        }
        GetRecentTasks { limit, node } => {
            put("limit", json!(limit));
            if let Some(n) = node {
                put("node", json!(n));
            }
        }
        GetBackups { node, storage } => {
            put("node", json!(node));
            if let Some(s) = storage {
                put("storage", json!(s));
            }
        }
        GetTaskStatus { node, upid } => {
            put("node", json!(node));
            put("upid", json!(upid));
        }
        GetEvents { limit, kind, severity, node, since } => {
            put("limit", json!(limit));
            if let Some(k) = kind {
                put("type", json!(k));
            }
            if let Some(s) = severity {
                put("severity", json!(s));
            }
            if let Some(n) = node {
                put("node", json!(n));
            }
            if let Some(t) = since {
                put("since", json!(Since::format(t)));
            }
        }
        GetAutonomyActions { since } => {
            if let Some(t) = since {
                put("since", json!(Since::format(t)));
            }
        }
        GetIncidents { state } => {
            if let Some(s) = state {
                put("state", json!(s));
            }
        }
        SearchMemory { query } => put("query", json!(query)),
        ExecuteSsh { node, command, timeout_seconds } => {
            put("node", json!(node));
            put("command", json!(command));
            put("timeoutSeconds", json!(timeout_seconds));
        }
        RestartService { node, service } => {
            put("node", json!(node));
            put("service", json!(service));
        }
        GetNodeStatus { node }
        | GetNodeTemperature { node }
        | WakeNode { node }
        | RebootNode { node }
        | ShutdownNode { node } => put("node", json!(node)),
        GetGuestConfig { node, vmid }
        | StartVm { node, vmid }
        | StartContainer { node, vmid }
        | StopVm { node, vmid }
        | ShutdownVm { node, vmid }
        | RestartVm { node, vmid }
        | StopContainer { node, vmid }
        | ShutdownContainer { node, vmid }
        | RestartContainer { node, vmid } => {
            put("node", json!(node));
            put("vmid", json!(vmid));
        }
    }
    Value::Object(m)
}

/// Deterministic JSON text: no whitespace, object keys sorted (by bytes) at every depth. Does not
/// depend on serde_json's map order, which another crate's `preserve_order` feature could change.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        // Scalars: serde_json's own rendering (string escaping, number formatting).
        scalar => {
            let _ = write!(out, "{scalar}");
        }
    }
}

/// Hex SHA-256 of `tool`, a newline and [`canonical_json`] of `canonical` — the value a
/// confirmation stores so that approving it can only ever run exactly these arguments.
pub fn args_digest(tool: &str, canonical: &Value) -> String {
    let mut h = Sha256::new();
    h.update(tool.as_bytes());
    h.update(b"\n");
    h.update(canonical_json(canonical).as_bytes());
    hex::encode(h.finalize())
}
