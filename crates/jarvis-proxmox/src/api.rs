//! The IO boundary the server talks to, as two capability traits: [`ProxmoxApi`] for reads
//! (`Arc<dyn ProxmoxApi>`, held by whatever needs PVE data) and [`ProxmoxActions`] for changes
//! (held only by the tool pipeline). [`crate::PveClient`] implements both; plus the small
//! argument types of their methods.

use std::time::Duration;

use async_trait::async_trait;
use jarvis_domain::cluster::GuestType;

use crate::endpoints::EndpointHealth;
use crate::error::PveError;
use crate::models::{
    ClusterResource, ClusterStatusEntry, GuestCurrent, NodeListEntry, NodeStatusInfo, NodeStorage,
    RrdPoint, Version,
};
use crate::task::{TaskListEntry, TaskStatus};
use crate::upid::Upid;

/// The `type` filter of `GET /cluster/resources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// QEMU VMs and LXC containers.
    Vm,
    /// Storage entries.
    Storage,
    /// Nodes.
    Node,
    /// SDN zones and vnets.
    Sdn,
}

impl ResourceKind {
    /// The query value PVE expects.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vm => "vm",
            Self::Storage => "storage",
            Self::Node => "node",
            Self::Sdn => "sdn",
        }
    }
}

/// The window of an RRD query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timeframe {
    /// Last hour (one sample a minute).
    Hour,
    /// Last day.
    Day,
    /// Last week.
    Week,
    /// Last month.
    Month,
    /// Last year.
    Year,
}

impl Timeframe {
    /// The query value PVE expects.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Year => "year",
        }
    }
}

/// RRD consolidation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Consolidation {
    /// Average over each step (what the PVE GUI shows).
    #[default]
    Average,
    /// Maximum over each step.
    Max,
}

impl Consolidation {
    /// The query value PVE expects.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Average => "AVERAGE",
            Self::Max => "MAX",
        }
    }
}

/// A power action on a guest. Each starts a PVE task and returns its UPID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuestAction {
    /// Start.
    Start,
    /// Hard stop (like pulling the plug).
    Stop,
    /// Clean shutdown through ACPI / the container's init.
    Shutdown,
    /// Clean reboot.
    Reboot,
}

impl GuestAction {
    /// The `status/<action>` path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Shutdown => "shutdown",
            Self::Reboot => "reboot",
        }
    }
}

/// Everything Jarvis *reads* from PVE. Node names are case-preserved and passed through exactly.
///
/// Reading is harmless, so every component that needs PVE data (the poller, health, history,
/// the pipeline's read tools) holds an `Arc<dyn ProxmoxApi>`. Changing anything is the separate
/// [`ProxmoxActions`] trait, which only the tool pipeline holds.
#[async_trait]
pub trait ProxmoxApi: Send + Sync {
    /// `GET /version`.
    async fn version(&self) -> Result<Version, PveError>;

    /// `GET /cluster/status`: the cluster entry (quorum, name) and one entry per node (IP,
    /// online). A real client also learns node IPs from it as failover endpoints.
    async fn cluster_status(&self) -> Result<Vec<ClusterStatusEntry>, PveError>;

    /// `GET /cluster/resources[?type=…]`: nodes, guests and storage in one call. Entries that
    /// do not parse are skipped, never failing the list.
    async fn cluster_resources(
        &self,
        kind: Option<ResourceKind>,
    ) -> Result<Vec<ClusterResource>, PveError>;

    /// `GET /nodes`.
    async fn nodes(&self) -> Result<Vec<NodeListEntry>, PveError>;

    /// `GET /nodes/{node}/status`.
    async fn node_status(&self, node: &str) -> Result<NodeStatusInfo, PveError>;

    /// `GET /nodes/{node}/rrddata?timeframe=…&cf=…`.
    async fn node_rrddata(
        &self,
        node: &str,
        timeframe: Timeframe,
        cf: Consolidation,
    ) -> Result<Vec<RrdPoint>, PveError>;

    /// `GET /nodes/{node}/storage`.
    async fn node_storage(&self, node: &str) -> Result<Vec<NodeStorage>, PveError>;

