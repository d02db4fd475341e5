//! The cluster model: nodes, guests (VMs and containers), storage and quorum, as the dashboard,
//! the chat context, the monitor and the REST snapshot all see them.
//!
//! These are the wire shapes of `GET /api/cluster` and the `/cluster` Socket.IO events
//! (docs/protocol.md), shared with the web UI through generated TypeScript types. They are
//! *normalised*: the PVE client maps PVE's loosely typed payloads (0/1 booleans, numbers as
//! strings, missing fields) into these strict types, so nothing downstream has to be tolerant.
//!
//! Units: `cpu` is a fraction of `maxcpu` cores (0..1), memory and disk are bytes, uptime is
//! seconds, temperatures are degrees Celsius.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// Whether a node answers the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum NodeStatus {
    /// Part of the cluster and answering.
    Online,
    /// Known to the cluster but not answering.
    Offline,
    /// PVE did not say (for example a node entry without a status field).
    Unknown,
}

impl NodeStatus {
    /// Maps PVE's `status` string of a `/cluster/resources` node entry.
    pub fn from_pve(status: &str) -> Self {
        match status {
            "online" => Self::Online,
            "offline" => Self::Offline,
            _ => Self::Unknown,
        }
    }
}

/// A cluster node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Node {
    /// The node name as PVE knows it (case preserved: `Home` is not `home`).
    pub name: String,
    /// Online, offline or unknown.
    pub status: NodeStatus,
    /// Cluster network address, discovered from `/cluster/status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ip: Option<String>,
    /// CPU load as a fraction of all cores (0..1).
    pub cpu: f64,
    /// Number of logical CPUs.
    pub maxcpu: u32,
    /// Used memory in bytes.
    #[ts(type = "number")]
    pub mem: u64,
    /// Total memory in bytes.
    #[ts(type = "number")]
    pub maxmem: u64,
    /// Used root filesystem in bytes.
    #[ts(type = "number")]
    pub disk: u64,
    /// Size of the root filesystem in bytes.
    #[ts(type = "number")]
    pub maxdisk: u64,
    /// Seconds since boot (0 when offline).
    #[ts(type = "number")]
    pub uptime: u64,
    /// Per-sensor temperatures in °C, when SSH temperature polling has read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub temperatures: Option<BTreeMap<String, f64>>,
}

/// QEMU virtual machine or LXC container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum GuestType {
    /// A QEMU/KVM virtual machine.
    Qemu,
    /// An LXC container.
    Lxc,
}

impl GuestType {
    /// The PVE path segment and resource type (`qemu` or `lxc`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qemu => "qemu",
            Self::Lxc => "lxc",
        }
    }
}

/// Run state of a guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum GuestStatus {
    /// Running.
    Running,
    /// Stopped.
    Stopped,
    /// Paused (QEMU `qmpstatus` paused or suspended).
    Paused,
    /// Anything PVE reports that we do not model.
    Unknown,
}

impl GuestStatus {
    /// The wire word (`running`, `stopped`, `paused`, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Stopped => "stopped",
            Self::Paused => "paused",
            Self::Unknown => "unknown",
        }
    }

    /// Maps PVE's `status` (and, when present, QEMU's finer `qmpstatus`).
    pub fn from_pve(status: &str, qmpstatus: Option<&str>) -> Self {
        match (status, qmpstatus) {
            ("running", Some("paused" | "suspended" | "prelaunch")) => Self::Paused,
            ("running", _) => Self::Running,
            ("stopped", _) => Self::Stopped,
            ("paused" | "suspended", _) => Self::Paused,
            _ => Self::Unknown,
        }
    }
}

