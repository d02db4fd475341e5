//! Interactive PTY shells: [`PtySession`] with a cloneable [`PtyWriter`] (input, resize, close)
//! and an event receiver ([`PtyEvent`]) so a Socket.IO bridge can read and write concurrently.
//!
//! A pump task owns the channel's read half and the host slot. It never blocks on a slow
//! consumer: russh delivers every channel's data from the connection's single event loop, so one
//! stalled terminal would otherwise stall every command on that host. If the consumer falls
//! [`EVENT_BUFFER`] events behind, the session is closed instead.

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use russh::client::Msg;
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

use crate::channel::{ChannelGuard, SlotPermit};
use crate::{HostTarget, SshError};

/// Events a consumer may lag behind before the session is closed.
pub const EVENT_BUFFER: usize = 4096;

/// Output of a terminal session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PtyEvent {
    /// Raw terminal output (not necessarily UTF-8, not aligned to characters).
    Data(Bytes),
    /// The session ended; the shell's exit status if the server reported one. Always the last
    /// event (unless the consumer had fallen too far behind to receive it).
    Exit(Option<u32>),
}

/// An open interactive shell. Dropping it (and every [`PtyWriter`] clone) closes the session.
#[derive(Debug)]
pub struct PtySession {
    writer: PtyWriter,
    events: Option<mpsc::Receiver<PtyEvent>>,
}

/// The input side of a [`PtySession`]; clone it freely (each clone keeps the session open).
#[derive(Debug, Clone)]
pub struct PtyWriter {
    handle: Arc<OpenHandle>,
}

/// Closes the session when the last user handle is dropped.
#[derive(Debug)]
struct OpenHandle {
    shared: Arc<Shared>,
}

impl Drop for OpenHandle {
    fn drop(&mut self) {
        self.shared.close_requested.cancel();
    }
}

