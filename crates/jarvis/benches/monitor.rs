//! Benchmark: the monitor's decision per evaluation at 500 nodes / 2,500 guests — each tier's
//! `Monitor::evaluate` over the real snapshot of a simulated cluster that size and a task list of
//! 500 entries (what `/cluster/tasks` returns), with a few crashes and metric breaches happening
//! between runs so incidents open, act and resolve. Reads (the snapshot is in memory; the task list
//! is one HTTP call the critical tier makes) are not included: they are measured by `poll_cycle`.
//!
//! `cargo bench -p jarvis --bench monitor` (target: < 10 ms per evaluation).

use std::time::{Duration, Instant};

use chrono::Utc;
use jarvis_domain::monitor::{
    ActionOutcome, AutonomyLevel, Effect, Monitor, MonitorSettings, MonitorTier, Observed, TaskInfo,
};
use jarvis_domain::{ClusterSnapshot, GuestStatus};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn snapshot() -> ClusterSnapshot {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async {
        let sim = jarvis_sim::SimServer::start(jarvis_sim::SimConfig {
            nodes: 500,
            guests: 2500,
            ssh: false,
            tick: Duration::ZERO,
            ..jarvis_sim::SimConfig::default()
        })
        .await
        .unwrap();
        let snap = sim.control().snapshot();
        sim.shutdown().await;
        snap
    })
}

fn tasks(snap: &ClusterSnapshot, now: chrono::DateTime<Utc>) -> Vec<TaskInfo> {
    snap.vms
        .iter()
        .take(500)
        .enumerate()
        .map(|(i, v)| TaskInfo {
            upid: format!("UPID:{}:{i:08X}:00000000:00000000:qmstart:{}:root@pam:", v.node, v.vmid),
            node: v.node.clone(),
            kind: if i % 7 == 0 { "vzdump".into() } else { "qmstart".into() },
            id: v.vmid.to_string(),
            user: "root@pam".into(),
            start: now - chrono::Duration::minutes(30 + i as i64),
            end: Some(now - chrono::Duration::minutes(29 + i as i64)),
            status: Some("OK".into()),
        })
        .collect()
}

fn main() {
    let mut snap = snapshot();
    println!(
        "cluster: {} nodes, {} guests, {} storage entries",
        snap.nodes.len(),
        snap.vms.len(),
        snap.storage.len()
    );
    let mut now = Utc::now();
    let mut m = Monitor::new(MonitorSettings::default(), AutonomyLevel::ActReport);
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); 4];
    let mut effects = 0usize;
    let running: Vec<usize> =
        (0..snap.vms.len()).filter(|&i| snap.vms[i].status == GuestStatus::Running).collect();
    for round in 0..300 {
        now += chrono::Duration::seconds(12);
        // Now and then a guest crashes, a node runs hot, and crashed guests come back.
        if round % 10 == 5 {
            let i = running[(round * 37) % running.len()];
            snap.vms[i].status = GuestStatus::Stopped;
        }
        if round % 10 == 0 {
            for &i in &running {
                snap.vms[i].status = GuestStatus::Running;
            }
            let n = (round * 13) % snap.nodes.len();
            snap.nodes[n].cpu = if snap.nodes[n].cpu > 0.9 { 0.2 } else { 0.99 };
        }
        let list = tasks(&snap, now);
        for (t, tier) in MonitorTier::ALL.iter().enumerate() {
            let o = Observed {
                snapshot: &snap,
                tasks: tier.reads_tasks().then_some(list.as_slice()),
                actions: &[],
                kill_switch: false,
            };
            let started = Instant::now();
            let fx = m.evaluate(*tier, &o, now);
            samples[t].push(started.elapsed());
            effects += fx.len();
            // The pipeline answers every runbook action at once (as if PVE were instant).
            for e in fx {
                if let Effect::RunAction(req) = e {
                    let _ = m.action_done(
                        &req.action_id,
                        ActionOutcome::Executed { audit_id: None },
                        now,
                    );
                }
            }
        }
    }
    for (t, tier) in MonitorTier::ALL.iter().enumerate() {
        let s = &mut samples[t];
        s.sort();
        println!(
            "{:<10} evaluate: p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms  ({} runs)",
            tier.as_str(),
            percentile(s, 0.5).as_secs_f64() * 1e3,
            percentile(s, 0.99).as_secs_f64() * 1e3,
            s.last().unwrap().as_secs_f64() * 1e3,
            s.len()
        );
    }
    let live = m.incidents().filter(|i| i.is_live()).count();
    println!(
        "effects produced: {effects}; incidents remembered: {}, unresolved: {live}",
        m.incidents().count()
    );
}
