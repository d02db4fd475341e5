//! The `/events` namespace: activity events, confirmation changes and monitor status, pushed
//! from the event bus. On connect a socket gets the current monitor status, so a reloaded page
//! shows the kill switch correctly before anything changes.

use socketioxide::SocketIo;
use socketioxide::extract::{SocketRef, State};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::bus::ServerEvent;
use crate::state::AppState;

/// Connect handler (after the auth middleware).
pub async fn on_connect(s: SocketRef, State(state): State<AppState>) {
    state.metrics.socket_clients.inc();
    let _ = s.emit("monitor:status", &state.monitor.status());
    s.on_disconnect(async |State(state): State<AppState>| {
        state.metrics.socket_clients.dec();
    });
}

/// Forwards bus events to every `/events` socket until cancelled.
pub async fn push_events(io: SocketIo, state: AppState, cancel: CancellationToken) {
    let mut rx = state.bus.subscribe();
    loop {
        let event = tokio::select! {
            _ = cancel.cancelled() => break,
            e = rx.recv() => e,
        };
        let event = match event {
            Ok(e) => e,
            // A burst overflowed the buffer: browsers reload state from REST on reconnect, so
            // skipping is safe; say so in the log.
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(skipped = n, "event pusher lagged");
                continue;
            }
            Err(RecvError::Closed) => break,
        };
        let Some(ns) = io.of("/events") else { break };
        let _ = match &event {
            ServerEvent::Event(e) => ns.emit("event", e).await,
            ServerEvent::Confirmation(c) => ns.emit("confirmation", c).await,
            ServerEvent::MonitorStatus(m) => ns.emit("monitor:status", m).await,
            ServerEvent::Incident(i) => ns.emit("incident", i.as_ref()).await,
        };
    }
}
