//! Benchmark: SSH exec round trip on loopback against a real OpenSSH sshd (started like the
//! tests do), with the pooled connection versus a fresh connection per command.
//! Run with `cargo bench -p jarvis-ssh --bench exec_rtt` (needs /usr/sbin/sshd).

#[path = "../tests/common/mod.rs"]
#[allow(missing_docs)]
mod common;

use std::time::{Duration, Instant};

use jarvis_ssh::{HostKeyPolicy, RemoteExec, SshPool};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<28} n={:<4} p50 {:>7.2} ms   p99 {:>7.2} ms",
        samples.len(),
        percentile(&samples, 0.5).as_secs_f64() * 1000.0,
        percentile(&samples, 0.99).as_secs_f64() * 1000.0
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let sshd = common::Sshd::start();
        let target = sshd.target();
        let timeout = Duration::from_secs(10);

        let pool = sshd.pool();
        pool.exec(&target, "true", timeout).await.unwrap(); // warm: connect + auth once
        let mut pooled = Vec::new();
        for _ in 0..100 {
            let t = Instant::now();
            pool.exec(&target, "true", timeout).await.unwrap();
            pooled.push(t.elapsed());
        }
        report("exec, pooled connection", pooled);

        let mut fresh = Vec::new();
        for _ in 0..30 {
            let pool = SshPool::new(sshd.config(HostKeyPolicy::AcceptAny)).unwrap();
            let t = Instant::now();
            pool.exec(&target, "true", timeout).await.unwrap();
            fresh.push(t.elapsed());
        }
        report("exec, fresh connection", fresh);
    });
}
