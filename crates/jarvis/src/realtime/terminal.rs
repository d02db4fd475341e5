//! The `/terminal` namespace (TERM-01): the operator's own shell on a node, in the browser.
//!
//! One PTY session per socket (the UI opens one socket per tab). Bytes travel as Socket.IO binary
//! attachments in both directions, so anything a terminal emits survives.
//!
//! Order matters for keystrokes, and socketioxide runs each message handler as its own task. So
//! the `data` and `resize` handlers are plain (non-async) closures: their bodies run in arrival
//! order inside socketioxide's dispatch and only push into a per-session queue, which one writer
//! task drains in order. Start and end of every
//! session are in the audit log. This is the operator's shell, never the model's: it does not go
//! through the tool pipeline, but it does require the same session token and a known node.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use jarvis_domain::NodeStatus;
use jarvis_domain::audit::{Decision, Outcome};
use jarvis_ssh::{PtyEvent, PtyWriter};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use socketioxide::extract::{Data, SocketRef, State, TryData};
use tokio::sync::mpsc;

use crate::db::audit::NewAudit;
use crate::state::AppState;

/// `start` payload.
#[derive(Debug, Deserialize)]
struct Start {
    node: String,
    #[serde(default = "default_cols")]
    cols: u32,
    #[serde(default = "default_rows")]
    rows: u32,
}

fn default_cols() -> u32 {
    80
}
fn default_rows() -> u32 {
    24
}

/// `resize` payload.
#[derive(Debug, Deserialize)]
struct Resize {
    cols: u32,
    rows: u32,
}

/// `error` payload.
#[derive(Debug, Serialize)]
struct TermError<'a> {
    code: &'a str,
    message: String,
}

/// Largest accepted input chunk (a paste); bigger ones are refused, not truncated.
const MAX_INPUT: usize = 64 * 1024;

/// Keystrokes queued per session before input is refused as too fast.
const INPUT_QUEUE: usize = 1024;

/// The socket's session, if one is open.
#[derive(Clone, Default)]
struct Slot(Arc<Mutex<Option<Active>>>);

struct Active {
    /// Distinguishes sessions, so an old session's end never clears a newer one.
    id: u64,
    writer: PtyWriter,
    input: mpsc::Sender<Input>,
}

/// Terminal input, in the order it arrived.
enum Input {
    Data(Bytes),
    Resize(u32, u32),
}

/// Pushes input for the socket's session, synchronously and in order.
fn enqueue(s: &SocketRef, slot: &Slot, input: Input) {
    let tx = slot.0.lock().as_ref().map(|a| a.input.clone());
    match tx {
        Some(tx) => {
            if tx.try_send(input).is_err() {
                error(s, "overloaded", "input is arriving faster than the node accepts it");
            }
        }
        None => error(s, "no_session", "send start first"),
    }
}

fn clamp_size(cols: u32, rows: u32) -> (u32, u32) {
    (cols.clamp(10, 500), rows.clamp(4, 200))
}

fn error(s: &SocketRef, code: &str, message: impl Into<String>) {
    let _ = s.emit("error", &TermError { code, message: message.into() });
}

async fn audit(state: &AppState, decision: Decision, node: &str, detail: Option<String>) {
    let entry = NewAudit {
        actor: "operator".into(),
        source: "terminal".into(),
        tool: None,
        args: Some(serde_json::json!({ "node": node })),
        tier: None,
        decision,
        outcome: Outcome::Success,
        detail,
    };
    if let Err(e) = state.db.append_audit(entry).await {
        tracing::error!(error = %e, "could not audit terminal session");
    }
}

/// Ends the socket's session, if any (stop, disconnect, or a new start).
async fn end(slot: &Slot) {
    let active = slot.0.lock().take();
    if let Some(a) = active {
        a.writer.close().await;
    }
}

