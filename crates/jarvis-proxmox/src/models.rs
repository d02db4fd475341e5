//! Tolerant serde models of the PVE payloads Jarvis reads, with PVE's own field names.
//!
//! These mirror PVE closely ("raw-ish"): every field PVE may omit is an `Option`, numbers and
//! booleans go through [`crate::de`] so any spelling parses, unknown fields are ignored (never
//! `deny_unknown_fields`: every PVE release adds some) and unknown enum values are kept as
//! `Other(..)`. Mapping into the strict domain types happens in [`crate::cluster`].
//! Task models live in [`crate::task`].

use std::collections::BTreeMap;

use jarvis_domain::cluster::GuestStatus;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::de;

/// `GET /version`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Version {
    /// Full pve-manager version, e.g. `8.4-1`.
    #[serde(deserialize_with = "de::opt_string")]
    pub version: Option<String>,
    /// Point release, e.g. `8.4`.
    #[serde(deserialize_with = "de::opt_string")]
    pub release: Option<String>,
    /// Short git revision.
    #[serde(deserialize_with = "de::opt_string")]
    pub repoid: Option<String>,
    /// Default console viewer, when set.
    #[serde(deserialize_with = "de::opt_string")]
    pub console: Option<String>,
}

/// The `type` of a `/cluster/resources` entry. Unknown types are kept, never rejected.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceType {
    /// A cluster node.
    Node,
    /// A QEMU VM.
    Qemu,
    /// An LXC container.
    Lxc,
    /// A storage as seen by one node.
    Storage,
    /// A resource pool.
    Pool,
    /// An SDN zone / vnet.
    Sdn,
    /// A network entity (PVE 9 fabrics and zones).
    Network,
    /// Legacy OpenVZ container.
    Openvz,
    /// Anything else PVE adds later.
    Other(String),
}

impl ResourceType {
    /// Parses PVE's type string.
    pub fn from_pve(s: &str) -> Self {
        match s {
            "node" => Self::Node,
            "qemu" => Self::Qemu,
            "lxc" => Self::Lxc,
            "storage" => Self::Storage,
            "pool" => Self::Pool,
            "sdn" => Self::Sdn,
            "network" => Self::Network,
            "openvz" => Self::Openvz,
            other => Self::Other(other.to_owned()),
        }
    }

    /// PVE's type string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Node => "node",
            Self::Qemu => "qemu",
            Self::Lxc => "lxc",
            Self::Storage => "storage",
            Self::Pool => "pool",
            Self::Sdn => "sdn",
            Self::Network => "network",
            Self::Openvz => "openvz",
            Self::Other(s) => s,
        }
    }
}

impl Default for ResourceType {
    fn default() -> Self {
        Self::Other(String::new())
    }
}

impl Serialize for ResourceType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResourceType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(de::opt_string(d)?.map(|s| Self::from_pve(&s)).unwrap_or_default())
    }
}

