//! Tools that read one node from PVE or over SSH: its status, temperatures, recent tasks,
//! backups and the status of one task. All GREEN.

use schemars::JsonSchema;
use serde::Deserialize;
#[cfg(test)]
use serde_json::json;

use crate::ids::{NodeName, StorageId};
use crate::tools::args::{Limit, NodeArgs, Upid};
use crate::tools::{Tier, ToolCall, ToolDef};

/// Default `limit` of `get_recent_tasks`.
pub const DEFAULT_TASK_LIMIT: u32 = 20;

#[cfg(test)]
fn node(name: &str) -> NodeName {
    serde_json::from_value(json!(name)).expect("valid node name")
}

/// `get_node_status`: CPU, memory, disk, load, versions of one node.
pub(crate) struct GetNodeStatus;

impl ToolDef for GetNodeStatus {
    const NAME: &'static str = "get_node_status";
    const TIER: Tier = Tier::Green;
    const MUTATING: bool = false;
    const DESCRIPTION: &'static str = concat!(
        "Detailed status of one node: CPU, memory, root disk, load, uptime, kernel and PVE \
         version. Use for questions about a specific node.",
        data_note!()
    );
    type Args = NodeArgs;
    fn call(a: NodeArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::GetNodeStatus { node: a.node })
    }
}

#[test]
fn get_node_status() {
    let call = super::check::<GetNodeStatus>(
        json!({"node": "pve1"}),
        ToolCall::GetNodeStatus { node: node("pve1") },
    );
    assert_eq!(call.summary(), "Read the status of node pve1");
    let message = super::refusal::<GetNodeStatus>(json!({"node": "pve 1"}));
    assert!(message.contains("node: must be a host name"), "{message}");
}

/// `get_node_temperature`: the node's sensors, read over SSH.
pub(crate) struct GetNodeTemperature;

impl ToolDef for GetNodeTemperature {
    const NAME: &'static str = "get_node_temperature";
    const TIER: Tier = Tier::Green;
    const MUTATING: bool = false;
    const DESCRIPTION: &'static str = "Current temperature of every sensor on a node (CPU \
        package and cores, NVMe, ACPI), in degrees Celsius. Empty when the node exposes no \
        sensors (e.g. a VM).";
    type Args = NodeArgs;
    fn call(a: NodeArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::GetNodeTemperature { node: a.node })
    }
}

#[test]
fn get_node_temperature() {
    let call = super::check::<GetNodeTemperature>(
        json!({"node": "pve2"}),
        ToolCall::GetNodeTemperature { node: node("pve2") },
    );
    assert_eq!(call.summary(), "Read temperatures of node pve2");
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

/// `get_recent_tasks`: PVE tasks, newest first.
pub(crate) struct GetRecentTasks;

impl ToolDef for GetRecentTasks {
    const NAME: &'static str = "get_recent_tasks";
    const TIER: Tier = Tier::Green;
    const MUTATING: bool = false;
    const DESCRIPTION: &'static str = concat!(
        "Recent PVE tasks (starts, stops, backups, migrations) with status, newest first; \
         optionally for one node. Use to see what happened recently or whether a task failed.",
        data_note!()
    );
    type Args = RecentTasksArgs;
    fn call(a: RecentTasksArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::GetRecentTasks {
            limit: a.limit.map_or(DEFAULT_TASK_LIMIT, |l| l.0),
            node: a.node,
        })
    }
}

#[test]
fn get_recent_tasks() {
    let call = super::check::<GetRecentTasks>(
        json!({"limit": 5, "node": "pve1"}),
        ToolCall::GetRecentTasks { limit: 5, node: Some(node("pve1")) },
    );
    assert_eq!(call.summary(), "List the last 5 tasks on node pve1");
    let default = super::check::<GetRecentTasks>(
        json!({}),
        ToolCall::GetRecentTasks { limit: 20, node: None },
    );
    assert_eq!(default.summary(), "List the last 20 tasks");
    assert!(super::refusal::<GetRecentTasks>(json!({"limit": 501})).contains("limit"));
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

/// `get_backups`: backup archives on a node's storage.
pub(crate) struct GetBackups;

impl ToolDef for GetBackups {
    const NAME: &'static str = "get_backups";
    const TIER: Tier = Tier::Green;
    const MUTATING: bool = false;
    const DESCRIPTION: &'static str = concat!(
        "Backup archives on a node's storage (default storage: local) with size and date.",
        data_note!()
    );
    type Args = BackupsArgs;
    fn call(a: BackupsArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::GetBackups { node: a.node, storage: a.storage })
    }
}

#[test]
fn get_backups() {
    let storage: StorageId = serde_json::from_value(json!("nfs-backup")).expect("storage id");
    let call = super::check::<GetBackups>(
        json!({"node": "pve1", "storage": "nfs-backup"}),
        ToolCall::GetBackups { node: node("pve1"), storage: Some(storage) },
    );
    assert_eq!(call.summary(), "List backups on node pve1 (storage nfs-backup)");
    let local = super::check::<GetBackups>(
        json!({"node": "pve1"}),
        ToolCall::GetBackups { node: node("pve1"), storage: None },
    );
    assert_eq!(local.summary(), "List backups on node pve1 (storage local)");
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

/// `get_task_status`: one PVE task by UPID.
pub(crate) struct GetTaskStatus;

impl ToolDef for GetTaskStatus {
    const NAME: &'static str = "get_task_status";
    const TIER: Tier = Tier::Green;
    const MUTATING: bool = false;
    const DESCRIPTION: &'static str = concat!(
        "Status and exit status of one PVE task by its UPID (as returned by a start/stop \
         tool or get_recent_tasks).",
        data_note!()
    );
    type Args = TaskStatusArgs;
    fn call(a: TaskStatusArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::GetTaskStatus { node: a.node, upid: a.upid.0 })
    }
}

#[test]
fn get_task_status() {
    let upid = "UPID:pve1:0000A1B2:0012D687:65A1B2C3:qmstart:101:root@pam:";
    let call = super::check::<GetTaskStatus>(
        json!({"node": "pve1", "upid": upid}),
        ToolCall::GetTaskStatus { node: node("pve1"), upid: upid.into() },
    );
    assert_eq!(call.summary(), "Read a task's status on node pve1");
    let message = super::refusal::<GetTaskStatus>(json!({"node": "pve1", "upid": "UPID:a/b"}));
    assert!(message.contains("upid: must be a PVE task id"), "{message}");
}