/// Registers the event handlers; connect middleware, after the auth check (see
/// [`super::layer`] for why handlers are registered in middleware).
pub async fn register(s: SocketRef, State(state): State<AppState>) -> Result<(), Infallible> {
    state.metrics.socket_clients.inc();
    let slot = Slot::default();

    s.on("start", {
        let slot = slot.clone();
        async move |s: SocketRef, State(state): State<AppState>, TryData(start): TryData<Start>| {
            let Ok(start) = start else {
                return error(&s, "invalid_request", "start needs {node, cols, rows}");
            };
            start_session(s, state, slot, start).await;
        }
    });
    s.on("data", {
        let slot = slot.clone();
        move |s: SocketRef, Data(bytes): Data<Bytes>| {
            if bytes.len() > MAX_INPUT {
                error(&s, "too_large", format!("input chunks are limited to {MAX_INPUT} bytes"));
            } else {
                enqueue(&s, &slot, Input::Data(bytes));
            }
            std::future::ready(())
        }
    });
    s.on("resize", {
        let slot = slot.clone();
        move |s: SocketRef, Data(r): Data<Resize>| {
            let (cols, rows) = clamp_size(r.cols, r.rows);
            if slot.0.lock().is_some() {
                enqueue(&s, &slot, Input::Resize(cols, rows));
            }
            std::future::ready(())
        }
    });
    s.on("stop", {
        let slot = slot.clone();
        async move || end(&slot).await
    });
    s.on_disconnect(async move |State(state): State<AppState>| {
        state.metrics.socket_clients.dec();
        end(&slot).await;
    });
    Ok(())
}

async fn start_session(s: SocketRef, state: AppState, slot: Slot, start: Start) {
    let Some(ssh) = state.ssh.clone() else {
        return error(&s, "ssh_unavailable", "SSH is not configured (set SSH_KEY_PATH)");
    };
    let snap = state.cluster.snapshot();
    match snap.node(&start.node) {
        None => return error(&s, "unknown_node", format!("unknown node `{}`", start.node)),
        Some(n) if n.status != NodeStatus::Online => {
            return error(&s, "node_offline", format!("node {} is offline", n.name));
        }
        Some(_) => {}
    }
    // One session per socket: a new start replaces the old one.
    end(&slot).await;
    let (cols, rows) = clamp_size(start.cols, start.rows);
    let mut session = match ssh.open_pty(&start.node, cols, rows).await {
        Ok(session) => session,
        Err(e) => return error(&s, "ssh_error", e.to_string()),
    };
    let Some(mut events) = session.take_events() else {
        return error(&s, "ssh_error", "terminal output unavailable");
    };
    let node = start.node.clone();
    let id = NEXT_SESSION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (input_tx, mut input_rx) = mpsc::channel::<Input>(INPUT_QUEUE);
    let writer = session.writer();
    *slot.0.lock() = Some(Active { id, writer: writer.clone(), input: input_tx });
    audit(&state, Decision::TerminalStart, &node, None).await;
    let _ = s.emit("ready", &serde_json::json!({ "node": node }));

    // Input, in arrival order.
    tokio::spawn(async move {
        while let Some(input) = input_rx.recv().await {
            let ok = match input {
                Input::Data(bytes) => writer.write(&bytes).await.is_ok(),
                Input::Resize(cols, rows) => writer.resize(cols, rows).await.is_ok(),
            };
            if !ok {
                break;
            }
        }
    });

    // Output, until the shell exits; the session object lives here until then.
    tokio::spawn(async move {
        let _session = session;
        let mut code = None;
        while let Some(event) = events.recv().await {
            match event {
                PtyEvent::Data(bytes) => {
                    let _ = s.emit("data", &bytes);
                }
                PtyEvent::Exit(c) => {
                    code = c;
                    break;
                }
            }
        }
        {
            let mut guard = slot.0.lock();
            if guard.as_ref().is_some_and(|a| a.id == id) {
                *guard = None;
            }
        }
        // Audited before the client hears of it: whoever sees `exit` finds the record.
        audit(&state, Decision::TerminalEnd, &node, code.map(|c| format!("exit {c}"))).await;
        let _ = s.emit("exit", &serde_json::json!({ "code": code }));
    });
}

/// Session ids, unique per process.
static NEXT_SESSION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
