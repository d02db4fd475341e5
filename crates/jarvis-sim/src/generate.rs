//! Generating a cluster from a seed: nodes with mixed hardware, the demo guests followed by
//! generated ones, placement by free memory, plausible uptimes and counters, and a task history.
//!
//! Deterministic for a seed: every random draw comes from one seeded generator, in a fixed order.

use std::collections::HashMap;

use jarvis_domain::GuestType;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::catalog::{self, CPUS, MEM_GIB, ROLES};
use crate::config::SimConfig;
use crate::model::{Cluster, Guest, Node, Profile, RunState, node_ip};
use crate::tasks::Tasks;

const GIB: u64 = 1024 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;

fn mac(rng: &mut StdRng, prefix: &str) -> String {
    let b: [u8; 3] = rng.random();
    format!("{prefix}:{:02X}:{:02X}:{:02X}", b[0], b[1], b[2])
}

fn uuid(rng: &mut StdRng) -> String {
    let a: u128 = rng.random();
    let h = format!("{a:032x}");
    format!("{}-{}-4{}-a{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

impl Cluster {
    /// Builds the cluster described by `cfg`, deterministic for `cfg.seed`.
    pub fn generate(cfg: &SimConfig, fingerprint: Option<String>) -> Self {
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let nodes: Vec<Node> = (0..cfg.nodes).map(|i| gen_node(&mut rng, i, cfg.nodes)).collect();
        let node_by_name = nodes.iter().enumerate().map(|(i, n)| (n.name.clone(), i)).collect();
        let mut cluster = Cluster {
            name: cfg.cluster_name.clone(),
            standalone: cfg.nodes == 1,
            nodes,
            node_by_name,
            guests: Vec::with_capacity(cfg.guests),
            guest_by_vmid: HashMap::with_capacity(cfg.guests),
            nfs_total: 8 * 1000 * GIB - 512 * GIB,
            nfs_used: rng.random_range(2100..3600) * GIB,
            tasks: Tasks::default(),
            rng: StdRng::seed_from_u64(cfg.seed ^ 0x9e37_79b9_7f4a_7c15),
            ticks: 0,
            tick_ms: if cfg.tick.is_zero() { 2000 } else { cfg.tick.as_millis().max(1) as u64 },
            stale_after: cfg.offline_stale_after,
            task_duration: cfg.task_duration,
            boot_delay: cfg.boot_delay,
            token_id: cfg.token_id.clone(),
            fingerprint,
            config_version: 3 + (cfg.nodes as u32).min(40),
            epoch: 0,
            clock_offset: 0,
            scenario: Default::default(),
        };
        let now = cluster.unix_now();
        cluster.gen_guests(&mut rng, cfg.guests, now);
        // A few warm-up steps so the first response already shows smoothed, coherent values
        // (node load follows guest load); they use the tick RNG, so they are deterministic too.
        let ticks_before = cluster.ticks;
        for _ in 0..3 {
            cluster.step_metrics(0);
        }
        cluster.ticks = ticks_before;
        for n in &mut cluster.nodes {
            let busy = n.cpu * n.maxcpu as f64;
            n.load = [busy * 1.05, busy * 0.97, busy * 0.92];
        }
        cluster.seed_history(now);
        cluster
    }

    fn gen_guests(&mut self, rng: &mut StdRng, count: usize, now: i64) {
        let demo = catalog::demo_guests();
        // Memory already promised per node, for placement on the node with most room left.
        let mut committed: Vec<u64> = self.nodes.iter().map(|n| n.host_mem).collect();
        for j in 0..count {
            let g = if let Some(spec) = demo.get(j) {
                let vmid = if spec.template { 9000 } else { 100 + j as u32 };
                Guest {
                    vmid,
                    name: spec.name.to_string(),
                    kind: spec.kind,
                    node: 0,
                    template: spec.template,
                    tags: spec.tags.to_string(),
                    cores: spec.cores,
                    maxmem: spec.mem_mib * MIB,
                    maxdisk: spec.disk_gib * GIB,
                    disk_used: 0,
                    ostype: spec.ostype,
                    run: if spec.running { RunState::Running } else { RunState::Stopped },
                    cpu: 0.0,
                    mem_frac: spec.mem_frac,
                    mem: 0,
                    uptime_ms: 0,
                    netin: 0,
                    netout: 0,
                    diskread: 0,
                    diskwrite: 0,
                    pid: 0,
                    profile: Profile {
                        cpu_base: spec.cpu_base,
                        bursty: spec.bursty,
                        mem_frac: spec.mem_frac,
                        net_in: spec.net_rate.0,
                        net_out: spec.net_rate.1,
                        disk_rate: 40_000.0 + spec.cpu_base * 2_000_000.0,
                    },
                    ha: spec.ha,
                    lock: None,
                    pool: spec.pool.map(str::to_string),
                    onboot: spec.running,
                    mac: mac(rng, "BC:24:11"),
                    description: spec.description.to_string(),
                    ctime: now - rng.random_range(30..700) * 86_400,
                    uuid: uuid(rng),
                }
            } else {
                gen_role_guest(rng, j, now)
            };
            // Largest share of free memory first, so guests spread over nodes of any size;
            // ties go to the lowest node index (deterministic).
            let free = |i: usize| {
                let max = self.nodes[i].maxmem as f64;
                (max * 0.9 - committed[i] as f64) / max
            };
            let node = (0..self.nodes.len())
                .max_by(|&a, &b| free(a).total_cmp(&free(b)).then(b.cmp(&a)))
                .unwrap_or(0);
            committed[node] += g.maxmem;
            let mut g = Guest { node, ..g };
            if g.is_up() {
                let node_up = self.nodes[node].uptime_ms;
                let pid = self.next_pid(node);
                let up = rng.random_range(3_600_000..node_up.max(3_600_001));
                g.boot(pid);
                g.uptime_ms = up;
                g.cpu = g.profile.cpu_base;
                g.mem_frac = g.profile.mem_frac;
                g.mem = (g.maxmem as f64 * g.mem_frac) as u64;
                let secs = up as f64 / 1000.0;
                let f: f64 = rng.random_range(0.6..1.2);
                g.netin = (g.profile.net_in * secs * f) as u64;
                g.netout = (g.profile.net_out * secs * f) as u64;
                g.diskread = (g.profile.disk_rate * secs * f * 0.7) as u64;
                g.diskwrite = (g.profile.disk_rate * secs * f * 0.3) as u64;
            }
            g.disk_used = (g.maxdisk as f64 * rng.random_range(0.15..0.6)) as u64;
            self.guest_by_vmid.insert(g.vmid, self.guests.len());
            self.guests.push(g);
        }
        self.guests.sort_by_key(|g| g.vmid);
        self.guest_by_vmid = self.guests.iter().enumerate().map(|(i, g)| (g.vmid, i)).collect();
    }
}

fn gen_node(rng: &mut StdRng, i: usize, total: usize) -> Node {
    // Small clusters get one of each kind of machine so the demo shows a mixed homelab;
    // large ones draw at random.
    let cpu_spec = if total <= CPUS.len() {
        [0usize, 1, 2, 5, 3, 4][i % CPUS.len()]
    } else {
        rng.random_range(0..CPUS.len())
    };
    let spec = &CPUS[cpu_spec];
    // MemTotal is a bit less than the installed RAM (kernel reservations).
    let maxmem = MEM_GIB[cpu_spec] * GIB - MEM_GIB[cpu_spec] * 14 * MIB;
    let rootfs_total = [94u64, 232, 457, 916][rng.random_range(0..4)] * GIB;
    let swap_total = if rng.random_bool(0.5) { 8 * GIB } else { 0 };
    let uptime_days: u64 = rng.random_range(3..90);
    let host_mem = 2 * GIB + maxmem / 50;
    Node {
        name: format!("pve{}", i + 1),
        nodeid: i as u32 + 1,
        ip: node_ip(i),
        online: true,
        offline_since: None,
        powered_off: false,
        boot_at: None,
        power_op: None,
        cpu_spec,
        maxcpu: spec.threads,
        maxmem,
        swap_total,
        swap_used: if swap_total > 0 { rng.random_range(0..300) * MIB } else { 0 },
        rootfs_total,
        rootfs_used: (rootfs_total as f64 * rng.random_range(0.04..0.25)) as u64,
        lvm_total: [476u64, 931, 1863, 3726][rng.random_range(0..4)] * GIB,
        lvm_used: 0,
        cpu: 0.02,
        mem: host_mem,
        uptime_ms: uptime_days * 86_400_000 + rng.random_range(0..86_400_000),
        load: [0.0; 3],
        iowait: 0.002,
        ksm_shared: 0,
        net_rate: (0.0, 0.0),
        host_mem,
        host_cpu: rng.random_range(0.005..0.025),
        mac: mac(rng, "A8:A1:59"),
        efi: rng.random_bool(0.7),
        next_pid: rng.random_range(1000..900_000),
        service_log: Vec::new(),
        stopped_units: Vec::new(),
    }
}

fn gen_role_guest(rng: &mut StdRng, j: usize, now: i64) -> Guest {
    let (prefix, kind, cores, mem_mib, disk_gib, tags) = ROLES[rng.random_range(0..ROLES.len())];
    // Generated vmids start at 200 and skip 9000, which the demo template owns.
    let mut vmid = 200 + (j - 12) as u32;
    if vmid >= 9000 {
        vmid += 1;
    }
    let template = rng.random_bool(0.02);
    let running = !template && rng.random_bool(0.8);
    let cpu_base = rng.random_range(0.01..0.35);
    let mem_frac = rng.random_range(0.3..0.85);
    Guest {
        vmid,
        name: format!("{prefix}-{:02}", j - 11),
        kind,
        node: 0,
        template,
        tags: tags.to_string(),
        cores,
        maxmem: mem_mib * MIB,
        maxdisk: disk_gib * GIB,
        disk_used: 0,
        ostype: match kind {
            GuestType::Qemu => "l26",
            GuestType::Lxc => "debian",
        },
        run: if running { RunState::Running } else { RunState::Stopped },
        cpu: 0.0,
        mem_frac,
        mem: 0,
        uptime_ms: 0,
        netin: 0,
        netout: 0,
        diskread: 0,
        diskwrite: 0,
        pid: 0,
        profile: Profile {
            cpu_base,
            bursty: rng.random_bool(0.2),
            mem_frac,
            net_in: rng.random_range(5_000.0..800_000.0),
            net_out: rng.random_range(5_000.0..800_000.0),
            disk_rate: rng.random_range(10_000.0..900_000.0),
        },
        ha: false,
        lock: None,
        pool: None,
        onboot: running,
        mac: mac(rng, "BC:24:11"),
        description: String::new(),
        ctime: now - rng.random_range(1..400) * 86_400,
        uuid: uuid(rng),
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Instant;

    use super::*;

    #[test]
    fn node_ips_stay_in_loopback_and_never_repeat() {
        assert_eq!(node_ip(0), Ipv4Addr::new(127, 0, 1, 1));
        assert_eq!(node_ip(253), Ipv4Addr::new(127, 0, 1, 254));
        assert_eq!(node_ip(254), Ipv4Addr::new(127, 0, 2, 1));
        let ips: std::collections::HashSet<_> = (0..2000).map(node_ip).collect();
        assert_eq!(ips.len(), 2000);
    }

    #[test]
    fn generation_is_deterministic_for_a_seed() {
        let cfg = SimConfig::default();
        let a = Cluster::generate(&cfg, None);
        let b = Cluster::generate(&cfg, None);
        let key = |c: &Cluster| {
            c.guests.iter().map(|g| (g.vmid, g.node, g.mem, g.netin)).collect::<Vec<_>>()
        };
        assert_eq!(key(&a), key(&b));
        let c = Cluster::generate(&SimConfig { seed: 7, ..cfg }, None);
        assert_ne!(key(&a), key(&c));
    }

    #[test]
    fn demo_cluster_has_running_stopped_and_a_template() {
        let c = Cluster::generate(&SimConfig::default(), None);
        assert_eq!(c.nodes.len(), 4);
        assert_eq!(c.guests.len(), 12);
        assert!(c.guests.iter().filter(|g| g.is_up()).count() >= 6);
        assert!(c.guests.iter().any(|g| !g.is_up() && !g.template));
        assert_eq!(c.guests.iter().filter(|g| g.template).count(), 1);
        assert!(c.guests.iter().any(|g| g.kind == GuestType::Lxc));
        // Every node carries at least one guest and no node is overcommitted on memory.
        for (i, n) in c.nodes.iter().enumerate() {
            assert!(c.guests.iter().any(|g| g.node == i), "{} is empty", n.name);
            assert!(n.mem < n.maxmem, "{} mem {} >= {}", n.name, n.mem, n.maxmem);
        }
        assert!(c.quorate());
    }

    #[test]
    fn quorum_needs_a_strict_majority() {
        let mut c = Cluster::generate(&SimConfig::default(), None);
        let now = Instant::now();
        c.set_node_offline(0, now);
        assert!(c.quorate(), "3 of 4");
        c.set_node_offline(1, now);
        assert!(!c.quorate(), "2 of 4 is not a majority");
        c.set_node_online(1);
        assert!(c.quorate());
    }

    #[test]
    fn large_clusters_generate_unique_vmids() {
        let cfg = SimConfig { nodes: 500, guests: 2500, ..SimConfig::default() };
        let c = Cluster::generate(&cfg, None);
        assert_eq!(c.guest_by_vmid.len(), 2500);
        assert!(c.guests.windows(2).all(|w| w[0].vmid < w[1].vmid));
    }
}
