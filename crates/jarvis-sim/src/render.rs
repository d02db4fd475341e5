//! Cluster-level PVE JSON: `/cluster/resources`, `/cluster/status`, `/nodes`, node status,
//! node storage, `rrddata`, versions and permissions. Guest JSON is in `render_guest.rs`.
//!
//! Shapes and quirks follow what real PVE sends (and the recorded fixtures): 0/1 integers for
//! booleans, `loadavg` and `cpuinfo.mhz` as strings, integral numbers without a fraction, and
//! the pmxcfs rule that an offline node's status data vanishes after the stale window (node
//! entries then lose their metrics, guests turn `unknown`, storage turns `unknown`).

use std::time::Instant;

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::catalog::{self, CPUS};
use crate::model::{Cluster, Guest, StorageId};

/// Serialises a float the way Perl's JSON does: integral values without a fraction.
pub(crate) fn num<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

/// A float as a JSON number with Perl-like formatting.
pub(crate) fn jnum(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 { json!(v as i64) } else { json!(v) }
}

/// Deterministic noise in [0, 1) for (a, b): the same point of history always looks the same.
pub(crate) fn noise(a: u64, b: u64) -> f64 {
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

fn b01(b: bool) -> u8 {
    u8::from(b)
}

/// `/cluster/resources` type filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResFilter {
    All,
    Vm,
    Node,
    Storage,
    Sdn,
}

#[derive(Serialize)]
struct GuestRes<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    vmid: u32,
    node: &'a str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uptime: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maxcpu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_num")]
    cpu: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maxmem: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mem: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maxdisk: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disk: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    netin: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    netout: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diskread: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diskwrite: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memhost: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lock: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hastate: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool: Option<&'a str>,
}

fn opt_num<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => num(v, s),
        None => s.serialize_none(),
    }
}

#[derive(Serialize)]
struct NodeRes<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    node: &'a str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uptime: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_num")]
    cpu: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mem: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disk: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maxcpu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maxmem: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maxdisk: Option<u64>,
    #[serde(rename = "cgroup-mode")]
    cgroup_mode: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    ssl_fingerprint: Option<&'a str>,
}

