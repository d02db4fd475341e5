//! The `/cluster` namespace: a full snapshot on connect, then only the sections that changed.
//!
//! Events: `nodes`, `vms`, `storage`, `quorum`, `temperature`, and `freshness` (the staleness
//! marker). Client → server `refresh` re-sends the snapshot to that socket only, at most once
//! every two seconds, so one client can never make the server broadcast to everyone.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jarvis_domain::{ClusterSnapshot, TemperatureReading};
use parking_lot::Mutex;
use socketioxide::SocketIo;
use socketioxide::extract::{SocketRef, State};
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

const REFRESH_MIN_GAP: Duration = Duration::from_secs(2);

/// Per-node temperatures, from the nodes that have readings.
pub fn temperatures(snap: &ClusterSnapshot) -> Vec<TemperatureReading> {
    snap.nodes
        .iter()
        .filter_map(|n| {
            n.temperatures
                .as_ref()
                .map(|z| TemperatureReading { node: n.name.clone(), zones: z.clone() })
        })
        .collect()
}

fn emit_snapshot(s: &SocketRef, snap: &ClusterSnapshot) {
    // Errors mean the socket is gone or its buffer is full; it will get the next change.
    let _ = s.emit("nodes", &snap.nodes);
    let _ = s.emit("vms", &snap.vms);
    let _ = s.emit("storage", &snap.storage);
    let _ = s.emit("quorum", &snap.quorum);
    let _ = s.emit("temperature", &temperatures(snap));
    let _ = s.emit("freshness", &snap.freshness);
}

/// Connect handler (runs after the auth middleware accepted the socket).
pub async fn on_connect(s: SocketRef, State(state): State<AppState>) {
    emit_snapshot(&s, &state.cluster.snapshot());
}

/// Registers the event handlers; connect middleware, after the auth check (see
/// [`super::layer`] for why handlers are registered in middleware).
pub async fn register(s: SocketRef, State(state): State<AppState>) -> Result<(), Infallible> {
    state.metrics.socket_clients.inc();
    let last_refresh = Arc::new(Mutex::new(Instant::now()));
    s.on("refresh", async move |s: SocketRef, State(state): State<AppState>| {
        let now = Instant::now();
        {
            let mut last = last_refresh.lock();
            if now.duration_since(*last) < REFRESH_MIN_GAP {
                return;
            }
            *last = now;
        }
        emit_snapshot(&s, &state.cluster.snapshot());
    });
    s.on_disconnect(async |State(state): State<AppState>| {
        state.metrics.socket_clients.dec();
    });
    Ok(())
}

/// Broadcasts each published cluster change to every `/cluster` socket, section by section,
/// until cancelled.
pub async fn push_cluster_changes(io: SocketIo, state: AppState, cancel: CancellationToken) {
    let mut rx = state.cluster.subscribe();
    let mut last = rx.borrow_and_update().clone();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            changed = rx.changed() => if changed.is_err() { break },
        }
        let next = rx.borrow_and_update().clone();
        let changes = next.changes_since(&last);
        let Some(ns) = io.of("/cluster") else { break };
        // Broadcast emits queue per socket and never wait on a slow client.
        if changes.nodes {
            let _ = ns.clone().emit("nodes", &next.nodes).await;
            let temps = temperatures(&next);
            if temps != temperatures(&last) {
                let _ = ns.clone().emit("temperature", &temps).await;
            }
        }
        if changes.vms {
            let _ = ns.clone().emit("vms", &next.vms).await;
        }
        if changes.storage {
            let _ = ns.clone().emit("storage", &next.storage).await;
        }
        if changes.quorum {
            let _ = ns.clone().emit("quorum", &next.quorum).await;
        }
        if changes.freshness {
            let _ = ns.clone().emit("freshness", &next.freshness).await;
        }
        last = next;
    }
}