/// One entry of `GET /cluster/resources`: a node, guest, storage, pool or SDN object.
/// Which fields are present depends on the type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterResource {
    /// Resource id: `node/pve1`, `qemu/100`, `storage/pve1/local`, …
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// Resource type.
    #[serde(rename = "type")]
    pub kind: ResourceType,
    /// Node name (nodes, guests, storage).
    #[serde(deserialize_with = "de::opt_string")]
    pub node: Option<String>,
    /// Guest id (qemu, lxc).
    #[serde(deserialize_with = "de::opt_u32")]
    pub vmid: Option<u32>,
    /// Guest name (or other resource name).
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// Type-dependent status: `online`, `running`, `stopped`, `available`, …
    #[serde(deserialize_with = "de::opt_string")]
    pub status: Option<String>,
    /// QEMU's finer run state, when present.
    #[serde(deserialize_with = "de::opt_string")]
    pub qmpstatus: Option<String>,
    /// CPU load as a fraction of `maxcpu`.
    #[serde(deserialize_with = "de::opt_f64")]
    pub cpu: Option<f64>,
    /// Number of CPUs (PVE types this as a number; it can be fractional for cpulimit).
    #[serde(deserialize_with = "de::opt_f64")]
    pub maxcpu: Option<f64>,
    /// Used memory, bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub mem: Option<u64>,
    /// Memory size, bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub maxmem: Option<u64>,
    /// Used disk (storage: used bytes; guests: root image usage), bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub disk: Option<u64>,
    /// Disk size (storage: size; guests: root image size), bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub maxdisk: Option<u64>,
    /// Seconds since boot / start.
    #[serde(deserialize_with = "de::opt_u64")]
    pub uptime: Option<u64>,
    /// Guest is a template.
    #[serde(deserialize_with = "de::opt_bool")]
    pub template: Option<bool>,
    /// Raw tag string (`a;b`); see [`ClusterResource::tag_list`].
    #[serde(deserialize_with = "de::opt_string")]
    pub tags: Option<String>,
    /// Storage id (storage entries).
    #[serde(deserialize_with = "de::opt_string")]
    pub storage: Option<String>,
    /// Storage plugin type (`dir`, `zfspool`, `rbd`, …), or another more specific type.
    #[serde(deserialize_with = "de::opt_string")]
    pub plugintype: Option<String>,
    /// Comma-separated storage content types.
    #[serde(deserialize_with = "de::opt_string")]
    pub content: Option<String>,
    /// Storage is shared between nodes.
    #[serde(deserialize_with = "de::opt_bool")]
    pub shared: Option<bool>,
    /// HA state for HA-managed guests.
    #[serde(deserialize_with = "de::opt_string")]
    pub hastate: Option<String>,
    /// Pool name.
    #[serde(deserialize_with = "de::opt_string")]
    pub pool: Option<String>,
    /// Guest config lock (`backup`, `migrate`, …).
    #[serde(deserialize_with = "de::opt_string")]
    pub lock: Option<String>,
    /// Node subscription level.
    #[serde(deserialize_with = "de::opt_string")]
    pub level: Option<String>,
    /// Node cgroup mode.
    #[serde(rename = "cgroup-mode", deserialize_with = "de::opt_u64")]
    pub cgroup_mode: Option<u64>,
    /// Guest network bytes in since start.
    #[serde(deserialize_with = "de::opt_u64")]
    pub netin: Option<u64>,
    /// Guest network bytes out since start.
    #[serde(deserialize_with = "de::opt_u64")]
    pub netout: Option<u64>,
    /// Guest disk bytes read since start.
    #[serde(deserialize_with = "de::opt_u64")]
    pub diskread: Option<u64>,
    /// Guest disk bytes written since start.
    #[serde(deserialize_with = "de::opt_u64")]
    pub diskwrite: Option<u64>,
    /// SDN entity name.
    #[serde(deserialize_with = "de::opt_string")]
    pub sdn: Option<String>,
}

impl ClusterResource {
    /// Tags split on `;`, `,` and whitespace.
    pub fn tag_list(&self) -> Vec<String> {
        self.tags.as_deref().map(de::split_tags).unwrap_or_default()
    }

    /// Storage content types split on `,`.
    pub fn content_list(&self) -> Vec<String> {
        self.content.as_deref().map(de::split_list).unwrap_or_default()
    }

    /// The part of `id` after the type prefix (`qemu/100` → `100`).
    pub fn id_suffix(&self) -> Option<&str> {
        self.id.as_deref().and_then(|id| id.split_once('/')).map(|(_, rest)| rest)
    }
}

/// One entry of `GET /cluster/status`: either the cluster itself or a node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterStatusEntry {
    /// `cluster` or `node`.
    #[serde(rename = "type", deserialize_with = "de::opt_string")]
    pub kind: Option<String>,
    /// `cluster` or `node/<name>`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// Cluster name or node name.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// (cluster) The cluster has quorum.
    #[serde(deserialize_with = "de::opt_bool")]
    pub quorate: Option<bool>,
    /// (cluster) Node count, offline nodes included.
    #[serde(deserialize_with = "de::opt_u32")]
    pub nodes: Option<u32>,
    /// (cluster) corosync config version.
    #[serde(deserialize_with = "de::opt_u64")]
    pub version: Option<u64>,
    /// (node) corosync node id.
    #[serde(deserialize_with = "de::opt_u64")]
    pub nodeid: Option<u64>,
    /// (node) The node's cluster IP.
    #[serde(deserialize_with = "de::opt_string")]
    pub ip: Option<String>,
    /// (node) Online.
    #[serde(deserialize_with = "de::opt_bool")]
    pub online: Option<bool>,
    /// (node) The node that answered this request.
    #[serde(deserialize_with = "de::opt_bool")]
    pub local: Option<bool>,
    /// (node) Subscription level.
    #[serde(deserialize_with = "de::opt_string")]
    pub level: Option<String>,
}

