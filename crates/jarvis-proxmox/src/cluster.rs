//! One poll of the whole cluster: [`read_cluster`] fetches `/cluster/resources` and
//! `/cluster/status` concurrently and [`map_cluster`] turns them into the strict domain types
//! (`Node`, `Vm`, `Storage`, `Quorum`) every other part of Jarvis uses.
//!
//! Degradation rules: if `/cluster/status` fails but resources arrive, the view is still
//! returned (no node IPs, quorum estimated from node states) with a warning; if resources
//! fail, the poll fails. Nodes known only to `/cluster/status` appear with zero metrics so a
//! dead node never silently disappears from the dashboard.

use std::collections::BTreeMap;

use jarvis_domain::cluster::{GuestStatus, GuestType, Node, NodeStatus, Quorum, Storage, Vm};

use crate::api::ProxmoxApi;
use crate::error::PveError;
use crate::models::{ClusterResource, ClusterStatusEntry, ResourceType};

/// The cluster as one poll sees it, sorted like `ClusterSnapshot::normalise`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterView {
    /// Nodes, sorted by name.
    pub nodes: Vec<Node>,
    /// Guests, sorted by vmid.
    pub vms: Vec<Vm>,
    /// Storage entries, sorted by (storage, node).
    pub storage: Vec<Storage>,
    /// Quorum.
    pub quorum: Quorum,
}

/// Reads the cluster: resources and status concurrently, mapped to domain types.
pub async fn read_cluster(api: &dyn ProxmoxApi) -> Result<ClusterView, PveError> {
    let (resources, status) = tokio::join!(api.cluster_resources(None), api.cluster_status());
    let resources = resources?;
    let status = match status {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "/cluster/status failed; showing resources without node IPs or quorum details");
            None
        }
    };
    Ok(map_cluster(&resources, status.as_deref()))
}

fn clamp_fraction(v: Option<f64>) -> f64 {
    v.filter(|f| f.is_finite() && *f >= 0.0).unwrap_or(0.0)
}

fn cpus(v: Option<f64>) -> u32 {
    let v = clamp_fraction(v).round();
    // Clamped to [0, u32::MAX] first, so the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = v.min(f64::from(u32::MAX)) as u32;
    n
}

/// The name of a node resource: `node`, else `name`, else the id after `node/`.
fn node_name(r: &ClusterResource) -> Option<String> {
    r.node
        .clone()
        .or_else(|| r.name.clone())
        .or_else(|| r.id_suffix().map(str::to_owned))
        .filter(|n| !n.is_empty())
}

