//! Socket.IO: the namespaces, their token check at connect, and the pusher that turns cluster
//! state changes into events.
//!
//! Every namespace uses the same connect middleware: `auth: {token}` in the handshake must be a
//! valid, unrevoked session token, otherwise the client gets `connect_error` with the message
//! `unauthorized`. The token is kept in the socket's extensions so the sweeper can disconnect a
//! socket once its token expires or is revoked by logout.

mod chat;
mod cluster;
mod events;
mod terminal;

use std::time::Duration;

use serde::Deserialize;
use socketioxide::SocketIo;
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

pub use cluster::push_cluster_changes;
pub use events::push_events;

/// Namespaces served (others are refused by socketioxide).
pub const NAMESPACES: &[&str] = &["/cluster", "/events", "/terminal", "/chat"];

/// Handshake `auth` payload.
#[derive(Debug, Deserialize)]
struct AuthPayload {
    token: String,
}

/// The token a socket authenticated with.
#[derive(Clone)]
struct SocketToken(String);

/// Why a connection was refused; the message is what the client sees in `connect_error`.
#[derive(Debug, thiserror::Error)]
#[error("unauthorized")]
struct Unauthorized;

async fn authenticate(
    s: SocketRef,
    State(state): State<AppState>,
    auth: TryData<AuthPayload>,
) -> Result<(), Unauthorized> {
    let TryData(Ok(AuthPayload { token })) = auth else {
        tracing::debug!(ns = %s.ns(), "socket refused: no token in handshake");
        return Err(Unauthorized);
    };
    match state.auth.verify(&token) {
        Ok(_) => {
            s.extensions.insert(SocketToken(token));
            Ok(())
        }
        Err(e) => {
            tracing::debug!(ns = %s.ns(), error = %e, "socket refused");
            Err(Unauthorized)
        }
    }
}

/// The connect handler of namespaces whose setup is all in middleware.
async fn connected(_s: SocketRef) {}

/// Builds the Socket.IO layer and registers the namespaces.
pub fn layer(state: AppState) -> (SocketIoLayer, SocketIo) {
    let (layer, io) = SocketIo::builder()
        .with_state(state.clone())
        .ping_interval(Duration::from_secs(25))
        .max_buffer_size(1024)
        .build_layer();
    // Event handlers are registered by connect *middleware* (which runs before the CONNECT
    // packet is sent), not by the connect handler: socketioxide runs connect handlers in a
    // spawned task after sending CONNECT, so a client emitting right after `connect` (the chat
    // UI's `chat:join`, the terminal's `start`) could reach a socket without handlers yet and
    // be dropped silently — seen under load as a `chat:send` that never got its ack.
    io.ns("/cluster", cluster::on_connect.with(cluster::register).with(authenticate));
    io.ns("/events", events::on_connect.with(authenticate));
    io.ns("/terminal", connected.with(terminal::register).with(authenticate));
    io.ns("/chat", connected.with(chat::register).with(authenticate));
    chat::attach(&io, &state);
    (layer, io)
}

/// Disconnects sockets whose token expired or was revoked, every `period`, until cancelled.
pub async fn sweep_expired_sockets(
    io: SocketIo,
    state: AppState,
    period: Duration,
    cancel: CancellationToken,
) {
    let mut ticker = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = ticker.tick() => {}
        }
        for ns in NAMESPACES {
            let Some(op) = io.of(*ns) else { continue };
            for socket in op.sockets() {
                let valid = socket
                    .extensions
                    .get::<SocketToken>()
                    .is_some_and(|SocketToken(t)| state.auth.verify(&t).is_ok());
                if !valid {
                    tracing::info!(ns, "disconnecting socket: token expired or revoked");
                    let _ = socket.disconnect();
                }
            }
        }
    }
}
