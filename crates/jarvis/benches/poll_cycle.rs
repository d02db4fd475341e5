//! Benchmark: CPU time and memory of one full cluster poll cycle (PVE client round trips, JSON
//! parsing, mapping to the domain model, snapshot diff and publish) against a simulated cluster
//! of 500 nodes and 2,500 guests.
//!
//! The simulator runs in the same process but on its own runtime threads (named `sim-*`); the
//! poll runs on threads named `poll-*`. CPU time is read per thread from `/proc/self/task`, so
//! the figure is the poller's own cost, not the simulator's. Run with
//! `cargo bench -p jarvis --bench poll_cycle` (Linux only).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jarvis::cluster::{ClusterState, apply_poll};

fn thread_cpu_seconds(prefix: &str) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    let mut total = 0u64;
    for entry in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        if !stat[open + 1..close].starts_with(prefix) {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the comm field.
        let utime: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
        let stime: u64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
        total += utime + stime;
    }
    total as f64 / ticks
}

fn status_kb(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    jarvis::auth::install_crypto();
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("sim-worker")
        .enable_all()
        .build()
        .unwrap();
    let sim = sim_rt
        .block_on(jarvis_sim::SimServer::start(jarvis_sim::SimConfig {
            nodes: 500,
            guests: 2500,
            tick: Duration::from_secs(3600),
            ssh: false,
            ..jarvis_sim::SimConfig::default()
        }))
        .expect("simulator starts");
    let poll_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("poll-worker")
        .enable_all()
        .build()
        .unwrap();

    let defaults = jarvis_sim::SimConfig::default();
    let mut pve = jarvis_proxmox::PveConfig::new(
        vec![url::Url::parse(&sim.base_url()).unwrap()],
        defaults.token_id,
        defaults.token_secret,
    );
    pve.tls = jarvis_proxmox::TlsMode::Fingerprints(
        jarvis_proxmox::parse_fingerprints(&sim.fingerprint().unwrap()).unwrap(),
    );
    pve.discover_endpoints = false;
    let client: Arc<dyn jarvis_proxmox::ProxmoxApi> =
        Arc::new(jarvis_proxmox::PveClient::new(pve).unwrap());
    let state = ClusterState::new();

    let cycle = |client: Arc<dyn jarvis_proxmox::ProxmoxApi>, state: ClusterState| async move {
        let result = jarvis_proxmox::read_cluster(client.as_ref()).await;
        let next =
            apply_poll(&state.snapshot(), result, chrono::Utc::now(), client.current_endpoint());
        assert!(!next.freshness.stale, "poll failed: {:?}", next.freshness.error);
        let counts = (next.nodes.len(), next.vms.len(), next.storage.len());
        state.publish(next);
        counts
    };

    // Warm up: connections, TLS session, allocator.
    for _ in 0..3 {
        poll_rt.block_on(cycle(client.clone(), state.clone()));
    }
    let rss_before = status_kb("VmRSS:");
    let runs = 60;
    let cpu0 = thread_cpu_seconds("poll-");
    let main0 = thread_cpu_seconds("poll_cycle");
    let t0 = Instant::now();
    let mut counts = (0, 0, 0);
    for _ in 0..runs {
        counts = poll_rt.block_on(cycle(client.clone(), state.clone()));
    }
    let wall = t0.elapsed().as_secs_f64() / runs as f64;
    let cpu = (thread_cpu_seconds("poll-") - cpu0 + thread_cpu_seconds("poll_cycle") - main0)
        / runs as f64;
    println!(
        "poll cycle over {} nodes / {} guests / {} storage entries ({runs} runs):",
        counts.0, counts.1, counts.2
    );
    println!("  wall time per cycle:   {:>8.1} ms", wall * 1000.0);
    println!("  poller CPU per cycle:  {:>8.1} ms (user+sys of poll threads)", cpu * 1000.0);
    println!(
        "  process RSS:           {:>8.1} MB (before {:.1} MB; peak {:.1} MB incl. simulator)",
        status_kb("VmRSS:") as f64 / 1024.0,
        rss_before as f64 / 1024.0,
        status_kb("VmHWM:") as f64 / 1024.0
    );
    drop(sim);
}
