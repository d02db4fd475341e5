//! Node temperatures over SSH (LIVE-01): every interval, every online node is asked in parallel
//! with one fixed, server-authored command; readings are merged into the cluster state, which
//! pushes them to the dashboard as `temperature`.
//!
//! A node that does not answer keeps its last readings until the next success; one slow node
//! never delays the others (each has its own timeout).

use std::collections::BTreeMap;
use std::time::Duration;

use jarvis_domain::NodeStatus;
use jarvis_domain::temperature::{TEMPERATURE_COMMAND, parse_temperatures};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::ClusterState;
use crate::ssh::Ssh;

/// Per-node timeout of one reading.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads all online nodes once; returns the readings of the nodes that answered.
pub async fn read_all(ssh: &Ssh, state: &ClusterState) -> BTreeMap<String, BTreeMap<String, f64>> {
    let nodes: Vec<String> = state
        .snapshot()
        .nodes
        .iter()
        .filter(|n| n.status == NodeStatus::Online)
        .map(|n| n.name.clone())
        .collect();
    let reads = nodes.into_iter().map(|node| async move {
        match ssh.run(&node, TEMPERATURE_COMMAND, READ_TIMEOUT).await {
            Ok(out) => Some((node, parse_temperatures(&out.stdout))),
            Err(e) => {
                tracing::debug!(%node, error = %e, "temperature read failed");
                None
            }
        }
    });
    futures::future::join_all(reads)
        .await
        .into_iter()
        .flatten()
        .filter(|(_, z)| !z.is_empty())
        .collect()
}

/// Merges readings into the state.
pub fn merge(state: &ClusterState, readings: BTreeMap<String, BTreeMap<String, f64>>) {
    if readings.is_empty() {
        return;
    }
    state.update(|snap| {
        let mut next = snap.clone();
        for node in &mut next.nodes {
            if let Some(zones) = readings.get(&node.name) {
                node.temperatures = Some(zones.clone());
            }
        }
        next
    });
}

/// Reads temperatures every `interval` until cancelled (waits for the first poll to know the
/// nodes).
pub async fn run(ssh: Ssh, state: ClusterState, interval: Duration, cancel: CancellationToken) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut rx = state.subscribe();
    // The first reading waits until the poller has found the nodes.
    while state.snapshot().nodes.is_empty() {
        tokio::select! {
            _ = cancel.cancelled() => return,
            changed = rx.changed() => if changed.is_err() { return },
        }
    }
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let readings = tokio::select! {
            _ = cancel.cancelled() => break,
            r = read_all(&ssh, &state) => r,
        };
        merge(&state, readings);
    }
}