impl ClusterStatusEntry {
    /// The `type=cluster` entry.
    pub fn is_cluster(&self) -> bool {
        self.kind.as_deref() == Some("cluster")
    }
    /// A `type=node` entry.
    pub fn is_node(&self) -> bool {
        self.kind.as_deref() == Some("node")
    }
}

/// One entry of `GET /nodes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeListEntry {
    /// Node name.
    #[serde(deserialize_with = "de::opt_string")]
    pub node: Option<String>,
    /// `online`, `offline` or `unknown`.
    #[serde(deserialize_with = "de::opt_string")]
    pub status: Option<String>,
    /// CPU load fraction.
    #[serde(deserialize_with = "de::opt_f64")]
    pub cpu: Option<f64>,
    /// Logical CPUs.
    #[serde(deserialize_with = "de::opt_f64")]
    pub maxcpu: Option<f64>,
    /// Used memory, bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub mem: Option<u64>,
    /// Total memory, bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub maxmem: Option<u64>,
    /// Used root fs, bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub disk: Option<u64>,
    /// Root fs size, bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub maxdisk: Option<u64>,
    /// Uptime, seconds.
    #[serde(deserialize_with = "de::opt_u64")]
    pub uptime: Option<u64>,
    /// SHA-256 fingerprint of the node's certificate (`AB:CD:…`): what an operator pins.
    #[serde(deserialize_with = "de::opt_string")]
    pub ssl_fingerprint: Option<String>,
    /// Subscription level.
    #[serde(deserialize_with = "de::opt_string")]
    pub level: Option<String>,
    /// `node/<name>`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
}

/// `used`/`total`/`free` byte counters (memory, swap, root fs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// Used bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub used: Option<u64>,
    /// Total bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub total: Option<u64>,
    /// Free bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub free: Option<u64>,
    /// Available bytes (memory: MemAvailable; root fs: available to non-root).
    #[serde(deserialize_with = "de::opt_u64")]
    pub avail: Option<u64>,
    /// Available memory (newer PVE names it `available`).
    #[serde(deserialize_with = "de::opt_u64")]
    pub available: Option<u64>,
}

/// `cpuinfo` of `/nodes/{node}/status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CpuInfo {
    /// CPU model name.
    #[serde(deserialize_with = "de::opt_string")]
    pub model: Option<String>,
    /// Physical cores.
    #[serde(deserialize_with = "de::opt_u32")]
    pub cores: Option<u32>,
    /// Logical CPUs.
    #[serde(deserialize_with = "de::opt_u32")]
    pub cpus: Option<u32>,
    /// Sockets.
    #[serde(deserialize_with = "de::opt_u32")]
    pub sockets: Option<u32>,
    /// Clock in MHz (PVE sends a string like `"3400.000"`).
    #[serde(deserialize_with = "de::opt_f64")]
    pub mhz: Option<f64>,
    /// Hardware virtualisation available (PVE sends `"1"`).
    #[serde(deserialize_with = "de::opt_bool")]
    pub hvm: Option<bool>,
    /// Kernel clock ticks per second.
    #[serde(deserialize_with = "de::opt_u64")]
    pub user_hz: Option<u64>,
    /// CPU flags, space-separated.
    #[serde(deserialize_with = "de::opt_string")]
    pub flags: Option<String>,
}