    /// `GET /nodes/{node}/{qemu|lxc}/{vmid}/status/current`.
    async fn guest_status(
        &self,
        node: &str,
        kind: GuestType,
        vmid: u32,
    ) -> Result<GuestCurrent, PveError>;

    /// `GET /nodes/{node}/{qemu|lxc}/{vmid}/config`, as PVE sent it.
    async fn guest_config(
        &self,
        node: &str,
        kind: GuestType,
        vmid: u32,
    ) -> Result<serde_json::Value, PveError>;

    /// `GET /nodes/{upid.node}/tasks/{upid}/status`: polled on the node inside the UPID.
    async fn task_status(&self, upid: &Upid) -> Result<TaskStatus, PveError>;

    /// Polls [`ProxmoxApi::task_status`] every `poll_interval` until the task stops.
    /// Returns the final status when it succeeded (`OK`, or `WARNINGS: n` as PVE counts it),
    /// [`PveError::TaskFailed`] with PVE's exit status otherwise, and [`PveError::TaskTimeout`]
    /// after `timeout`. Retryable errors while polling (a node failing over) are retried
    /// until the deadline.
    async fn wait_for_task(
        &self,
        upid: &Upid,
        timeout: Duration,
        poll_interval: Duration,
    ) -> Result<TaskStatus, PveError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let poll_interval = poll_interval.max(Duration::from_millis(10));
        loop {
            match self.task_status(upid).await {
                Ok(status) => match status.succeeded() {
                    Some(true) => return Ok(status),
                    Some(false) => {
                        return Err(PveError::TaskFailed {
                            upid: upid.to_string(),
                            exitstatus: status
                                .exitstatus
                                .unwrap_or_else(|| "stopped without an exit status".into()),
                        });
                    }
                    None => {}
                },
                Err(e) if e.is_retryable() => {
                    tracing::debug!(upid = %upid, error = %e, "task status poll failed; retrying");
                }
                Err(e) => return Err(e),
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(PveError::TaskTimeout { upid: upid.to_string() });
            }
            tokio::time::sleep(poll_interval.min(deadline - now)).await;
        }
    }

    /// Recent tasks, newest first: `GET /nodes/{node}/tasks?limit=…` for one node, or
    /// `GET /cluster/tasks` (cut to `limit`) for the whole cluster.
    async fn recent_tasks(
        &self,
        node: Option<&str>,
        limit: u32,
    ) -> Result<Vec<TaskListEntry>, PveError>;

    /// `GET /nodes/{node}/storage/{storage}/content[?content=…]`: volumes on a storage,
    /// e.g. the backups (`content = Some("backup")`).
    async fn storage_content(
        &self,
        node: &str,
        storage: &str,
        content: Option<&str>,
    ) -> Result<Vec<crate::StorageContent>, PveError>;

    /// The endpoint that answered last (`None` before the first answer).
    fn current_endpoint(&self) -> Option<String>;

    /// Health of every endpoint in the failover list.
    fn endpoints(&self) -> Vec<EndpointHealth>;
}

/// Everything Jarvis *changes* in PVE: guest power actions, node power and Wake-on-LAN.
///
/// Kept apart from [`ProxmoxApi`] so that "only the tool pipeline acts on the cluster" is a
/// matter of types: the server hands an `Arc<dyn ProxmoxActions>` to `tools::Pipeline` and to
/// nothing else, so no handler, poller or monitor can mutate the cluster without going through
/// the safety decision, the kill switch and the audit log.
#[async_trait]
pub trait ProxmoxActions: Send + Sync {
    /// `POST /nodes/{node}/{qemu|lxc}/{vmid}/status/{action}` (form-encoded): starts a task.
    async fn guest_action(
        &self,
        node: &str,
        kind: GuestType,
        vmid: u32,
        action: GuestAction,
    ) -> Result<Upid, PveError>;

    /// `POST /nodes/{node}/wakeonlan`: asks PVE to send the magic packet for a powered-off
    /// node (from whichever node answers). Returns the MAC address PVE used.
    async fn wake_on_lan(&self, node: &str) -> Result<String, PveError>;

    /// `POST /nodes/{node}/status` with `command=reboot|shutdown`.
    async fn node_power(&self, node: &str, command: crate::NodePower) -> Result<(), PveError>;
}
