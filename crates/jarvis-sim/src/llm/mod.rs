//! Scripted LLM servers: plain HTTP on 127.0.0.1 answering `POST /v1/messages` (Anthropic
//! Messages, streaming SSE) and `POST /v1/chat/completions` (OpenAI-compatible streaming
//! chunks, llama.cpp style) from a [`Script`], for tests and the demo.
//!
//! Like the PVE simulator this is an independent implementation of the wire formats (it does
//! not use `jarvis-llm`).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use jarvis_sim::{Script, ScriptedLlm};
//! let llm = ScriptedLlm::start(Script::named("tool_call").unwrap()).await?;
//! println!("LLM at {}", llm.base_url());
//! // … point a client at it, then:
//! assert_eq!(llm.requests().len(), 0);
//! llm.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! [`ScriptedLlm::start_demo`] (or [`ScriptedLlm::serve`] with a [`DemoResponder`]) answers
//! whatever the operator types instead, computing each reply from the request (tool calls for
//! "stop vm 101", "status", "list vms", …; a summary of tool results; help text otherwise),
//! rendered exactly like scripted turns. See [`DemoResponder`] for its rules.
//!
//! # Behaviour
//! - Each request (to either endpoint) consumes the next turn. Once the script is used up every
//!   request gets the plain text [`SCRIPT_FINISHED`].
//! - Every request body is recorded, overloaded ones included ([`ScriptedLlmHandle::requests`]).
//!   A body that is not JSON answers 400 and consumes no turn.
//! - Answers are always streamed, whatever the request's `stream` says. The `model` of the
//!   request is echoed (`"scripted"` when absent).
//! - Usage: input tokens are the request body's length / 4, output tokens the reply's text and
//!   tool arguments' length / 4 (at least 1 each). OpenAI sends a usage chunk only when the
//!   request had `stream_options.include_usage`.
//! - Anthropic events: `message_start`, `content_block_start`, `ping` (once, after the first
//!   block start), `content_block_delta`s, `content_block_stop` (per block: text first, then one
//!   `tool_use` block per call with `input_json_delta` fragments), `message_delta`
//!   (`stop_reason` `end_turn`/`tool_use`, usage), `message_stop`. Mid-stream errors send an
//!   `error` event (`api_error`) after the text deltas and end the stream; overloaded is a 529.
//! - OpenAI chunks: a role chunk, content deltas, `tool_calls` deltas (id, type and name only in
//!   the first chunk of each call, arguments split across chunks), a chunk with
//!   `finish_reason` (`stop`/`tool_calls`), the optional usage chunk (empty `choices`), then
//!   `data: [DONE]`. Mid-stream errors cut the connection without `[DONE]`; overloaded is a 503.

mod anthropic;
mod demo;
mod openai;
mod request;
mod script;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_demo;

pub use demo::{DEMO_CHUNK_DELAY, DemoResponder};
pub use script::{BUILTIN_SCENARIOS, DEFAULT_CHUNK_SIZE, SCRIPT_FINISHED, Script, ToolCall, Turn};

use script::Answer;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// One step of a streamed answer.
pub(crate) enum Piece {
    /// Bytes to send.
    Data(String),
    /// Pause this many milliseconds.
    Sleep(u64),
    /// Cut the connection (the response body fails).
    Cut,
}

/// A rendered answer.
pub(crate) enum Reply {
    /// A complete JSON answer with this status.
    Json(u16, Value),
    /// A `text/event-stream` answer.
    Stream(Vec<Piece>),
}

/// The wire format of a request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Api {
    Anthropic,
    OpenAi,
}

/// How a scripted server decides each answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Responder {
    /// The script's turns, one per request, in order.
    Script(Script),
    /// Computed from each request's content (see [`DemoResponder`]).
    Demo(DemoResponder),
}

impl From<Script> for Responder {
    fn from(script: Script) -> Self {
        Self::Script(script)
    }
}

impl From<DemoResponder> for Responder {
    fn from(demo: DemoResponder) -> Self {
        Self::Demo(demo)
    }
}

struct LlmState {
    responder: Responder,
    inner: Mutex<Progress>,
}

#[derive(Default)]
struct Progress {
    next: usize,
    requests: Vec<Value>,
}

/// Starts scripted LLM servers.
pub struct ScriptedLlm;

impl ScriptedLlm {
    /// Listens on 127.0.0.1 (a free port) and serves `script` until the handle is shut down or
    /// dropped.
    pub async fn start(script: Script) -> std::io::Result<ScriptedLlmHandle> {
        Self::serve(script).await
    }