/// `GET /nodes/{node}/status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeStatusInfo {
    /// CPU load fraction.
    #[serde(deserialize_with = "de::opt_f64")]
    pub cpu: Option<f64>,
    /// IO wait fraction.
    #[serde(deserialize_with = "de::opt_f64")]
    pub wait: Option<f64>,
    /// Idle fraction.
    #[serde(deserialize_with = "de::opt_f64")]
    pub idle: Option<f64>,
    /// Memory.
    #[serde(deserialize_with = "de::opt_object")]
    pub memory: Option<Usage>,
    /// Swap.
    #[serde(deserialize_with = "de::opt_object")]
    pub swap: Option<Usage>,
    /// Root filesystem.
    #[serde(deserialize_with = "de::opt_object")]
    pub rootfs: Option<Usage>,
    /// Uptime, seconds.
    #[serde(deserialize_with = "de::opt_u64")]
    pub uptime: Option<u64>,
    /// Load averages over 1, 5 and 15 minutes (PVE sends strings).
    #[serde(deserialize_with = "de::vec_f64_lenient")]
    pub loadavg: Vec<f64>,
    /// CPU description.
    #[serde(deserialize_with = "de::opt_object")]
    pub cpuinfo: Option<CpuInfo>,
    /// Kernel version string.
    #[serde(deserialize_with = "de::opt_string")]
    pub kversion: Option<String>,
    /// `pve-manager/8.4-1/761609f7`.
    #[serde(deserialize_with = "de::opt_string")]
    pub pveversion: Option<String>,
    /// Everything else (`ksm`, `boot-info`, `current-kernel`, …), kept as PVE sent it.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// HA state of a guest (`ha` in `status/current`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HaStatus {
    /// The guest is HA-managed.
    #[serde(deserialize_with = "de::opt_bool")]
    pub managed: Option<bool>,
    /// HA state (`started`, `stopped`, …).
    #[serde(deserialize_with = "de::opt_string")]
    pub state: Option<String>,
    /// HA group.
    #[serde(deserialize_with = "de::opt_string")]
    pub group: Option<String>,
}

/// `GET /nodes/{node}/{qemu|lxc}/{vmid}/status/current` (same shape for both, with
/// type-specific extras).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GuestCurrent {
    /// Guest id.
    #[serde(deserialize_with = "de::opt_u32")]
    pub vmid: Option<u32>,
    /// Guest name.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// `running` / `stopped` (process state).
    #[serde(deserialize_with = "de::opt_string")]
    pub status: Option<String>,
    /// QEMU run state (`running`, `paused`, `suspended`, `prelaunch`, …).
    #[serde(deserialize_with = "de::opt_string")]
    pub qmpstatus: Option<String>,
    /// CPU load fraction.
    #[serde(deserialize_with = "de::opt_f64")]
    pub cpu: Option<f64>,
    /// Usable CPUs.
    #[serde(deserialize_with = "de::opt_f64")]
    pub cpus: Option<f64>,
    /// Used memory, bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub mem: Option<u64>,
    /// Memory size, bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub maxmem: Option<u64>,
    /// Used root disk, bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub disk: Option<u64>,
    /// Root disk size, bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub maxdisk: Option<u64>,
    /// (lxc) Used swap, bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub swap: Option<u64>,
    /// (lxc) Swap size, bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub maxswap: Option<u64>,
    /// Seconds since start.
    #[serde(deserialize_with = "de::opt_u64")]
    pub uptime: Option<u64>,
    /// Template.
    #[serde(deserialize_with = "de::opt_bool")]
    pub template: Option<bool>,
    /// Raw tag string.
    #[serde(deserialize_with = "de::opt_string")]
    pub tags: Option<String>,
    /// Config lock.
    #[serde(deserialize_with = "de::opt_string")]
    pub lock: Option<String>,
    /// (qemu) PID of the QEMU process.
    #[serde(deserialize_with = "de::opt_u64")]
    pub pid: Option<u64>,
    /// (qemu) Guest agent enabled in config.
    #[serde(deserialize_with = "de::opt_bool")]
    pub agent: Option<bool>,
    /// HA state.
    #[serde(deserialize_with = "de::opt_object")]
    pub ha: Option<HaStatus>,
    /// Network bytes in.
    #[serde(deserialize_with = "de::opt_u64")]
    pub netin: Option<u64>,
    /// Network bytes out.
    #[serde(deserialize_with = "de::opt_u64")]
    pub netout: Option<u64>,
    /// Disk bytes read.
    #[serde(deserialize_with = "de::opt_u64")]
    pub diskread: Option<u64>,
    /// Disk bytes written.
    #[serde(deserialize_with = "de::opt_u64")]
    pub diskwrite: Option<u64>,
    /// (qemu) Running machine type.
    #[serde(rename = "running-machine", deserialize_with = "de::opt_string")]
    pub running_machine: Option<String>,
    /// (qemu) Running QEMU version.
    #[serde(rename = "running-qemu", deserialize_with = "de::opt_string")]
    pub running_qemu: Option<String>,
    /// Everything else (`blockstat`, `nics`, `ballooninfo`, pressure values, …).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl GuestCurrent {
    /// Run state in domain terms (QEMU's `qmpstatus` distinguishes paused from running).
    pub fn guest_status(&self) -> GuestStatus {
        GuestStatus::from_pve(self.status.as_deref().unwrap_or(""), self.qmpstatus.as_deref())
    }

    /// Tags split on `;`, `,` and whitespace.
    pub fn tag_list(&self) -> Vec<String> {
        self.tags.as_deref().map(de::split_tags).unwrap_or_default()
    }
}