struct Shared {
    label: String,
    /// Terminal input; its own lock so a write waiting for window space never blocks resize/close.
    input: Mutex<Pin<Box<dyn AsyncWrite + Send>>>,
    /// Requests other than data (resize, signal, close). `None` once the channel is finished.
    control: Mutex<Option<ChannelWriteHalf<Msg>>>,
    close_requested: CancellationToken,
    ended: CancellationToken,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("label", &self.label)
            .field("ended", &self.ended.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl PtySession {
    /// The output events. `Some` exactly once; the stream ends after [`PtyEvent::Exit`].
    pub fn take_events(&mut self) -> Option<mpsc::Receiver<PtyEvent>> {
        self.events.take()
    }

    /// A handle for writing, resizing and closing, usable from another task.
    pub fn writer(&self) -> PtyWriter {
        self.writer.clone()
    }

    /// Splits into the writer and the events (if not taken yet).
    pub fn into_parts(self) -> (PtyWriter, Option<mpsc::Receiver<PtyEvent>>) {
        (self.writer, self.events)
    }

    /// Sends raw bytes to the terminal (keystrokes, pastes; any bytes, not only UTF-8).
    pub async fn write(&self, data: &[u8]) -> Result<(), SshError> {
        self.writer.write(data).await
    }

    /// Tells the remote terminal its new size.
    pub async fn resize(&self, cols: u32, rows: u32) -> Result<(), SshError> {
        self.writer.resize(cols, rows).await
    }

    /// Closes the channel (the shell is hung up) and waits until the session is gone.
    pub async fn close(self) {
        self.writer.close().await;
    }

    /// True once the session has ended (shell exited, closed, or connection lost).
    pub fn is_closed(&self) -> bool {
        self.writer.is_closed()
    }
}

impl PtyWriter {
    fn shared(&self) -> &Shared {
        &self.handle.shared
    }

    /// Sends raw bytes to the terminal. [`SshError::Closed`] once the session has ended.
    pub async fn write(&self, data: &[u8]) -> Result<(), SshError> {
        let shared = self.shared();
        if shared.close_requested.is_cancelled() || shared.ended.is_cancelled() {
            return Err(SshError::Closed);
        }
        if data.is_empty() {
            return Ok(());
        }
        tokio::select! {
            result = async {
                let mut input = shared.input.lock().await;
                input.write_all(data).await
            } => result.map_err(|_| SshError::Closed),
            () = shared.ended.cancelled() => Err(SshError::Closed),
        }
    }

    /// Tells the remote terminal its new size (columns × rows).
    pub async fn resize(&self, cols: u32, rows: u32) -> Result<(), SshError> {
        let control = self.shared().control.lock().await;
        match control.as_ref() {
            Some(w) if !self.shared().ended.is_cancelled() => {
                w.window_change(cols, rows, 0, 0).await.map_err(|_| SshError::Closed)
            }
            _ => Err(SshError::Closed),
        }
    }

    /// Closes the channel (the shell is hung up) and waits until the session is gone. Other
    /// clones then get [`SshError::Closed`].
    pub async fn close(&self) {
        let shared = self.shared();
        shared.close_requested.cancel();
        shared.ended.cancelled().await;
    }

    /// True once the session has ended.
    pub fn is_closed(&self) -> bool {
        self.shared().ended.is_cancelled()
    }
}

/// Requests a PTY and a shell on the guarded channel, then hands it to a pump task.
pub(crate) async fn start(
    mut guard: ChannelGuard,
    target: &HostTarget,
    term: &str,
    cols: u32,
    rows: u32,
) -> Result<PtySession, SshError> {
    let mut early = Vec::new();
    let channel = guard.channel().ok_or(SshError::Closed)?;
    channel
        .request_pty(true, term, cols, rows, 0, 0, &[])
        .await
        .map_err(|e| SshError::Channel(format!("cannot request a PTY: {e}")))?;
    await_reply(&mut guard, &mut early, "a PTY").await?;
    let channel = guard.channel().ok_or(SshError::Closed)?;
    channel
        .request_shell(true)
        .await
        .map_err(|e| SshError::Channel(format!("cannot start a shell: {e}")))?;
    await_reply(&mut guard, &mut early, "a shell").await?;

    let (channel, permit) = guard.into_parts().ok_or(SshError::Closed)?;
    let (read, write) = channel.split();
    let shared = Arc::new(Shared {
        label: target.to_string(),
        input: Mutex::new(Box::pin(write.make_writer())),
        control: Mutex::new(Some(write)),
        close_requested: CancellationToken::new(),
        ended: CancellationToken::new(),
    });
    let (tx, rx) = mpsc::channel(EVENT_BUFFER);
    tokio::spawn(pump(read, shared.clone(), tx, permit, early));
    Ok(PtySession {
        writer: PtyWriter { handle: Arc::new(OpenHandle { shared }) },
        events: Some(rx),
    })
}

/// Waits for the server's answer to a `want_reply` request, keeping any early output.
async fn await_reply(
    guard: &mut ChannelGuard,
    early: &mut Vec<Bytes>,
    what: &str,
) -> Result<(), SshError> {
    loop {
        match guard.wait().await {
            Some(ChannelMsg::Success) => return Ok(()),
            Some(ChannelMsg::Failure) => {
                return Err(SshError::Channel(format!("the server refused {what}")));
            }
            Some(ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. }) => {
                early.push(data);
            }
            Some(ChannelMsg::Close) | None => return Err(SshError::Closed),
            Some(_) => {}
        }
    }
}

enum End {
    ByServer,
    Requested,
    Overflow,
}

/// Moves output to the consumer until the channel ends or a close is requested, then cleans up:
/// close the channel, free the slot, emit `Exit`.
async fn pump(
    mut read: ChannelReadHalf,
    shared: Arc<Shared>,
    tx: mpsc::Sender<PtyEvent>,
    permit: SlotPermit,
    early: Vec<Bytes>,
) {
    let mut status = None;
    let mut end = None;
    for data in early {
        if !deliver(&tx, data) {
            end = Some(End::Overflow);
            break;
        }
    }
    let end = match end {
        Some(end) => end,
        None => loop {
            tokio::select! {
                msg = read.wait() => match msg {
                    Some(ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. }) => {
                        if !deliver(&tx, data) {
                            break End::Overflow;
                        }
                    }
                    Some(ChannelMsg::ExitStatus { exit_status }) => status = Some(exit_status),
                    Some(ChannelMsg::Close) | None => break End::ByServer,
                    Some(_) => {}
                },
                () = shared.close_requested.cancelled() => break End::Requested,
            }
        },
    };
    match end {
        End::Overflow => {
            tracing::warn!(host = %shared.label, "terminal consumer fell {EVENT_BUFFER} events behind; closing the session");
            hang_up(&shared).await;
        }
        End::Requested => hang_up(&shared).await,
        End::ByServer => {}
    }
    // The channel is finished; nothing may use the write half any more.
    shared.control.lock().await.take();
    shared.close_requested.cancel();
    drop(permit);
    shared.ended.cancel();
    let _ = tx.try_send(PtyEvent::Exit(status));
}

/// `false` when the consumer is too far behind. A dropped receiver just discards output.
fn deliver(tx: &mpsc::Sender<PtyEvent>, data: Bytes) -> bool {
    !matches!(tx.try_send(PtyEvent::Data(data)), Err(mpsc::error::TrySendError::Full(_)))
}

/// Closes the channel from our side. sshd then closes the PTY, the kernel hangs up the shell
/// (`SIGHUP`) and the session slot is freed. (An SSH `signal` request would let us wait for
/// the exit status first, but sshd refuses signals for root logins.)
async fn hang_up(shared: &Shared) {
    if let Some(w) = shared.control.lock().await.take() {
        let _ = w.close().await;
    }
}