#[derive(Serialize)]
struct StorageRes<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    storage: &'static str,
    node: &'a str,
    status: &'static str,
    plugintype: &'static str,
    content: &'static str,
    shared: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    disk: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maxdisk: Option<u64>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Resource<'a> {
    Guest(GuestRes<'a>),
    Node(NodeRes<'a>),
    Storage(StorageRes<'a>),
    Other(Value),
}

impl Cluster {
    /// The `/cluster/resources` array, serialised straight from state (one pass per section).
    pub fn resources_json(&self, filter: ResFilter, now: Instant) -> Vec<u8> {
        let fresh: Vec<bool> = (0..self.nodes.len()).map(|i| self.node_fresh(i, now)).collect();
        let mut out: Vec<Resource<'_>> = Vec::new();
        if matches!(filter, ResFilter::All | ResFilter::Vm) {
            out.reserve(self.guests.len());
            out.extend(
                self.guests.iter().map(|g| Resource::Guest(self.guest_res(g, fresh[g.node]))),
            );
        }
        if matches!(filter, ResFilter::All | ResFilter::Node) {
            out.extend(
                (0..self.nodes.len()).map(|i| Resource::Node(self.node_res(i, fresh[i], false))),
            );
        }
        if matches!(filter, ResFilter::All | ResFilter::Storage) {
            for (i, n) in self.nodes.iter().enumerate() {
                for sid in StorageId::ALL {
                    let (total, used) = self.storage_usage(i, sid);
                    out.push(Resource::Storage(StorageRes {
                        id: format!("storage/{}/{}", n.name, sid.name()),
                        kind: "storage",
                        storage: sid.name(),
                        node: &n.name,
                        status: if fresh[i] { "available" } else { "unknown" },
                        plugintype: sid.plugintype(),
                        content: sid.content(),
                        shared: b01(sid.shared()),
                        disk: fresh[i].then_some(used),
                        maxdisk: fresh[i].then_some(total),
                    }));
                }
            }
        }
        if filter == ResFilter::All {
            let mut pools: Vec<&str> =
                self.guests.iter().filter_map(|g| g.pool.as_deref()).collect();
            pools.sort_unstable();
            pools.dedup();
            for p in pools {
                out.push(Resource::Other(
                    json!({"id": format!("/pool/{p}"), "type": "pool", "pool": p}),
                ));
            }
        }
        if matches!(filter, ResFilter::All | ResFilter::Sdn) {
            for (_, n) in self.nodes.iter().enumerate().filter(|(i, _)| fresh[*i]) {
                out.push(Resource::Other(json!({
                    "id": format!("sdn/{}/localnetwork", n.name),
                    "type": "sdn",
                    "sdn": "localnetwork",
                    "node": n.name,
                    "status": "ok",
                })));
            }
        }
        crate::wire::ok_body(&out)
    }

    fn guest_res<'a>(&'a self, g: &'a Guest, fresh: bool) -> GuestRes<'a> {
        let qemu = g.kind == jarvis_domain::GuestType::Qemu;
        let meta = |status: &'static str| GuestRes {
            id: format!("{}/{}", g.kind.as_str(), g.vmid),
            kind: g.kind.as_str(),
            vmid: g.vmid,
            node: &self.nodes[g.node].name,
            status,
            name: None,
            uptime: None,
            template: None,
            maxcpu: None,
            cpu: None,
            maxmem: None,
            mem: None,
            maxdisk: None,
            disk: None,
            netin: None,
            netout: None,
            diskread: None,
            diskwrite: None,
            memhost: None,
            tags: (!g.tags.is_empty()).then_some(g.tags.as_str()),
            lock: g.lock.as_deref(),
            hastate: g.ha.then_some(if g.is_up() { "started" } else { "stopped" }),
            pool: g.pool.as_deref(),
        };
        if !fresh {
            return meta("unknown");
        }
        GuestRes {
            name: Some(&g.name),
            uptime: Some(g.uptime_ms / 1000),
            template: Some(b01(g.template)),
            maxcpu: Some(g.cores),
            cpu: Some(g.cpu),
            maxmem: Some(g.maxmem),
            mem: Some(g.mem),
            maxdisk: Some(g.maxdisk),
            disk: Some(if qemu || !g.is_up() { 0 } else { g.disk_used }),
            netin: Some(g.netin),
            netout: Some(g.netout),
            diskread: Some(g.diskread),
            diskwrite: Some(g.diskwrite),
            memhost: qemu.then_some(if g.is_up() { g.mem + g.maxmem / 40 } else { 0 }),
            ..meta(g.status_str())
        }
    }

    fn node_res(&self, i: usize, fresh: bool, with_fingerprint: bool) -> NodeRes<'_> {
        let n = &self.nodes[i];
        let live = n.online;
        NodeRes {
            id: format!("node/{}", n.name),
            kind: "node",
            node: &n.name,
            status: if n.online { "online" } else { "offline" },
            uptime: live.then_some(n.uptime_ms / 1000),
            cpu: live.then_some(n.cpu),
            mem: live.then_some(n.mem),
            disk: live.then_some(n.rootfs_used),
            level: fresh.then_some(""),
            maxcpu: fresh.then_some(n.maxcpu),
            maxmem: fresh.then_some(n.maxmem),
            maxdisk: fresh.then_some(n.rootfs_total),
            cgroup_mode: 2,
            ssl_fingerprint: if with_fingerprint { self.fingerprint.as_deref() } else { None },
        }
    }

    /// (total, used) of a storage as seen from node `i`.
    pub fn storage_usage(&self, i: usize, sid: StorageId) -> (u64, u64) {
        let n = &self.nodes[i];
        match sid {
            StorageId::Local => (n.rootfs_total, n.rootfs_used),
            StorageId::LocalLvm => (n.lvm_total, n.lvm_used),
            StorageId::NfsBackup => (self.nfs_total, self.nfs_used),
        }
    }

    /// `/nodes`.
    pub fn nodes_json(&self, now: Instant) -> Vec<u8> {
        let list: Vec<NodeRes<'_>> = (0..self.nodes.len())
            .map(|i| self.node_res(i, self.node_fresh(i, now), true))
            .collect();
        crate::wire::ok_body(&list)
    }

    /// `/cluster/status`, as answered by node `local`.
    pub fn cluster_status(&self, local: usize) -> Value {
        let mut out = Vec::with_capacity(self.nodes.len() + 1);
        if !self.standalone {
            out.push(json!({
                "type": "cluster",
                "id": "cluster",
                "name": self.name,
                "nodes": self.nodes.len(),
                "quorate": b01(self.quorate()),
                "version": self.config_version,
            }));
        }
        for (i, n) in self.nodes.iter().enumerate() {
            out.push(json!({
                "type": "node",
                "id": format!("node/{}", n.name),
                "name": n.name,
                "nodeid": if self.standalone { 0 } else { n.nodeid },
                "ip": n.ip.to_string(),
                "local": b01(i == local),
                "online": b01(n.online),
                "level": "",
            }));
        }
        Value::Array(out)
    }

    /// `/nodes/{node}/status`.
    pub fn node_status(&self, i: usize) -> Value {
        let n = &self.nodes[i];
        let cpu = &CPUS[n.cpu_spec];
        let mem_free = n.maxmem.saturating_sub(n.mem);
        let root_free = n.rootfs_total.saturating_sub(n.rootfs_used);
        let mut boot = json!({"mode": if n.efi { "efi" } else { "legacy-bios" }});
        if n.efi {
            boot["secureboot"] = json!(0);
        }
        json!({
            "uptime": n.uptime_ms / 1000,
            "idle": 0,
            "cpu": jnum(n.cpu),
            "wait": jnum(n.iowait),
            "loadavg": n.load.iter().map(|l| format!("{l:.2}")).collect::<Vec<_>>(),
            "kversion": format!("Linux {} {}", catalog::KERNEL_RELEASE, catalog::KERNEL_BUILD),
            "pveversion": format!("pve-manager/{}/{}", catalog::PVE_VERSION, catalog::PVE_REPOID),
            "cpuinfo": {
                "model": cpu.model,
                "sockets": cpu.sockets,
                "cores": cpu.cores,
                "cpus": cpu.threads,
                "mhz": cpu.mhz,
                "hvm": "1",
                "user_hz": 100,
                "flags": catalog::CPU_FLAGS,
            },
            "memory": {
                "total": n.maxmem,
                "used": n.mem,
                "free": mem_free,
                "available": mem_free + n.maxmem / 50,
            },
            "swap": {
                "total": n.swap_total,
                "used": n.swap_used,
                "free": n.swap_total.saturating_sub(n.swap_used),
            },
            "rootfs": {
                "total": n.rootfs_total,
                "used": n.rootfs_used,
                "free": root_free,
                "avail": root_free.saturating_sub(n.rootfs_total / 20),
            },
            "ksm": {"shared": n.ksm_shared},
            "boot-info": boot,
            "current-kernel": {
                "sysname": "Linux",
                "release": catalog::KERNEL_RELEASE,
                "version": catalog::KERNEL_BUILD,
                "machine": "x86_64",
            },
        })
    }

    /// `/nodes/{node}/storage` with PVE's `content` and `storage` filters.
    pub fn node_storage(&self, i: usize, content: Option<&str>, storage: Option<&str>) -> Value {
        let wanted: Vec<&str> =
            content.map(|c| c.split(',').map(str::trim).collect()).unwrap_or_default();
        let list: Vec<Value> = StorageId::ALL
            .iter()
            .filter(|sid| storage.is_none_or(|s| s == sid.name()))
            .filter(|sid| wanted.is_empty() || wanted.iter().any(|w| sid.content().split(',').any(|c| c == *w)))
            .map(|&sid| {
                let (total, used) = self.storage_usage(i, sid);
                json!({
                    "storage": sid.name(),
                    "type": sid.plugintype(),
                    "content": sid.content(),
                    "active": 1,
                    "enabled": 1,
                    "shared": b01(sid.shared()),
                    "total": total,
                    "used": used,
                    "avail": total.saturating_sub(used),
                    "used_fraction": jnum(if total == 0 { 0.0 } else { used as f64 / total as f64 }),
                })
            })
            .collect();
        Value::Array(list)
    }

    /// `/nodes/{node}/rrddata`: 70 points ending now, the newest one not yet consolidated
    /// (only `time`, as real RRD answers often end).
    pub fn node_rrd(&self, i: usize, step: u64) -> Value {
        let n = &self.nodes[i];
        let end = self.unix_now() as u64 / step * step;
        let key = 0x5eed_0000 + i as u64;
        let points = (0..70u64)
            .map(|k| {
                let t = end - (69 - k) * step;
                if k == 69 {
                    return json!({"time": t});
                }
                let r = noise(key, t);
                let day = (2.0 * std::f64::consts::PI * (t % 86_400) as f64 / 86_400.0).sin();
                let cpu = (n.cpu * (0.75 + 0.5 * r) * (1.0 + 0.25 * day)).clamp(0.0, 1.0);
                let mem = (n.mem as f64 * (0.94 + 0.1 * r)).min(n.maxmem as f64);
                json!({
                    "time": t,
                    "cpu": jnum(cpu),
                    "maxcpu": n.maxcpu,
                    "iowait": jnum(n.iowait * 2.0 * r),
                    "loadavg": jnum((cpu * n.maxcpu as f64 * 100.0).round() / 100.0),
                    "memused": jnum(mem.round()),
                    "memtotal": n.maxmem,
                    "swapused": n.swap_used,
                    "swaptotal": n.swap_total,
                    "rootused": n.rootfs_used,
                    "roottotal": n.rootfs_total,
                    "netin": jnum((n.net_rate.0 * (0.5 + r)).round()),
                    "netout": jnum((n.net_rate.1 * (0.5 + noise(key ^ 1, t))).round()),
                })
            })
            .collect();
        Value::Array(points)
    }

    /// `/storage` (datacenter storage configuration).
    pub fn storage_config(&self) -> Value {
        let digest = "3f2b8c1d9e0a4b5c6d7e8f90a1b2c3d4e5f60718";
        json!([
            {"storage": "local", "type": "dir", "path": "/var/lib/vz", "shared": 0,
             "content": StorageId::Local.content(), "digest": digest},
            {"storage": "local-lvm", "type": "lvmthin", "thinpool": "data", "vgname": "pve", "shared": 0,
             "content": StorageId::LocalLvm.content(), "digest": digest},
            {"storage": "nfs-backup", "type": "nfs", "server": "nas.home.arpa", "shared": 1,
             "export": "/volume1/pve-backup", "path": "/mnt/pve/nfs-backup",
             "content": StorageId::NfsBackup.content(), "prune-backups": "keep-daily=7,keep-weekly=4",
             "options": "vers=4.2", "digest": digest},
        ])
    }
}