/// Maps a `/cluster/resources` list (and, when available, `/cluster/status`) to domain types.
pub fn map_cluster(
    resources: &[ClusterResource],
    status: Option<&[ClusterStatusEntry]>,
) -> ClusterView {
    let status_nodes: BTreeMap<String, &ClusterStatusEntry> = status
        .unwrap_or_default()
        .iter()
        .filter(|e| e.is_node())
        .filter_map(|e| e.name.clone().map(|n| (n, e)))
        .collect();

    let mut nodes: Vec<Node> = Vec::new();
    let mut vms: Vec<Vm> = Vec::new();
    let mut storage: Vec<Storage> = Vec::new();

    for r in resources {
        match &r.kind {
            ResourceType::Node => {
                let Some(name) = node_name(r) else {
                    tracing::warn!(id = ?r.id, "skipping a node resource without a name");
                    continue;
                };
                if nodes.iter().any(|n| n.name == name) {
                    continue;
                }
                let st = status_nodes.get(&name);
                let status = match (r.status.as_deref(), st.and_then(|s| s.online)) {
                    (Some(s), _) => NodeStatus::from_pve(s),
                    (None, Some(true)) => NodeStatus::Online,
                    (None, Some(false)) => NodeStatus::Offline,
                    (None, None) => NodeStatus::Unknown,
                };
                nodes.push(Node {
                    ip: st.and_then(|s| s.ip.clone()),
                    status,
                    cpu: clamp_fraction(r.cpu),
                    maxcpu: cpus(r.maxcpu),
                    mem: r.mem.unwrap_or(0),
                    maxmem: r.maxmem.unwrap_or(0),
                    disk: r.disk.unwrap_or(0),
                    maxdisk: r.maxdisk.unwrap_or(0),
                    uptime: r.uptime.unwrap_or(0),
                    temperatures: None,
                    name,
                });
            }
            ResourceType::Qemu | ResourceType::Lxc => {
                let kind =
                    if r.kind == ResourceType::Qemu { GuestType::Qemu } else { GuestType::Lxc };
                let Some(vmid) = r.vmid.or_else(|| r.id_suffix().and_then(|s| s.parse().ok()))
                else {
                    tracing::warn!(id = ?r.id, "skipping a guest resource without a vmid");
                    continue;
                };
                let name =
                    r.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| match kind {
                        GuestType::Qemu => format!("VM {vmid}"),
                        GuestType::Lxc => format!("CT {vmid}"),
                    });
                vms.push(Vm {
                    vmid,
                    name,
                    kind,
                    node: r.node.clone().unwrap_or_default(),
                    status: r.status.as_deref().map_or(GuestStatus::Unknown, |s| {
                        GuestStatus::from_pve(s, r.qmpstatus.as_deref())
                    }),
                    cpu: clamp_fraction(r.cpu),
                    maxcpu: cpus(r.maxcpu),
                    mem: r.mem.unwrap_or(0),
                    maxmem: r.maxmem.unwrap_or(0),
                    disk: r.disk.unwrap_or(0),
                    maxdisk: r.maxdisk.unwrap_or(0),
                    uptime: r.uptime.unwrap_or(0),
                    template: r.template.unwrap_or(false),
                    tags: r.tag_list(),
                    lock: r.lock.clone().filter(|l| !l.is_empty()),
                });
            }
            ResourceType::Storage => {
                // id is `storage/<node>/<storage>`.
                let mut id_parts = r.id_suffix().unwrap_or("").splitn(2, '/');
                let id_node = id_parts.next().filter(|s| !s.is_empty());
                let id_storage = id_parts.next().filter(|s| !s.is_empty());
                let Some(name) = r.storage.clone().or_else(|| id_storage.map(str::to_owned)) else {
                    tracing::warn!(id = ?r.id, "skipping a storage resource without a storage id");
                    continue;
                };
                let total = r.maxdisk.unwrap_or(0);
                let used = r.disk.unwrap_or(0);
                storage.push(Storage {
                    storage: name,
                    node: r.node.clone().or_else(|| id_node.map(str::to_owned)).unwrap_or_default(),
                    kind: r.plugintype.clone().unwrap_or_else(|| r.kind.as_str().to_owned()),
                    status: r.status.clone().unwrap_or_else(|| "unknown".to_owned()),
                    total,
                    used,
                    avail: total.saturating_sub(used),
                    content: r.content_list(),
                    shared: r.shared.unwrap_or(false),
                });
            }
            // Pools, SDN, network and whatever PVE adds later are not part of the view.
            _ => {}
        }
    }

    // Nodes corosync knows but /cluster/resources did not list: keep them visible.
    for (name, entry) in &status_nodes {
        if !nodes.iter().any(|n| &n.name == name) {
            nodes.push(Node {
                name: name.clone(),
                status: if entry.online == Some(false) {
                    NodeStatus::Offline
                } else {
                    NodeStatus::Unknown
                },
                ip: entry.ip.clone(),
                cpu: 0.0,
                maxcpu: 0,
                mem: 0,
                maxmem: 0,
                disk: 0,
                maxdisk: 0,
                uptime: 0,
                temperatures: None,
            });
        }
    }

    let quorum = quorum(status, &status_nodes, &nodes);

    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    vms.sort_by_key(|v| v.vmid);
    storage.sort_by(|a, b| (&a.storage, &a.node).cmp(&(&b.storage, &b.node)));
    ClusterView { nodes, vms, storage, quorum }
}

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn quorum(
    status: Option<&[ClusterStatusEntry]>,
    status_nodes: &BTreeMap<String, &ClusterStatusEntry>,
    nodes: &[Node],
) -> Quorum {
    let cluster = status.unwrap_or_default().iter().find(|e| e.is_cluster());
    match (status, cluster) {
        (Some(_), Some(c)) => {
            let expected = if status_nodes.is_empty() {
                c.nodes.unwrap_or(0)
            } else {
                count_u32(status_nodes.len())
            };
            let online =
                count_u32(status_nodes.values().filter(|e| e.online == Some(true)).count());
            Quorum {
                quorate: c.quorate.unwrap_or(false),
                nodes: online,
                expected,
                cluster_name: c.name.clone(),
            }
        }
        // A standalone node has no cluster entry; it is its own majority when it is up.
        // Without /cluster/status at all, estimate from node states (a strict majority).
        _ => {
            let expected = count_u32(nodes.len());
            let online = count_u32(nodes.iter().filter(|n| n.status == NodeStatus::Online).count());
            Quorum {
                quorate: expected > 0 && online * 2 > expected,
                nodes: online,
                expected,
                cluster_name: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(json: &str) -> Vec<ClusterResource> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn standalone_node_is_quorate_when_online() {
        let r =
            res(r#"[{"id":"node/Home","type":"node","node":"Home","status":"online","maxcpu":4}]"#);
        let status: Vec<ClusterStatusEntry> = serde_json::from_str(
            r#"[{"type":"node","name":"Home","online":1,"ip":"10.0.0.9","local":1}]"#,
        )
        .unwrap();
        let v = map_cluster(&r, Some(&status));
        assert_eq!(v.quorum, Quorum { quorate: true, nodes: 1, expected: 1, cluster_name: None });
        assert_eq!(v.nodes[0].name, "Home", "node names keep their case");
        assert_eq!(v.nodes[0].ip.as_deref(), Some("10.0.0.9"));
        let offline = res(r#"[{"id":"node/Home","type":"node","node":"Home","status":"offline"}]"#);
        let v = map_cluster(&offline, None);
        assert_eq!(v.quorum, Quorum { quorate: false, nodes: 0, expected: 1, cluster_name: None });
    }

    #[test]
    fn guests_storage_and_odd_entries() {
        let r = res(r#"[
            {"id":"lxc/105","type":"lxc","vmid":"105","node":"n1","status":"running","maxcpu":"2","tags":"a;b"},
            {"id":"qemu/7","type":"qemu","node":"n1","status":"running","qmpstatus":"paused","name":"","lock":"backup"},
            {"id":"storage/n1/nfs","type":"storage","node":"n1","disk":10,"maxdisk":4,"shared":"1"},
            {"id":"pool/p","type":"pool","pool":"p"},
            {"id":"x/1","type":"quantum-thing"}
        ]"#);
        let v = map_cluster(&r, None);
        assert_eq!(v.vms.len(), 2);
        assert_eq!(
            (v.vms[0].vmid, v.vms[0].name.as_str(), v.vms[0].status),
            (7, "VM 7", GuestStatus::Paused)
        );
        assert_eq!(
            (v.vms[1].name.as_str(), v.vms[1].maxcpu, v.vms[1].kind),
            ("CT 105", 2, GuestType::Lxc)
        );
        assert_eq!(v.vms[1].tags, ["a", "b"]);
        assert_eq!(v.vms[0].lock.as_deref(), Some("backup"), "PVE's lock is kept");
        assert_eq!(v.vms[1].lock, None, "no lock key, no lock");
        let s = &v.storage[0];
        assert_eq!(
            (s.storage.as_str(), s.kind.as_str(), s.status.as_str()),
            ("nfs", "storage", "unknown")
        );
        assert_eq!((s.total, s.used, s.avail, s.shared), (4, 10, 0, true));
        assert!(v.nodes.is_empty());
        assert_eq!(v.quorum, Quorum::default());
    }

    #[test]
    fn nodes_only_in_status_are_kept_and_status_falls_back_to_online_flag() {
        let r = res(r#"[{"id":"node/a","type":"node","node":"a"}]"#);
        let status: Vec<ClusterStatusEntry> = serde_json::from_str(
            r#"[{"type":"cluster","name":"c","quorate":0,"nodes":3},
                {"type":"node","name":"a","online":1,"ip":"10.0.0.1"},
                {"type":"node","name":"b","online":0,"ip":"10.0.0.2"},
                {"type":"node","name":"c","ip":"10.0.0.3"}]"#,
        )
        .unwrap();
        let v = map_cluster(&r, Some(&status));
        let st: Vec<(&str, NodeStatus)> =
            v.nodes.iter().map(|n| (n.name.as_str(), n.status)).collect();
        assert_eq!(
            st,
            [("a", NodeStatus::Online), ("b", NodeStatus::Offline), ("c", NodeStatus::Unknown)]
        );
        assert_eq!(
            v.quorum,
            Quorum { quorate: false, nodes: 1, expected: 3, cluster_name: Some("c".into()) }
        );
    }
}
