//! Metric movement: one tick moves every running guest and online node by a bounded, smoothed
//! random walk, and grows uptimes and traffic counters by the simulated tick length.
//!
//! Deterministic: all randomness comes from the cluster's own seeded RNG, which nothing else
//! draws from, so the same seed and the same number of ticks give the same numbers.

use rand::Rng;
use rand::rngs::StdRng;

use crate::model::{Cluster, Guest, Node, RunState};

const MIB: u64 = 1024 * 1024;

/// What one running backup adds to its node: zstd compression threads and archive IO (B/s).
const BACKUP_CPU_THREADS: f64 = 1.5;
const BACKUP_IO: f64 = 20_000_000.0;

/// Per-node sums over its running guests, gathered in one pass.
#[derive(Default, Clone, Copy)]
struct NodeSums {
    cpu_threads: f64,
    mem: f64,
    net_in: f64,
    net_out: f64,
    disk_io: f64,
    thin_used: f64,
}

fn jitter(rng: &mut StdRng, amp: f64) -> f64 {
    if amp <= 0.0 { 0.0 } else { rng.random_range(-amp..=amp) }
}

impl Cluster {
    /// Advances metrics by one tick of simulated time; scenario pins then win over movement.
    pub fn tick(&mut self) {
        self.ticks += 1;
        let dt = self.tick_ms;
        self.step_metrics(dt);
        self.enforce_pins();
    }

    /// Moves every metric by `dt_ms` of simulated time (0 only smooths, used for warm-up).
    pub(crate) fn step_metrics(&mut self, dt_ms: u64) {
        let secs = dt_ms as f64 / 1000.0;
        let mut sums = vec![NodeSums::default(); self.nodes.len()];
        // A running backup compresses and writes: its node gets busier (realistic, and what
        // lets the monitor show backup-caused alerts being suppressed).
        for (s, n) in sums.iter_mut().zip(self.backups_per_node()) {
            s.cpu_threads += BACKUP_CPU_THREADS * f64::from(n);
            s.disk_io += BACKUP_IO * f64::from(n);
        }
        let Cluster { guests, nodes, rng, .. } = self;
        for g in guests.iter_mut() {
            let node_online = nodes[g.node].online;
            // A node that is off the network reports nothing new: its guests' numbers freeze.
            if node_online {
                step_guest(g, rng, dt_ms, secs);
            }
            let s = &mut sums[g.node];
            // Thin volumes are allocated whether the guest runs or not.
            s.thin_used += g.maxdisk as f64 * if g.template { 0.1 } else { 0.45 };
            if g.is_up() {
                s.cpu_threads += g.cpu * g.cores as f64;
                s.mem += g.mem as f64
                    * if g.kind == jarvis_domain::GuestType::Qemu {
                        1.03 // QEMU process overhead
                    } else {
                        1.0
                    };
                if g.run == RunState::Running {
                    s.net_in += g.profile.net_in;
                    s.net_out += g.profile.net_out;
                    s.disk_io += g.profile.disk_rate;
                }
            }
        }
        for (n, s) in nodes.iter_mut().zip(sums.iter()) {
            if n.online {
                step_node(n, s, rng, dt_ms, secs);
            }
        }
        // Backups land on the NAS now and then; old ones get pruned.
        if dt_ms > 0 {
            let delta = rng.random_range(-2.0..5.0) * 1_000_000.0 * secs;
            self.nfs_used = (self.nfs_used as f64 + delta)
                .clamp(0.1 * self.nfs_total as f64, 0.9 * self.nfs_total as f64)
                as u64;
        }
    }
}

fn step_guest(g: &mut Guest, rng: &mut StdRng, dt_ms: u64, secs: f64) {
    match g.run {
        RunState::Stopped => {}
        RunState::Paused => {
            g.cpu = 0.0;
            g.uptime_ms += dt_ms;
        }
        RunState::Running => {
            let p = &g.profile;
            let mut target = p.cpu_base;
            if p.bursty && rng.random_bool(0.15) {
                target = (p.cpu_base + rng.random_range(0.3..0.75)).min(1.0);
            }
            let noise = jitter(rng, p.cpu_base.max(0.02) * 0.6);
            g.cpu = (0.55 * g.cpu + 0.45 * (target + noise)).clamp(0.0, 1.0);
            let pull = 0.08 * (p.mem_frac - g.mem_frac);
            g.mem_frac = (g.mem_frac + pull + jitter(rng, 0.012)).clamp(0.08, 0.97);
            g.mem = (g.maxmem as f64 * g.mem_frac) as u64;
            // Traffic follows activity: a busier guest moves more bytes.
            let activity = (g.cpu / p.cpu_base.max(0.01)).clamp(0.3, 3.0);
            let f_in: f64 = rng.random_range(0.6..1.4);
            let f_out: f64 = rng.random_range(0.6..1.4);
            g.netin += (p.net_in * secs * f_in * activity) as u64;
            g.netout += (p.net_out * secs * f_out * activity) as u64;
            g.diskread += (p.disk_rate * 0.7 * secs * f_in) as u64;
            g.diskwrite += (p.disk_rate * 0.3 * secs * f_out) as u64;
            if g.kind == jarvis_domain::GuestType::Lxc {
                let growth = rng.random_range(0.0..4096.0) * secs;
                g.disk_used = (g.disk_used + growth as u64).min(g.maxdisk / 100 * 95);
            }
            g.uptime_ms += dt_ms;
        }
    }
}

