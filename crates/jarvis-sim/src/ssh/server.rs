//! One SSH connection to a simulated node: russh's server handler. Public key authentication,
//! session channels only, `pty-req`, `window-change`, `env`, `exec` (answered from the command
//! table on a task of its own, so a slow command never stalls the connection's other channels)
//! and `shell` (the PTY shell in `shell.rs`, fed through a queue).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use russh::server::{Auth, ChannelOpenHandle, Handle, Msg, PublicKeyOffer, Session};
use russh::server::{VerifiedPublicKey, run_stream};
use russh::{Channel, ChannelId, Pty};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::commands::{self, Ctx, Output};
use super::shell::{self, ShellIn};
use crate::server::Shared;

/// How long a new connection may take to send its SSH version line.
const HELLO_TIMEOUT: Duration = Duration::from_secs(30);

/// Terminal size as the client reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PtySize {
    pub cols: u32,
    pub rows: u32,
}

/// Per-channel state.
#[derive(Default)]
struct Chan {
    pty: Option<PtySize>,
    /// Input queue of the running shell.
    shell: Option<mpsc::UnboundedSender<ShellIn>>,
    /// A shell or command was started (a channel runs one at most).
    started: bool,
}

/// Handler of one connection.
pub(crate) struct Conn {
    shared: Arc<Shared>,
    node: usize,
    user: String,
    token: CancellationToken,
    channels: HashMap<ChannelId, Chan>,
}

/// Serves one accepted TCP connection to node `node` until it ends or `token` is cancelled
/// (the node went offline or the simulator shuts down; the socket is cut by then).
pub(crate) async fn serve_connection(
    shared: Arc<Shared>,
    node: usize,
    stream: TcpStream,
    token: CancellationToken,
) {
    let Some(ssh) = &shared.ssh else { return };
    // The listener goes away with the node, but a connection may slip in just before.
    if !shared.cluster.lock().nodes.get(node).is_some_and(|n| n.online) {
        return;
    }
    let handler = Conn {
        shared: shared.clone(),
        node,
        user: "root".into(),
        token: token.clone(),
        channels: HashMap::new(),
    };
    // Sessions may idle for as long as a terminal stays open, but a client that never even
    // sends its version line is dropped.
    let start =
        tokio::time::timeout(HELLO_TIMEOUT, run_stream(ssh.config.clone(), stream, handler));
    let session = tokio::select! {
        _ = token.cancelled() => return,
        r = start => match r {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "simulated SSH handshake failed");
                return;
            }
            Err(_) => return,
        },
    };
    tokio::select! {
        _ = token.cancelled() => {}
        r = session => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "simulated SSH connection ended with an error");
            }
        }
    }
}

impl Conn {
    fn allows(&self, key: &russh::keys::PublicKey) -> bool {
        self.shared.ssh.as_ref().is_some_and(|s| s.allows(key))
    }

    fn ctx(&self, pty: Option<PtySize>) -> Ctx {
        Ctx { node: self.node, user: self.user.clone(), pty }
    }

    /// Marks a channel as running something; false when it already does (or is unknown).
    fn start(&mut self, channel: ChannelId) -> Option<&mut Chan> {
        let chan = self.channels.get_mut(&channel)?;
        if chan.started {
            return None;
        }
        chan.started = true;
        Some(chan)
    }
}

/// Sends a finished command's output, exit status, EOF and close. With a PTY, stderr goes to
/// the terminal like stdout and line endings are CRLF, as a real tty's `onlcr` makes them.
pub(crate) async fn send_output(handle: &Handle, channel: ChannelId, out: Output, pty: bool) {
    if pty {
        let mut text = out.stdout;
        text.push_str(&out.stderr);
        if !text.is_empty() {
            let _ = handle.data(channel, shell::crlf(&text).into_bytes()).await;
        }
    } else {
        if !out.stdout.is_empty() {
            let _ = handle.data(channel, out.stdout.into_bytes()).await;
        }
        if !out.stderr.is_empty() {
            let _ = handle.extended_data(channel, 1, out.stderr.into_bytes()).await;
        }
    }
    let _ = handle.exit_status_request(channel, out.status).await;
    let _ = handle.eof(channel).await;
    let _ = handle.close(channel).await;
}

impl russh::server::Handler for Conn {
    type Error = russh::Error;

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(if self.allows(offer.public_key) { Auth::Accept } else { Auth::reject() })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        if !self.allows(key.public_key) {
            return Ok(Auth::reject());
        }
        self.user = user.chars().filter(|c| !c.is_control()).take(64).collect();
        if self.user.is_empty() {
            self.user = "root".into();
        }
        Ok(Auth::Accept)
    }

    async fn auth_succeeded(&mut self, _session: &mut Session) -> Result<(), Self::Error> {
        if let Some(ssh) = &self.shared.ssh {
            ssh.sessions_opened.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Everything goes through the handler callbacks; the channel object is not needed
        // (dropping it does not close the channel).
        self.channels.insert(channel.id(), Chan::default());
        drop(channel);
        reply.accept().await;
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = self.channels.get(&channel).and_then(|c| c.shell.as_ref()) {
            let _ = tx.send(ShellIn::Eof);
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Dropping the queue ends the shell task.
        self.channels.remove(&channel);
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = self.channels.get(&channel).and_then(|c| c.shell.as_ref()) {
            let _ = tx.send(ShellIn::Data(data.to_vec()));
        }
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.channels.get_mut(&channel) {
            Some(chan) if !chan.started => {
                chan.pty = Some(PtySize { cols: col_width, rows: row_height });
                session.channel_success(channel)
            }
            _ => session.channel_failure(channel),
        }
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(chan) = self.channels.get_mut(&channel) else {
            return session.channel_failure(channel);
        };
        let size = PtySize { cols: col_width, rows: row_height };
        chan.pty = Some(size);
        if let Some(tx) = &chan.shell {
            let _ = tx.send(ShellIn::Resize(size));
        }
        session.channel_success(channel)
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _variable_name: &str,
        _variable_value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Like sshd's default AcceptEnv for LANG/LC_*: accepted, and nothing uses it.
        session.channel_success(channel)
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let (tx, rx) = mpsc::unbounded_channel();
        let Some(chan) = self.start(channel) else {
            return session.channel_failure(channel);
        };
        chan.shell = Some(tx);
        let pty = chan.pty;
        session.channel_success(channel)?;
        let ctx = self.ctx(pty);
        let task =
            shell::run(self.shared.clone(), ctx, session.handle(), channel, rx, self.token.clone());
        self.shared.tracker.spawn(task);
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(chan) = self.start(channel) else {
            return session.channel_failure(channel);
        };
        let pty = chan.pty;
        session.channel_success(channel)?;
        let ctx = self.ctx(pty);
        let line = String::from_utf8_lossy(data).into_owned();
        let shared = self.shared.clone();
        let handle = session.handle();
        let token = self.token.clone();
        self.shared.tracker.spawn(async move {
            let out = {
                let mut cl = shared.cluster.lock();
                commands::run(&mut cl, &ctx, &line)
            };
            if out.delay > Duration::ZERO {
                tokio::select! {
                    _ = token.cancelled() => return,
                    _ = tokio::time::sleep(out.delay) => {}
                }
            }
            send_output(&handle, channel, out, pty.is_some()).await;
        });
        Ok(())
    }
}
