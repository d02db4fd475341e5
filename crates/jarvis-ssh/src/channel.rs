//! Channel slots and the close-on-every-path guard.
//!
//! russh's `Channel` sends no `CHANNEL_CLOSE` when dropped (pitfall P8), and sshd keeps a
//! `MaxSessions` slot for every channel whose process is still running. [`ChannelGuard`] owns an
//! exec channel and its semaphore permit; if it is dropped before the server closed the channel
//! (error, timeout, cancelled future) it spawns a reaper that sends EOF (the exec wrapper's cue
//! to kill the command, see `exec::wrap`), waits briefly for sshd to report the channel closed,
//! closes it from our side in any case, and only then returns the permit.
//!
//! SSH `signal` requests would be simpler, but sshd refuses them for root logins ("session
//! signalling requires privilege separation"), and Jarvis logs in to PVE nodes as root.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use russh::client::Msg;
use russh::{Channel, ChannelMsg};
use tokio::sync::OwnedSemaphorePermit;

/// How long a reaper waits for sshd to report the killed command gone before closing anyway.
pub(crate) const REAP_GRACE: Duration = Duration::from_secs(5);

/// Per-host counters, readable through [`crate::SshPool::host_stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) connections: AtomicU64,
    pub(crate) open: AtomicUsize,
    pub(crate) peak: AtomicUsize,
}

/// One of the host's channel slots; returned to the semaphore on drop.
#[derive(Debug)]
pub(crate) struct SlotPermit {
    _permit: OwnedSemaphorePermit,
    counters: Arc<Counters>,
}

impl SlotPermit {
    pub(crate) fn new(permit: OwnedSemaphorePermit, counters: Arc<Counters>) -> Self {
        let now = counters.open.fetch_add(1, Ordering::SeqCst) + 1;
        counters.peak.fetch_max(now, Ordering::SeqCst);
        Self { _permit: permit, counters }
    }
}

impl Drop for SlotPermit {
    fn drop(&mut self) {
        self.counters.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Owns an open channel and its slot until the channel is known to be closed.
pub(crate) struct ChannelGuard {
    channel: Option<Channel<Msg>>,
    permit: Option<SlotPermit>,
    /// The exec wrapper is running on the node (it reacts to EOF).
    wrapped: bool,
    /// The server closed the channel, or the connection ended: nothing left to close.
    closed: bool,
}

impl ChannelGuard {
    pub(crate) fn new(channel: Channel<Msg>, permit: SlotPermit) -> Self {
        Self { channel: Some(channel), permit: Some(permit), wrapped: false, closed: false }
    }

    /// The guarded channel. `None` only after [`ChannelGuard::into_parts`], which consumes self.
    pub(crate) fn channel(&mut self) -> Option<&mut Channel<Msg>> {
        self.channel.as_mut()
    }

    /// Records that the exec wrapper was started, so cleanup may use EOF to stop it.
    pub(crate) fn mark_wrapped(&mut self) {
        self.wrapped = true;
    }

    /// Reads the next message and records whether it ends the channel.
    pub(crate) async fn wait(&mut self) -> Option<ChannelMsg> {
        let msg = match self.channel.as_mut() {
            Some(ch) => ch.wait().await,
            None => None,
        };
        if matches!(msg, Some(ChannelMsg::Close) | None) {
            self.closed = true;
        }
        msg
    }

    /// Hands the channel and its slot to a new owner (the PTY pump), disarming the guard.
    pub(crate) fn into_parts(mut self) -> Option<(Channel<Msg>, SlotPermit)> {
        let channel = self.channel.take()?;
        let permit = self.permit.take()?;
        Some((channel, permit))
    }
}

impl Drop for ChannelGuard {
    fn drop(&mut self) {
        let (Some(channel), permit) = (self.channel.take(), self.permit.take()) else {
            return;
        };
        if self.closed {
            return; // russh already answered the server's CHANNEL_CLOSE; the slot is free.
        }
        let wrapped = self.wrapped;
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(reap(channel, wrapped, permit));
            }
            Err(_) => tracing::warn!("SSH channel dropped outside a tokio runtime; not closed"),
        }
    }
}

/// Stops the remote command (EOF makes the exec wrapper kill its process group), waits up to
/// [`REAP_GRACE`] for sshd to report the channel closed, closes it from our side in any case,
/// then frees the slot.
pub(crate) async fn reap(mut channel: Channel<Msg>, wrapped: bool, permit: Option<SlotPermit>) {
    let mut closed_by_server = false;
    if wrapped && channel.eof().await.is_ok() {
        let ended = tokio::time::timeout(REAP_GRACE, async {
            loop {
                match channel.wait().await {
                    Some(ChannelMsg::Close) | None => return true,
                    Some(_) => {}
                }
            }
        })
        .await;
        closed_by_server = ended.unwrap_or(false);
    }
    if !closed_by_server {
        // Harmless if the connection is gone or the server closed first.
        let _ = channel.close().await;
    }
    drop(permit);
}
