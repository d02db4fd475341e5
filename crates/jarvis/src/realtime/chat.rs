//! The `/chat` namespace: the Socket.IO face of [`crate::chat::ChatService`].
//!
//! Each session is a room; a socket joins it by sending into it (`chat:send`) or by `chat:join`,
//! so several tabs can follow one session and a reloaded page picks up a running turn. Every
//! request is answered through its ack (`{error: {code, message}}` on failure), never by
//! dropping it.

use std::convert::Infallible;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, SocketRef, State, TryData};
use ts_rs::TS;

use super::SocketToken;
use crate::chat::{ChatError, ChatEvent, ChatSink, Sender};
use crate::error::{ErrorBody, ErrorDetail};
use crate::state::AppState;

/// Emits a session's events to its room.
pub struct SocketSink(pub SocketIo);

#[async_trait]
impl ChatSink for SocketSink {
    async fn emit(&self, session_id: &str, event: ChatEvent) {
        if let Some(ns) = self.0.of("/chat") {
            let payload = event.payload();
            if let Err(e) = ns.to(session_id.to_owned()).emit(event.name(), &payload).await {
                tracing::debug!(error = %e, "chat event not delivered");
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendPayload {
    #[serde(default)]
    session_id: Option<String>,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionPayload {
    session_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfirmPayload {
    session_id: String,
    confirmation_id: String,
    approve: bool,
}

/// The `chat:send` ack.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatSendAck {
    /// The session the message went to (new when none was given).
    pub session_id: String,
}

/// The `chat:confirm` and `chat:abort` ack on success.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct ChatOkAck {
    /// Always `true`.
    pub ok: bool,
}

const OK: ChatOkAck = ChatOkAck { ok: true };

fn error_ack(code: &str, message: impl Into<String>) -> ErrorBody {
    ErrorBody { error: ErrorDetail { code: code.into(), message: message.into() } }
}

fn chat_error(e: &ChatError) -> ErrorBody {
    error_ack(e.code(), e.to_string())
}

/// The sender behind a socket (the token was checked at connect).
fn sender(s: &SocketRef, state: &AppState) -> Sender {
    let jti = s
        .extensions
        .get::<SocketToken>()
        .and_then(|SocketToken(t)| state.auth.verify(&t).ok())
        .map(|c| c.jti);
    Sender { actor: "operator".into(), jti }
}

fn ack(ack: AckSender, value: impl Serialize) {
    // A client that asked for no ack gets none; nothing to do about that.
    let _ = ack.send(&value);
}

/// Registers the event handlers; connect middleware, after the auth check (see
/// [`super::layer`] for why handlers are registered in middleware).
pub async fn register(s: SocketRef, State(state): State<AppState>) -> Result<(), Infallible> {
    state.metrics.socket_clients.inc();
    s.on_disconnect(async |State(state): State<AppState>| {
        state.metrics.socket_clients.dec();
    });
    s.on(
        "chat:send",
        async |s: SocketRef,
               State(state): State<AppState>,
               TryData(p): TryData<SendPayload>,
               a: AckSender| {
            let Ok(p) = p else {
                return ack(
                    a,
                    error_ack("invalid_request", "chat:send needs {sessionId?, message}"),
                );
            };
            let who = sender(&s, &state);
            let room = s.clone();
            let joined = move |id: &str| room.join(id.to_owned());
            match state.chat.send(p.session_id, &p.message, who, joined).await {
                Ok(id) => ack(a, ChatSendAck { session_id: id }),
                Err(e) => ack(a, chat_error(&e)),
            }
        },
    );
    s.on(
        "chat:join",
        async |s: SocketRef,
               State(state): State<AppState>,
               TryData(p): TryData<SessionPayload>,
               a: AckSender| {
            let Ok(p) = p else {
                return ack(a, error_ack("invalid_request", "chat:join needs {sessionId}"));
            };
            // Join first, so nothing emitted between the read and the join is missed.
            s.join(p.session_id.clone());
            match state.chat.join(&p.session_id).await {
                Ok(view) => ack(a, view),
                Err(e) => {
                    s.leave(p.session_id);
                    ack(a, chat_error(&e))
                }
            }
        },
    );
    s.on(
        "chat:confirm",
        async |s: SocketRef,
               State(state): State<AppState>,
               TryData(p): TryData<ConfirmPayload>,
               a: AckSender| {
            let Ok(p) = p else {
                return ack(
                    a,
                    error_ack(
                        "invalid_request",
                        "chat:confirm needs {sessionId, confirmationId, approve}",
                    ),
                );
            };
            let who = sender(&s, &state);
            match state.chat.confirm(&p.session_id, &p.confirmation_id, p.approve, &who).await {
                Ok(()) => ack(a, OK),
                Err(e) => ack(a, chat_error(&e)),
            }
        },
    );
    s.on(
        "chat:abort",
        async |State(state): State<AppState>, TryData(p): TryData<SessionPayload>, a: AckSender| {
            let Ok(p) = p else {
                return ack(a, error_ack("invalid_request", "chat:abort needs {sessionId}"));
            };
            if state.chat.abort(&p.session_id) {
                ack(a, OK)
            } else {
                ack(a, error_ack("not_found", "no reply is running in this session"))
            }
        },
    );
    Ok(())
}

/// Attaches the socket sink to the chat service.
pub fn attach(io: &SocketIo, state: &AppState) {
    state.chat.set_sink(Arc::new(SocketSink(io.clone())));
}
