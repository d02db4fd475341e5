//! Benchmark: overhead of the tool pipeline itself (argument parsing, known-node check, kill
//! switch read, safety decision, audit and confirmation writes to a real SQLite file), measured
//! on calls whose "tool" does no IO:
//! - `get_cluster_status` (GREEN): parse → decide → answer from the in-memory snapshot;
//! - `start_vm` with the kill switch on: parse → decide → blocked → audit row + event row;
//! - `stop_vm` (RED): parse → decide → confirmation record + audit row.
//!
//! Run with `cargo bench -p jarvis --bench pipeline`.

mod common;

use std::time::{Duration, Instant};

use common::percentile;
use jarvis::tools::{Pipeline, Source, ToolRequest};
use serde_json::json;

async fn measure(p: &Pipeline, tool: &str, args: serde_json::Value, n: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let req = ToolRequest {
            tool: tool.into(),
            args: args.clone(),
            source: Source::Api,
            actor: "bench".into(),
            session: None,
        };
        let t = Instant::now();
        let outcome = p.submit(req).await.expect("pipeline answers");
        out.push(t.elapsed());
        std::hint::black_box(outcome);
    }
    out.sort();
    out
}

fn report(name: &str, samples: &[Duration]) {
    println!(
        "{name:<44} n={:<5} p50 {:>7.3} ms   p99 {:>7.3} ms",
        samples.len(),
        percentile(samples, 0.5).as_secs_f64() * 1000.0,
        percentile(samples, 0.99).as_secs_f64() * 1000.0
    );
}

fn main() {
    jarvis::auth::install_crypto();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let db = jarvis::db::Db::open(&dir.path().join("bench.db")).await.unwrap();
        let bench = common::pipeline_on_simulator(db).await;
        let p = bench.pipeline.clone();
        let (guard, cluster) = (p.guard.clone(), p.cluster.clone());
        let snap = cluster.snapshot();
        let vm = snap
            .vms
            .iter()
            .find(|v| v.kind == jarvis_domain::GuestType::Qemu && !v.template)
            .unwrap();
        let guest = json!({"node": vm.node, "vmid": vm.vmid});

        measure(&p, "get_cluster_status", json!({}), 200).await; // warm-up
        report(
            "green read (get_cluster_status)",
            &measure(&p, "get_cluster_status", json!({}), 2000).await,
        );
        report(
            "red → confirmation record + audit",
            &measure(&p, "stop_vm", guest.clone(), 1000).await,
        );
        guard.set_kill_switch(true).await.unwrap();
        report(
            "kill switch → blocked + audit + event",
            &measure(&p, "start_vm", guest, 1000).await,
        );
    });
}