/// `/version` and `/nodes/{node}/version`.
pub(crate) fn version() -> Value {
    json!({"version": catalog::PVE_VERSION, "release": catalog::PVE_RELEASE, "repoid": catalog::PVE_REPOID})
}

/// `/access/permissions` for the (unrestricted) simulator token.
pub(crate) fn permissions(path: Option<&str>) -> Value {
    const PRIVS: [&str; 24] = [
        "Datastore.Allocate",
        "Datastore.AllocateSpace",
        "Datastore.AllocateTemplate",
        "Datastore.Audit",
        "Pool.Allocate",
        "Pool.Audit",
        "SDN.Audit",
        "SDN.Use",
        "Sys.Audit",
        "Sys.Console",
        "Sys.Modify",
        "Sys.PowerMgmt",
        "Sys.Syslog",
        "VM.Allocate",
        "VM.Audit",
        "VM.Backup",
        "VM.Clone",
        "VM.Config.CPU",
        "VM.Config.Disk",
        "VM.Config.Memory",
        "VM.Console",
        "VM.Migrate",
        "VM.PowerMgmt",
        "VM.Snapshot",
    ];
    let privs: serde_json::Map<String, Value> =
        PRIVS.iter().map(|p| (p.to_string(), json!(1))).collect();
    let paths: Vec<&str> = match path {
        Some(p) => vec![p],
        None => vec!["/", "/nodes", "/storage", "/vms", "/pool", "/sdn"],
    };
    let map: serde_json::Map<String, Value> =
        paths.iter().map(|p| (p.to_string(), Value::Object(privs.clone()))).collect();
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;

    #[test]
    fn noise_is_deterministic_and_in_range() {
        for i in 0..1000 {
            let v = noise(i, i * 7);
            assert!((0.0..1.0).contains(&v));
            assert_eq!(v, noise(i, i * 7));
        }
    }

    #[test]
    fn integral_floats_have_no_fraction() {
        assert_eq!(jnum(0.0).to_string(), "0");
        assert_eq!(jnum(3.0).to_string(), "3");
        assert_eq!(jnum(0.25).to_string(), "0.25");
    }

    #[test]
    fn stale_offline_node_entries_lose_their_metrics() {
        let cfg =
            SimConfig { offline_stale_after: std::time::Duration::ZERO, ..SimConfig::default() };
        let mut c = Cluster::generate(&cfg, None);
        let now = Instant::now();
        c.set_node_offline(0, now);
        let v: Value = serde_json::from_slice(&c.resources_json(ResFilter::All, now)).unwrap();
        let entries = v["data"].as_array().unwrap();
        let node = entries.iter().find(|e| e["id"] == "node/pve1").unwrap();
        assert_eq!(node["status"], "offline");
        assert!(node.get("cpu").is_none() && node.get("maxmem").is_none());
        let guest = entries.iter().find(|e| e["type"] == "qemu" && e["node"] == "pve1").unwrap();
        assert_eq!(guest["status"], "unknown");
        assert!(guest.get("name").is_none());
        let st = entries.iter().find(|e| e["id"] == "storage/pve1/local").unwrap();
        assert_eq!(st["status"], "unknown");
    }
}