fn step_node(n: &mut Node, s: &NodeSums, rng: &mut StdRng, dt_ms: u64, secs: f64) {
    let threads = n.maxcpu.max(1) as f64;
    let target = n.host_cpu + s.cpu_threads / threads + jitter(rng, 0.004);
    n.cpu = (0.5 * n.cpu + 0.5 * target).clamp(0.0, 1.0);
    n.iowait = (0.6 * n.iowait + 0.4 * rng.random_range(0.0..0.02) * (1.0 + s.disk_io / 2e6))
        .clamp(0.0, 0.5);
    let page_cache = jitter(rng, 0.002) * n.maxmem as f64;
    let mem = n.host_mem as f64 + s.mem + page_cache;
    n.mem = mem.clamp(0.0, n.maxmem as f64 * 0.97) as u64;
    // KSM merges pages once memory gets tight, as on a real host.
    n.ksm_shared = if n.mem > n.maxmem / 10 * 8 { n.mem / 20 } else { 0 };
    n.lvm_used = (s.thin_used as u64).min(n.lvm_total / 100 * 98);
    if n.swap_total > 0 {
        let walk = jitter(rng, 2.0) * MIB as f64;
        n.swap_used = (n.swap_used as f64 + walk).clamp(0.0, n.swap_total as f64 * 0.5) as u64;
    }
    n.net_rate = (
        (s.net_in + 2_000.0) * rng.random_range(0.8..1.2),
        (s.net_out + 1_500.0) * rng.random_range(0.8..1.2),
    );
    if dt_ms > 0 {
        // Logs and package caches grow the root filesystem a little.
        let growth = rng.random_range(0.0..20_000.0) * secs;
        n.rootfs_used = (n.rootfs_used + growth as u64).min(n.rootfs_total / 100 * 95);
        n.uptime_ms += dt_ms;
        // Load averages are exponentially damped over 1, 5 and 15 minutes, like the kernel's.
        let runnable = n.cpu * threads + n.iowait * threads * 0.5;
        for (load, window) in n.load.iter_mut().zip([60.0, 300.0, 900.0]) {
            let k = 1.0 - (-secs / window).exp();
            *load += (runnable - *load) * k;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::SimConfig;
    use crate::model::Cluster;

    fn fingerprint(c: &Cluster) -> Vec<(u64, u64, u64, u64)> {
        c.guests.iter().map(|g| (g.cpu.to_bits(), g.mem, g.netin, g.uptime_ms)).collect()
    }

    #[test]
    fn ticks_move_metrics_deterministically() {
        let cfg = SimConfig::default();
        let mut a = Cluster::generate(&cfg, None);
        let mut b = Cluster::generate(&cfg, None);
        let before = fingerprint(&a);
        for _ in 0..5 {
            a.tick();
            b.tick();
        }
        assert_ne!(before, fingerprint(&a), "metrics must move");
        assert_eq!(fingerprint(&a), fingerprint(&b), "same seed, same ticks, same values");
    }

    #[test]
    fn metrics_stay_in_bounds_and_counters_only_grow() {
        let mut c =
            Cluster::generate(&SimConfig { guests: 60, nodes: 5, ..SimConfig::default() }, None);
        let mut last: Vec<(u64, u64, u64)> =
            c.guests.iter().map(|g| (g.netin, g.netout, g.uptime_ms)).collect();
        for _ in 0..300 {
            c.tick();
            for (g, prev) in c.guests.iter().zip(last.iter_mut()) {
                assert!((0.0..=1.0).contains(&g.cpu), "cpu {}", g.cpu);
                assert!(g.mem <= g.maxmem);
                if g.is_up() {
                    assert!(g.netin >= prev.0 && g.netout >= prev.1 && g.uptime_ms > prev.2);
                } else {
                    assert_eq!((g.cpu, g.mem, g.uptime_ms, g.netin), (0.0, 0, 0, 0));
                }
                *prev = (g.netin, g.netout, g.uptime_ms);
            }
            for n in &c.nodes {
                assert!((0.0..=1.0).contains(&n.cpu));
                assert!(n.mem < n.maxmem);
                assert!(n.load.iter().all(|l| l.is_finite() && *l >= 0.0));
            }
        }
    }

    #[test]
    fn offline_nodes_freeze() {
        let mut c = Cluster::generate(&SimConfig::default(), None);
        c.set_node_offline(0, std::time::Instant::now());
        let frozen: Vec<_> =
            c.guests.iter().filter(|g| g.node == 0).map(|g| (g.cpu.to_bits(), g.netin)).collect();
        let up = c.nodes[0].uptime_ms;
        c.tick();
        let after: Vec<_> =
            c.guests.iter().filter(|g| g.node == 0).map(|g| (g.cpu.to_bits(), g.netin)).collect();
        assert_eq!(frozen, after);
        assert_eq!(up, c.nodes[0].uptime_ms);
    }
}
