//! The cluster poller: one loop that reads PVE (`/cluster/resources` + `/cluster/status`, one
//! round trip each) every interval and publishes the result into [`ClusterState`].
//!
//! A failed poll never blanks the dashboard: the last good data stays, marked stale with the
//! reason ([`apply_poll`]). The client fails over between endpoints by itself, so "stale" means
//! every endpoint failed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jarvis_domain::{ClusterSnapshot, Freshness};
use jarvis_proxmox::{ClusterView, ProxmoxApi, PveError};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::ClusterState;
use crate::metrics::Metrics;

/// Computes the next snapshot from the previous one and a poll result. Pure, so the staleness
/// rules are tested without a server.
pub fn apply_poll(
    previous: &ClusterSnapshot,
    result: Result<ClusterView, PveError>,
    now: DateTime<Utc>,
    endpoint: Option<String>,
) -> ClusterSnapshot {
    match result {
        Ok(view) => {
            let mut nodes = view.nodes;
            // Temperatures come from a separate (SSH) source; keep the last known readings.
            for node in &mut nodes {
                if node.temperatures.is_none() {
                    node.temperatures =
                        previous.node(&node.name).and_then(|n| n.temperatures.clone());
                }
            }
            let mut snap = ClusterSnapshot {
                nodes,
                vms: view.vms,
                storage: view.storage,
                quorum: view.quorum,
                updated_at: Some(now),
                freshness: Freshness { updated_at: Some(now), stale: false, error: None, endpoint },
            };
            snap.normalise();
            snap
        }
        Err(err) => {
            let mut snap = previous.clone();
            snap.freshness = Freshness {
                updated_at: previous.updated_at,
                stale: true,
                error: Some(err.to_string()),
                endpoint: previous.freshness.endpoint.clone(),
            };
            snap
        }
    }
}

/// The poller component.
pub struct Poller {
    /// Where cluster data comes from.
    pub api: Arc<dyn ProxmoxApi>,
    /// Where it goes.
    pub state: ClusterState,
    /// Poll duration and error counters.
    pub metrics: Metrics,
    /// Time between polls.
    pub interval: Duration,
}

impl Poller {
    /// Polls once and publishes the result.
    pub async fn poll_once(&self) {
        let started = Instant::now();
        let result = jarvis_proxmox::read_cluster(self.api.as_ref()).await;
        self.metrics.poll_duration.observe(started.elapsed().as_secs_f64());
        if let Err(e) = &result {
            self.metrics.pve_errors.inc();
            tracing::warn!(error = %e, "cluster poll failed; keeping the last data, marked stale");
        }
        let endpoint = self.api.current_endpoint();
        self.state.update(|previous| {
            let next = apply_poll(previous, result, Utc::now(), endpoint);
            if previous.freshness.stale && !next.freshness.stale && previous.updated_at.is_some() {
                tracing::info!("cluster poll recovered");
            }
            next
        });
        let snap = self.state.snapshot();
        self.metrics.cluster_nodes.set(snap.nodes.len() as i64);
        self.metrics.cluster_guests.set(snap.vms.len() as i64);
    }

    /// Polls until `cancel` fires. The first poll runs immediately so the dashboard fills within
    /// a second of start-up; a slow poll delays the next tick instead of stacking polls up.
    pub async fn run(self, cancel: CancellationToken) {
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = ticker.tick() => {}
            }
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = self.poll_once() => {}
            }
        }
        tracing::debug!("cluster poller stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jarvis_domain::{Node, NodeStatus, Quorum};
    use std::collections::BTreeMap;

    fn node(name: &str, temps: Option<BTreeMap<String, f64>>) -> Node {
        Node {
            name: name.into(),
            status: NodeStatus::Online,
            ip: None,
            cpu: 0.5,
            maxcpu: 8,
            mem: 1,
            maxmem: 2,
            disk: 1,
            maxdisk: 2,
            uptime: 3,
            temperatures: temps,
        }
    }

    fn view() -> ClusterView {
        ClusterView {
            nodes: vec![node("b", None), node("a", None)],
            vms: vec![],
            storage: vec![],
            quorum: Quorum { quorate: true, nodes: 2, expected: 2, cluster_name: None },
        }
    }

    #[test]
    fn success_fills_and_sorts_and_is_fresh() {
        let now = Utc::now();
        let s = apply_poll(&ClusterSnapshot::empty(), Ok(view()), now, Some("https://x".into()));
        assert_eq!(s.nodes[0].name, "a");
        assert!(!s.freshness.stale);
        assert_eq!(s.updated_at, Some(now));
        assert_eq!(s.freshness.endpoint.as_deref(), Some("https://x"));
    }

    #[test]
    fn failure_keeps_last_data_and_marks_stale_with_reason() {
        let t0 = Utc::now();
        let good = apply_poll(&ClusterSnapshot::empty(), Ok(view()), t0, None);
        let err = PveError::Timeout { endpoint: "https://pve1:8006".into() };
        let later = t0 + chrono::Duration::seconds(10);
        let s = apply_poll(&good, Err(err), later, None);
        assert_eq!(s.nodes, good.nodes, "data is never blanked");
        assert!(s.freshness.stale);
        assert_eq!(s.updated_at, Some(t0), "updatedAt stays at the last good poll");
        assert!(s.freshness.error.as_deref().unwrap_or("").contains("pve1"));
        // Recovery clears the marker.
        let back = apply_poll(&s, Ok(view()), later, None);
        assert!(!back.freshness.stale && back.freshness.error.is_none());
    }

    #[test]
    fn temperatures_survive_a_poll_that_does_not_carry_them() {
        let mut prev = ClusterSnapshot::empty();
        let temps: BTreeMap<String, f64> = [("cpu".to_string(), 51.0)].into();
        prev.nodes = vec![node("a", Some(temps.clone()))];
        let s = apply_poll(&prev, Ok(view()), Utc::now(), None);
        assert_eq!(s.node("a").unwrap().temperatures, Some(temps));
        assert_eq!(s.node("b").unwrap().temperatures, None);
    }
}