/// A guest: QEMU VM or LXC container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Vm {
    /// Cluster-wide guest id.
    pub vmid: u32,
    /// Guest name (may be empty in PVE; we fall back to `VM <vmid>` / `CT <vmid>`).
    pub name: String,
    /// VM or container.
    #[serde(rename = "type")]
    pub kind: GuestType,
    /// Node the guest lives on.
    pub node: String,
    /// Run state.
    pub status: GuestStatus,
    /// CPU load as a fraction of the guest's cores (0..1).
    pub cpu: f64,
    /// Assigned cores.
    pub maxcpu: u32,
    /// Used memory in bytes.
    #[ts(type = "number")]
    pub mem: u64,
    /// Assigned memory in bytes.
    #[ts(type = "number")]
    pub maxmem: u64,
    /// Used disk in bytes (PVE reports 0 for most VM disks).
    #[ts(type = "number")]
    pub disk: u64,
    /// Disk size in bytes.
    #[ts(type = "number")]
    pub maxdisk: u64,
    /// Seconds since the guest started (0 when stopped).
    #[ts(type = "number")]
    pub uptime: u64,
    /// True for templates, which never run.
    pub template: bool,
    /// PVE tags, split.
    pub tags: Vec<String>,
    /// Config lock PVE reports while an operation owns the guest (`backup`, `migrate`,
    /// `snapshot`, …); power actions fail while it is set. Absent when unlocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub lock: Option<String>,
}

/// A storage pool as seen from one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Storage {
    /// Storage id (`local`, `local-lvm`, `ceph-pool`, …).
    pub storage: String,
    /// Node this entry is reported by.
    pub node: String,
    /// Plugin type (`dir`, `lvmthin`, `zfspool`, `rbd`, `nfs`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// `available`, `unknown`, … as PVE reports.
    pub status: String,
    /// Size in bytes.
    #[ts(type = "number")]
    pub total: u64,
    /// Used bytes.
    #[ts(type = "number")]
    pub used: u64,
    /// Free bytes.
    #[ts(type = "number")]
    pub avail: u64,
    /// Content types (`images`, `rootdir`, `backup`, `iso`, …).
    pub content: Vec<String>,
    /// Shared between nodes (one pool, reported by each node).
    pub shared: bool,
}

/// Cluster quorum.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Quorum {
    /// Whether the cluster has quorum.
    pub quorate: bool,
    /// Nodes online.
    pub nodes: u32,
    /// Nodes in the cluster.
    pub expected: u32,
    /// Cluster name; absent for a single standalone node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub cluster_name: Option<String>,
}

/// Temperatures of one node, as pushed in the `temperature` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TemperatureReading {
    /// Node name.
    pub node: String,
    /// Sensor name → °C.
    pub zones: BTreeMap<String, f64>,
}

/// How fresh the snapshot is: the staleness marker that lets the UI degrade instead of blanking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Freshness {
    /// When the last successful poll finished; absent before the first one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<DateTime<Utc>>,
    /// True when the last poll failed or is overdue: the data shown is the last good data.
    pub stale: bool,
    /// Why the last poll failed, in words an operator can act on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub error: Option<String>,
    /// The PVE endpoint that answered the last successful poll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub endpoint: Option<String>,
}

/// Everything one poll of the cluster yields: the body of `GET /api/cluster`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ClusterSnapshot {
    /// Nodes, sorted by name.
    pub nodes: Vec<Node>,
    /// VMs and containers, sorted by vmid.
    pub vms: Vec<Vm>,
    /// Storage entries, sorted by (storage, node).
    pub storage: Vec<Storage>,
    /// Quorum.
    pub quorum: Quorum,
    /// When the data was last refreshed successfully (absent before the first poll).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<DateTime<Utc>>,
    /// Staleness marker.
    pub freshness: Freshness,
}

impl ClusterSnapshot {
    /// An empty snapshot: before the first poll.
    pub fn empty() -> Self {
        Self {
            nodes: Vec::new(),
            vms: Vec::new(),
            storage: Vec::new(),
            quorum: Quorum::default(),
            updated_at: None,
            freshness: Freshness { updated_at: None, stale: true, error: None, endpoint: None },
        }
    }

    /// Sorts every list into its canonical order so equal clusters compare equal.
    pub fn normalise(&mut self) {
        self.nodes.sort_by(|a, b| a.name.cmp(&b.name));
        self.vms.sort_by_key(|v| v.vmid);
        self.storage.sort_by(|a, b| (&a.storage, &a.node).cmp(&(&b.storage, &b.node)));
    }

