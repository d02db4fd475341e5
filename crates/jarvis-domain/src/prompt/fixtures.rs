//! Test clusters shared by the prompt and slash-command tests.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};

use crate::cluster::{
    ClusterSnapshot, Freshness, GuestStatus, GuestType, Node, NodeStatus, Quorum, Storage, Vm,
};

const GIB: u64 = 1024 * 1024 * 1024;

/// The fixed "now" of every fixture.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 31, 9, 30, 0).single().expect("valid time")
}

/// An online node.
pub(crate) fn node(name: &str, cpu: f64, mem_gib: u64, maxmem_gib: u64) -> Node {
    Node {
        name: name.into(),
        status: NodeStatus::Online,
        ip: None,
        cpu,
        maxcpu: 16,
        mem: mem_gib * GIB,
        maxmem: maxmem_gib * GIB,
        disk: 20 * GIB,
        maxdisk: 100 * GIB,
        uptime: 3 * 86_400 + 4 * 3_600,
        temperatures: None,
    }
}

/// A guest.
pub(crate) fn guest(vmid: u32, name: &str, kind: GuestType, node: &str, status: GuestStatus) -> Vm {
    let running = status == GuestStatus::Running;
    Vm {
        vmid,
        name: name.into(),
        kind,
        node: node.into(),
        status,
        cpu: if running { 0.05 } else { 0.0 },
        maxcpu: 2,
        mem: if running { GIB } else { 0 },
        maxmem: 2 * GIB,
        disk: 0,
        maxdisk: 32 * GIB,
        uptime: if running { 86_400 } else { 0 },
        template: false,
        tags: Vec::new(),
        lock: None,
    }
}

fn storage(
    id: &str,
    node: &str,
    kind: &str,
    used_gib: u64,
    total_gib: u64,
    shared: bool,
) -> Storage {
    Storage {
        storage: id.into(),
        node: node.into(),
        kind: kind.into(),
        status: "available".into(),
        total: total_gib * GIB,
        used: used_gib * GIB,
        avail: (total_gib - used_gib) * GIB,
        content: vec!["images".into(), "rootdir".into()],
        shared,
    }
}

/// A small, fixed cluster: 3 nodes (one with temperatures, one offline), 6 guests (one stopped,
/// one paused), a local and a shared storage (reported by two nodes).
pub(crate) fn small() -> ClusterSnapshot {
    let mut pve1 = node("pve1", 0.12, 8, 32);
    pve1.temperatures = Some(BTreeMap::from([
        ("coretemp/Package id 0".to_owned(), 54.0),
        ("nvme/Composite".to_owned(), 41.5),
    ]));
    let mut pve3 = node("pve3", 0.0, 0, 16);
    pve3.status = NodeStatus::Offline;
    pve3.uptime = 0;
    let updated = now() - chrono::Duration::seconds(42);
    let mut snapshot = ClusterSnapshot {
        nodes: vec![pve1, node("pve2", 0.48, 20, 64), pve3],
        vms: vec![
            guest(100, "gateway", GuestType::Qemu, "pve1", GuestStatus::Running),
            guest(101, "web", GuestType::Qemu, "pve1", GuestStatus::Running),
            guest(102, "db", GuestType::Qemu, "pve2", GuestStatus::Stopped),
            guest(103, "vault", GuestType::Qemu, "pve2", GuestStatus::Running),
            guest(200, "dns", GuestType::Lxc, "pve1", GuestStatus::Running),
            guest(201, "backup-agent", GuestType::Lxc, "pve2", GuestStatus::Paused),
        ],
        storage: vec![
            storage("local-lvm", "pve1", "lvmthin", 120, 450, false),
            storage("nfs-backup", "pve1", "nfs", 900, 2048, true),
            storage("nfs-backup", "pve2", "nfs", 900, 2048, true),
        ],
        quorum: Quorum {
            quorate: true,
            nodes: 2,
            expected: 3,
            cluster_name: Some("homelab".into()),
        },
        updated_at: Some(updated),
        freshness: Freshness {
            updated_at: Some(updated),
            stale: false,
            error: None,
            endpoint: Some("https://pve1:8006".into()),
        },
    };
    snapshot.normalise();
    snapshot
}

/// A large cluster: `nodes` nodes and `guests` guests spread over them, half of them running,
/// with temperatures on every node.
pub(crate) fn large(nodes: usize, guests: usize) -> ClusterSnapshot {
    let mut snapshot = small();
    snapshot.nodes = (0..nodes)
        .map(|i| {
            let mut n = node(&format!("node-{i:03}"), 0.3, 40, 128);
            n.temperatures = Some(BTreeMap::from([
                ("coretemp/Package id 0".to_owned(), 61.0),
                ("nvme/Composite".to_owned(), 44.0),
            ]));
            n
        })
        .collect();
    snapshot.vms = (0..guests)
        .map(|i| {
            let status = if i % 2 == 0 { GuestStatus::Running } else { GuestStatus::Stopped };
            let vmid = 1000 + u32::try_from(i).expect("small test count");
            let kind = if i % 3 == 0 { GuestType::Lxc } else { GuestType::Qemu };
            guest(vmid, &format!("guest-{i:04}"), kind, &format!("node-{:03}", i % nodes), status)
        })
        .collect();
    snapshot.quorum.nodes = u32::try_from(nodes).expect("small test count");
    snapshot.quorum.expected = snapshot.quorum.nodes;
    snapshot
}
