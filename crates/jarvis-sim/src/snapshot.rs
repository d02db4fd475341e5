//! The cluster as a `jarvis_domain::ClusterSnapshot`, for tests to assert against.
//!
//! It shows what a correct client would make of the wire answers at this moment, including the
//! pmxcfs staleness rule: an offline node has zero live metrics, and once its data is stale its
//! guests are `Unknown` with zero metrics and its storage `unknown`.

use std::time::Instant;

use chrono::{DateTime, Utc};
use jarvis_domain::{
    ClusterSnapshot, Freshness, GuestStatus, GuestType, Node, NodeStatus, Quorum, Storage, Vm,
};

use crate::model::{Cluster, RunState, StorageId};

impl Cluster {
    /// The domain view of the cluster now.
    pub fn snapshot(&self, now: Instant) -> ClusterSnapshot {
        let fresh: Vec<bool> = (0..self.nodes.len()).map(|i| self.node_fresh(i, now)).collect();
        let nodes = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let live = n.online;
                Node {
                    name: n.name.clone(),
                    status: if live { NodeStatus::Online } else { NodeStatus::Offline },
                    ip: Some(n.ip.to_string()),
                    cpu: if live { n.cpu } else { 0.0 },
                    maxcpu: if fresh[i] { n.maxcpu } else { 0 },
                    mem: if live { n.mem } else { 0 },
                    maxmem: if fresh[i] { n.maxmem } else { 0 },
                    disk: if live { n.rootfs_used } else { 0 },
                    maxdisk: if fresh[i] { n.rootfs_total } else { 0 },
                    uptime: if live { n.uptime_ms / 1000 } else { 0 },
                    temperatures: None,
                }
            })
            .collect();
        let vms = self
            .guests
            .iter()
            .map(|g| {
                let tags =
                    g.tags.split(';').filter(|t| !t.is_empty()).map(str::to_string).collect();
                let node = self.nodes[g.node].name.clone();
                if !fresh[g.node] {
                    let prefix = if g.kind == GuestType::Qemu { "VM" } else { "CT" };
                    return Vm {
                        vmid: g.vmid,
                        name: format!("{prefix} {}", g.vmid),
                        kind: g.kind,
                        node,
                        status: GuestStatus::Unknown,
                        cpu: 0.0,
                        maxcpu: 0,
                        mem: 0,
                        maxmem: 0,
                        disk: 0,
                        maxdisk: 0,
                        uptime: 0,
                        template: false,
                        tags,
                        lock: g.lock.clone(),
                    };
                }
                Vm {
                    vmid: g.vmid,
                    name: g.name.clone(),
                    kind: g.kind,
                    node,
                    status: match g.run {
                        RunState::Running => GuestStatus::Running,
                        RunState::Paused => GuestStatus::Paused,
                        RunState::Stopped => GuestStatus::Stopped,
                    },
                    cpu: g.cpu,
                    maxcpu: g.cores,
                    mem: g.mem,
                    maxmem: g.maxmem,
                    disk: if g.kind == GuestType::Lxc && g.is_up() { g.disk_used } else { 0 },
                    maxdisk: g.maxdisk,
                    uptime: g.uptime_ms / 1000,
                    template: g.template,
                    tags,
                    lock: g.lock.clone(),
                }
            })
            .collect();
        let mut storage = Vec::with_capacity(self.nodes.len() * StorageId::ALL.len());
        for (i, n) in self.nodes.iter().enumerate() {
            for sid in StorageId::ALL {
                let (total, used) = if fresh[i] { self.storage_usage(i, sid) } else { (0, 0) };
                storage.push(Storage {
                    storage: sid.name().into(),
                    node: n.name.clone(),
                    kind: sid.plugintype().into(),
                    status: if fresh[i] { "available" } else { "unknown" }.into(),
                    total,
                    used,
                    avail: total.saturating_sub(used),
                    content: sid.content().split(',').map(str::to_string).collect(),
                    shared: sid.shared(),
                });
            }
        }
        // On the reported clock, so a test's virtual clock agrees with it.
        let at = DateTime::from_timestamp(self.unix_now(), 0).unwrap_or_else(Utc::now);
        let mut snap = ClusterSnapshot {
            nodes,
            vms,
            storage,
            quorum: Quorum {
                quorate: self.quorate(),
                nodes: self.online_count() as u32,
                expected: self.nodes.len() as u32,
                cluster_name: (!self.standalone).then(|| self.name.clone()),
            },
            updated_at: Some(at),
            freshness: Freshness {
                updated_at: Some(at),
                stale: false,
                error: None,
                endpoint: None,
            },
        };
        snap.normalise();
        snap
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;

    #[test]
    fn snapshot_matches_the_cluster() {
        let c = Cluster::generate(&SimConfig::default(), None);
        let s = c.snapshot(Instant::now());
        assert_eq!(s.nodes.len(), 4);
        assert_eq!(s.vms.len(), 12);
        assert_eq!(s.storage.len(), 12);
        assert!(s.quorum.quorate);
        assert_eq!(s.quorum.cluster_name.as_deref(), Some("homelab"));
        assert!(s.vms.iter().any(|v| v.template));
    }
}