    /// Which sections differ from `previous`: what a push to the dashboard must resend.
    pub fn changes_since(&self, previous: &ClusterSnapshot) -> Changes {
        Changes {
            nodes: self.nodes != previous.nodes,
            vms: self.vms != previous.vms,
            storage: self.storage != previous.storage,
            quorum: self.quorum != previous.quorum,
            freshness: self.freshness != previous.freshness,
        }
    }

    /// The node with this exact name.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The guest with this vmid.
    pub fn vm(&self, vmid: u32) -> Option<&Vm> {
        self.vms.iter().find(|v| v.vmid == vmid)
    }
}

/// Which sections of a snapshot changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Changes {
    /// The node list or any node's values.
    pub nodes: bool,
    /// Any guest.
    pub vms: bool,
    /// Any storage entry.
    pub storage: bool,
    /// Quorum.
    pub quorum: bool,
    /// The staleness marker.
    pub freshness: bool,
}

impl Changes {
    /// True when anything changed.
    pub fn any(&self) -> bool {
        self.nodes || self.vms || self.storage || self.quorum || self.freshness
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, cpu: f64) -> Node {
        Node {
            name: name.into(),
            status: NodeStatus::Online,
            ip: None,
            cpu,
            maxcpu: 4,
            mem: 1,
            maxmem: 2,
            disk: 1,
            maxdisk: 2,
            uptime: 10,
            temperatures: None,
        }
    }

    #[test]
    fn guest_status_uses_qmpstatus_for_paused_vms() {
        assert_eq!(GuestStatus::from_pve("running", Some("paused")), GuestStatus::Paused);
        assert_eq!(GuestStatus::from_pve("running", Some("running")), GuestStatus::Running);
        assert_eq!(GuestStatus::from_pve("running", None), GuestStatus::Running);
        assert_eq!(GuestStatus::from_pve("stopped", None), GuestStatus::Stopped);
        assert_eq!(GuestStatus::from_pve("weird", None), GuestStatus::Unknown);
    }

    #[test]
    fn changes_detects_only_changed_sections() {
        let mut a = ClusterSnapshot::empty();
        a.nodes = vec![node("pve1", 0.1)];
        let mut b = a.clone();
        assert!(!b.changes_since(&a).any());
        b.nodes[0].cpu = 0.2;
        let c = b.changes_since(&a);
        assert!(c.nodes && !c.vms && !c.storage && !c.quorum && !c.freshness);
    }

    #[test]
    fn normalise_makes_order_irrelevant() {
        let mut a = ClusterSnapshot::empty();
        a.nodes = vec![node("b", 0.1), node("a", 0.1)];
        let mut b = ClusterSnapshot::empty();
        b.nodes = vec![node("a", 0.1), node("b", 0.1)];
        a.normalise();
        b.normalise();
        assert_eq!(a, b);
        assert_eq!(a.node("b").map(|n| n.name.as_str()), Some("b"));
    }

    #[test]
    fn wire_shape_is_camel_case_with_type_field() {
        let vm = Vm {
            vmid: 101,
            name: "web".into(),
            kind: GuestType::Lxc,
            node: "pve1".into(),
            status: GuestStatus::Running,
            cpu: 0.5,
            maxcpu: 2,
            mem: 1,
            maxmem: 2,
            disk: 0,
            maxdisk: 3,
            uptime: 4,
            template: false,
            tags: vec!["a".into()],
            lock: None,
        };
        let v = serde_json::to_value(&vm).unwrap();
        assert_eq!(v["type"], "lxc");
        assert_eq!(v["status"], "running");
        assert!(v.get("kind").is_none());
        assert!(v.get("lock").is_none(), "an unlocked guest has no lock key");
        let locked = Vm { lock: Some("backup".into()), ..vm.clone() };
        let v = serde_json::to_value(&locked).unwrap();
        assert_eq!(v["lock"], "backup");
        assert_eq!(serde_json::from_value::<Vm>(v).unwrap(), locked);
        let q = serde_json::to_value(Quorum {
            quorate: true,
            nodes: 3,
            expected: 4,
            cluster_name: Some("c".into()),
        })
        .unwrap();
        assert_eq!(q["clusterName"], "c");
    }
}