/// One entry of `GET /nodes/{node}/storage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeStorage {
    /// Storage id.
    #[serde(deserialize_with = "de::opt_string")]
    pub storage: Option<String>,
    /// Storage type (`dir`, `lvmthin`, …).
    #[serde(rename = "type", deserialize_with = "de::opt_string")]
    pub kind: Option<String>,
    /// Comma-separated content types.
    #[serde(deserialize_with = "de::opt_string")]
    pub content: Option<String>,
    /// Accessible.
    #[serde(deserialize_with = "de::opt_bool")]
    pub active: Option<bool>,
    /// Enabled in the config.
    #[serde(deserialize_with = "de::opt_bool")]
    pub enabled: Option<bool>,
    /// Shared between nodes.
    #[serde(deserialize_with = "de::opt_bool")]
    pub shared: Option<bool>,
    /// Size, bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub total: Option<u64>,
    /// Used, bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub used: Option<u64>,
    /// Available, bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub avail: Option<u64>,
    /// used / total.
    #[serde(deserialize_with = "de::opt_f64")]
    pub used_fraction: Option<f64>,
}

impl NodeStorage {
    /// Content types split on `,`.
    pub fn content_list(&self) -> Vec<String> {
        self.content.as_deref().map(de::split_list).unwrap_or_default()
    }
}

/// One sample of `GET /nodes/{node}/rrddata`. PVE omits a metric when it has no value for
/// that step, and renamed metrics across releases, so every metric is an optional lookup.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RrdPoint {
    /// Sample time, Unix seconds.
    pub time: u64,
    /// Metric name → value (`cpu`, `maxcpu`, `memused`, `memtotal`, `loadavg`, `iowait`,
    /// `netin`, `netout`, `rootused`, `roottotal`, `swapused`, `swaptotal`, …).
    pub values: BTreeMap<String, f64>,
}

impl RrdPoint {
    /// A metric's value, if PVE reported one for this sample.
    pub fn get(&self, metric: &str) -> Option<f64> {
        self.values.get(metric).copied()
    }
}

impl<'de> Deserialize<'de> for RrdPoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        let mut time = None;
        let mut values = BTreeMap::new();
        for (k, v) in map {
            let num = match &v {
                serde_json::Value::Number(n) => n.as_f64(),
                serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .filter(|f| f.is_finite());
            match (k.as_str(), num) {
                ("time", Some(t)) if t >= 0.0 => {
                    // Finite and non-negative; seconds fit comfortably.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let secs = t as u64;
                    time = Some(secs);
                }
                (_, Some(n)) => {
                    values.insert(k, n);
                }
                _ => {}
            }
        }
        let time = time.ok_or_else(|| serde::de::Error::custom("rrd sample without a time"))?;
        Ok(Self { time, values })
    }
}