    /// Like [`ScriptedLlm::start`], answering with the [`DemoResponder`] at its default pace.
    pub async fn start_demo() -> std::io::Result<ScriptedLlmHandle> {
        Self::serve(DemoResponder::default()).await
    }

    /// Listens on 127.0.0.1 (a free port) and answers with `responder` (a [`Script`] or a
    /// [`DemoResponder`]) until the handle is shut down or dropped.
    pub async fn serve(responder: impl Into<Responder>) -> std::io::Result<ScriptedLlmHandle> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(LlmState { responder: responder.into(), inner: Mutex::default() });
        let app = Router::new()
            .route(
                "/v1/messages",
                post(|s: State<Arc<LlmState>>, body: Bytes| handle(s, body, Api::Anthropic)),
            )
            .route(
                "/v1/chat/completions",
                post(|s: State<Arc<LlmState>>, body: Bytes| handle(s, body, Api::OpenAi)),
            )
            .with_state(Arc::clone(&state));
        let cancel = CancellationToken::new();
        let stop = cancel.clone().cancelled_owned();
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stop).await {
                tracing::warn!(error = %e, "scripted LLM server failed");
            }
        });
        Ok(ScriptedLlmHandle { addr, state, cancel, task: Some(task) })
    }
}

/// A running scripted LLM server. Dropping it stops the server too.
pub struct ScriptedLlmHandle {
    addr: SocketAddr,
    state: Arc<LlmState>,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl ScriptedLlmHandle {
    /// `http://127.0.0.1:<port>` (no trailing slash); the endpoints are under `/v1/`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The JSON bodies received so far, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.state.inner.lock().requests.clone()
    }

    /// How many turns have been consumed (with the demo responder: how many requests were
    /// answered).
    pub fn turns_used(&self) -> usize {
        self.state.inner.lock().next
    }

    /// Stops listening and waits (up to 2 s) for open streams to finish, then drops them.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(2), &mut task).await.is_err()
        {
            task.abort();
        }
    }
}

impl Drop for ScriptedLlmHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn handle(State(state): State<Arc<LlmState>>, body: Bytes, api: Api) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        let error = match api {
            Api::Anthropic => json!({"type": "error", "error": {"type": "invalid_request_error",
                "message": "request body is not valid JSON"}}),
            Api::OpenAi => json!({"error": {"code": 400, "type": "invalid_request_error",
                "message": "request body is not valid JSON"}}),
        };
        return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
    };
    let seq = {
        let mut inner = state.inner.lock();
        inner.requests.push(request.clone());
        inner.next += 1;
        inner.next as u64
    };
    let model = request.get("model").and_then(Value::as_str).unwrap_or("scripted");
    let input_tokens = script::tokens(body.len());
    let include_usage =
        request.pointer("/stream_options/include_usage").and_then(Value::as_bool).unwrap_or(false);
    let render = |answer: Option<Answer<'_>>| match (api, answer) {
        (Api::Anthropic, None) => anthropic::overloaded(),
        (Api::OpenAi, None) => openai::overloaded(),
        (Api::Anthropic, Some(a)) => anthropic::render(a, model, input_tokens, seq),
        (Api::OpenAi, Some(a)) => openai::render(a, model, input_tokens, seq, include_usage),
    };
    let reply = match &state.responder {
        Responder::Script(script) => {
            let index = usize::try_from(seq - 1).unwrap_or(usize::MAX);
            let turn =
                script.turns.get(index).cloned().unwrap_or_else(|| Turn::text(SCRIPT_FINISHED));
            render(Answer::of(&turn))
        }
        Responder::Demo(demo) => render(Some(demo.reply(api, &request, seq).answer())),
    };
    match reply {
        Reply::Json(status, value) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            axum::Json(value),
        )
            .into_response(),
        Reply::Stream(pieces) => {
            let stream = futures::stream::unfold(pieces.into_iter(), |mut it| async move {
                loop {
                    match it.next()? {
                        Piece::Data(s) => return Some((Ok(Bytes::from(s)), it)),
                        Piece::Sleep(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                        Piece::Cut => {
                            let cut = std::io::Error::new(
                                std::io::ErrorKind::ConnectionAborted,
                                "scripted mid-stream failure",
                            );
                            return Some((Err(cut), it));
                        }
                    }
                }
            });
            (
                [(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")],
                Body::from_stream(stream),
            )
                .into_response()
        }
    }
}
