//! [`SshPool`]: one authenticated connection per `host:port`, opened lazily under a per-host
//! async mutex (so concurrent callers never open duplicates) and replaced when it has died; a
//! per-host semaphore caps concurrent channels; every command runs on its own channel.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use russh::Preferred;
use russh::client::{self, Handle};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use tokio::sync::Semaphore;

use crate::channel::{ChannelGuard, Counters, SlotPermit};
use crate::hostkey::{HostKeyVerifier, fingerprint};
use crate::{ExecOutput, HostTarget, PtySession, RemoteExec, SshConfig, SshError, exec, pty};

/// How often a refused channel open is retried (about 2.5 s in all) before giving up.
const OPEN_RETRIES: u32 = 12;

/// Counters for one host, for health pages, metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostStats {
    /// SSH connections (handshakes) opened to this host since the pool was created.
    pub connections_opened: u64,
    /// Channels (exec + PTY) holding a slot right now.
    pub open_channels: usize,
    /// The most channels that held a slot at the same time.
    pub peak_open_channels: usize,
}

/// The connection pool; the production [`RemoteExec`]. Cheap to clone (shared state).
///
/// How commands run on the node: in the login shell (`$SHELL -c`, as `ssh node cmd` would),
/// with stdin from `/dev/null`, in their own process group. When the caller gives up (timeout,
/// dropped future) or the connection drops, that whole process group is killed, so nothing
/// keeps running and no sshd session slot stays taken. The node needs POSIX `sh` and
/// util-linux `setsid` (present on every Debian/PVE install).
///
/// `open_pty` is bounded by twice [`SshConfig::connect_timeout`] (waiting for a slot,
/// connecting, starting the shell). A terminal holds one of the host's
/// [`SshConfig::max_channels_per_host`] slots until it is closed.
#[derive(Clone)]
pub struct SshPool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    cfg: SshConfig,
    key: Arc<PrivateKey>,
    verifier: Arc<HostKeyVerifier>,
    hosts: Mutex<HashMap<(String, u16), Arc<HostSlot>>>,
}

type SshHandle = Handle<ClientHandler>;

struct HostSlot {
    conn: tokio::sync::Mutex<Option<Arc<SshHandle>>>,
    channels: Arc<Semaphore>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for SshPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshPool").field("cfg", &self.inner.cfg).finish_non_exhaustive()
    }
}

impl SshPool {
    /// Loads the private key (failing early with [`SshError::Key`]) and creates an empty pool.
    /// Nothing connects until the first command.
    pub fn new(mut cfg: SshConfig) -> Result<Self, SshError> {
        cfg.max_channels_per_host = cfg.max_channels_per_host.max(1);
        let key = russh::keys::load_secret_key(&cfg.key_path, cfg.key_passphrase.as_deref())
            .map_err(|e| {
                SshError::Key(format!(
                    "{}: {e}{}",
                    cfg.key_path.display(),
                    if cfg.key_passphrase.is_none() {
                        " (if the key is encrypted, set its passphrase)"
                    } else {
                        ""
                    }
                ))
            })?;
        if matches!(cfg.host_keys, crate::HostKeyPolicy::AcceptAny) {
            tracing::warn!(
                "SSH host keys are NOT verified (AcceptAny); use only for tests and demos"
            );
        }
        Ok(Self {
            inner: Arc::new(PoolInner {
                verifier: Arc::new(HostKeyVerifier::new(cfg.host_keys.clone())),
                key: Arc::new(key),
                cfg,
                hosts: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The settings this pool runs with.
    pub fn config(&self) -> &SshConfig {
        &self.inner.cfg
    }

    /// Counters for `target`'s `host:port` (all zero if it was never used).
    pub fn host_stats(&self, target: &HostTarget) -> HostStats {
        let hosts = self.inner.hosts.lock();
        match hosts.get(&(target.host.clone(), target.port)) {
            Some(slot) => HostStats {
                connections_opened: slot.counters.connections.load(Ordering::SeqCst),
                open_channels: slot.counters.open.load(Ordering::SeqCst),
                peak_open_channels: slot.counters.peak.load(Ordering::SeqCst),
            },
            None => HostStats::default(),
        }
    }

    /// Disconnects every pooled connection (open terminals end). For shutdown; later calls
    /// reconnect as needed.
    pub async fn disconnect_all(&self) {
        let slots: Vec<Arc<HostSlot>> = {
            let hosts = self.inner.hosts.lock();
            hosts.values().cloned().collect()
        };
        for slot in slots {
            if let Some(handle) = slot.conn.lock().await.take() {
                let _ = handle
                    .disconnect(russh::Disconnect::ByApplication, "jarvis shutting down", "en")
                    .await;
            }
        }
    }

    fn slot(&self, target: &HostTarget) -> Arc<HostSlot> {
        let mut hosts = self.inner.hosts.lock();
        hosts
            .entry((target.host.clone(), target.port))
            .or_insert_with(|| {
                Arc::new(HostSlot {
                    conn: tokio::sync::Mutex::new(None),
                    channels: Arc::new(Semaphore::new(self.inner.cfg.max_channels_per_host)),
                    counters: Arc::new(Counters::default()),
                })
            })
            .clone()
    }

    /// Waits for a channel slot on the host, then opens a session channel on the pooled
    /// connection (connecting first if there is none or it has died).
    pub(crate) async fn open_channel(&self, target: &HostTarget) -> Result<ChannelGuard, SshError> {
        let slot = self.slot(target);
        let permit = slot.channels.clone().acquire_owned().await.map_err(|_| SshError::Closed)?;
        let permit = SlotPermit::new(permit, slot.counters.clone());
        let mut reconnected = false;
        let mut refusals = 0;
        loop {
            let handle = self.connection(target, &slot).await?;
            match handle.channel_open_session().await {
                Ok(channel) => return Ok(ChannelGuard::new(channel, permit)),
                // sshd frees a finished session's MaxSessions slot a moment after the channel
                // closes, so an open right behind a close can be refused. Nothing ran yet:
                // retry shortly (the caller's timeout still bounds the whole call).
                Err(russh::Error::ChannelOpenFailure(_)) if refusals < OPEN_RETRIES => {
                    refusals += 1;
                    let backoff = Duration::from_millis(10 << refusals.min(5));
                    tokio::time::sleep(backoff).await;
                }
                // The pooled connection died between the health check and the open (sshd
                // restarted, network blip). Nothing ran yet: retry once on a fresh connection.
                Err(e) if !reconnected && handle.is_closed() => {
                    reconnected = true;
                    tracing::info!(host = %target, "pooled SSH connection died ({e}); reconnecting");
                }
                Err(e) => return Err(channel_open_error(target, &e)),
            }
        }
    }

    async fn connection(
        &self,
        target: &HostTarget,
        slot: &HostSlot,
    ) -> Result<Arc<SshHandle>, SshError> {
        let mut conn = slot.conn.lock().await;
        if let Some(handle) = conn.as_ref() {
            if !handle.is_closed() {
                return Ok(handle.clone());
            }
            tracing::info!(host = %target, "pooled SSH connection is closed; reconnecting");
        }
        *conn = None;
        let handle = Arc::new(self.connect(target).await?);
        slot.counters.connections.fetch_add(1, Ordering::SeqCst);
        *conn = Some(handle.clone());
        Ok(handle)
    }

    fn client_config(&self, target: &HostTarget) -> client::Config {
        let cfg = &self.inner.cfg;
        let mut preferred = Preferred::default();
        let known = self.inner.verifier.preferred_algorithms(target);
        if !known.is_empty() {
            let mut keys = preferred.key.to_vec();
            // Stable: keep russh's order inside each group, known families first.
            keys.sort_by_key(|alg| !known.iter().any(|k| same_family(k, alg)));
            preferred.key = keys.into();
        }
        let keepalive = (!cfg.keepalive.is_zero()).then_some(cfg.keepalive);
        client::Config {
            keepalive_interval: keepalive,
            keepalive_max: 3,
            // Longer than keepalive × keepalive_max, so a dead peer is detected by keepalives.
            inactivity_timeout: keepalive.map(|k| k * 4 + Duration::from_secs(1)),
            preferred,
            nodelay: true,
            ..Default::default()
        }
    }

    async fn connect(&self, target: &HostTarget) -> Result<SshHandle, SshError> {
        let cfg = &self.inner.cfg;
        let host = target.to_string();
        let handler =
            ClientHandler { target: target.clone(), verifier: self.inner.verifier.clone() };
        let config = Arc::new(self.client_config(target));
        let attempt = async {
            let mut handle = client::connect(config, (target.host.as_str(), target.port), handler)
                .await
                .map_err(|e| match e {
                    HandlerError::Rejected(e) => e,
                    HandlerError::Ssh(e) => {
                        SshError::Connect { host: host.clone(), detail: e.to_string() }
                    }
                })?;
            self.authenticate(&mut handle, &host).await?;
            Ok(handle)
        };
        match tokio::time::timeout(cfg.connect_timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(SshError::Timeout { host, after: cfg.connect_timeout }),
        }
    }

    async fn authenticate(&self, handle: &mut SshHandle, host: &str) -> Result<(), SshError> {
        let cfg = &self.inner.cfg;
        let auth_err = |detail: String| SshError::Auth { host: host.to_owned(), detail };
        let hash = if matches!(self.inner.key.algorithm(), russh::keys::Algorithm::Rsa { .. }) {
            handle.best_supported_rsa_hash().await.map_err(|e| auth_err(e.to_string()))?.flatten()
        } else {
            None
        };
        let key = PrivateKeyWithHashAlg::new(self.inner.key.clone(), hash);
        let result = handle
            .authenticate_publickey(cfg.user.clone(), key)
            .await
            .map_err(|e| auth_err(e.to_string()))?;
        if result.success() {
            return Ok(());
        }
        Err(auth_err(format!(
            "the server rejected key {} ({}) for user {:?}; add its public key to that user's \
             ~/.ssh/authorized_keys on the node",
            cfg.key_path.display(),
            fingerprint(self.inner.key.public_key()),
            cfg.user
        )))
    }
}

fn same_family(a: &russh::keys::Algorithm, b: &russh::keys::Algorithm) -> bool {
    let rsa = |x: &russh::keys::Algorithm| matches!(x, russh::keys::Algorithm::Rsa { .. });
    (rsa(a) && rsa(b)) || a == b
}

fn channel_open_error(target: &HostTarget, e: &russh::Error) -> SshError {
    match e {
        russh::Error::ChannelOpenFailure(reason) => SshError::Channel(format!(
            "{target} refused to open a session channel ({reason:?}); sshd's MaxSessions may be \
             lower than max_channels_per_host"
        )),
        other => SshError::Channel(format!("{target}: cannot open a session channel: {other}")),
    }
}

#[async_trait::async_trait]
impl RemoteExec for SshPool {
    async fn exec(
        &self,
        target: &HostTarget,
        command: &str,
        timeout: Duration,
    ) -> Result<ExecOutput, SshError> {
        let started = Instant::now();
        let cap = self.inner.cfg.output_cap;
        let work = async {
            let mut guard = self.open_channel(target).await?;
            exec::run(&mut guard, command, cap).await
            // `guard` drops here: a no-op when the server closed the channel, otherwise it
            // kills the process and closes the channel in the background.
        };
        let collected = match tokio::time::timeout(timeout, work).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(SshError::Timeout { host: target.to_string(), after: timeout });
            }
        };
        let truncated = collected.stdout.truncated() || collected.stderr.truncated();
        Ok(ExecOutput {
            stdout: collected.stdout.into_string(),
            stderr: collected.stderr.into_string(),
            exit_status: collected.exit_status,
            truncated,
            duration: started.elapsed(),
        })
    }

    async fn open_pty(
        &self,
        target: &HostTarget,
        term: &str,
        cols: u32,
        rows: u32,
    ) -> Result<PtySession, SshError> {
        // Waiting for a slot, connecting and starting the shell share one limit.
        let limit = self.inner.cfg.connect_timeout * 2;
        let work = async {
            let guard = self.open_channel(target).await?;
            pty::start(guard, target, term, cols, rows).await
        };
        tokio::time::timeout(limit, work)
            .await
            .unwrap_or_else(|_| Err(SshError::Timeout { host: target.to_string(), after: limit }))
    }
}

/// Error type of the russh handler: a russh error, or our own host-key refusal.
#[derive(Debug)]
enum HandlerError {
    Ssh(russh::Error),
    Rejected(SshError),
}

impl From<russh::Error> for HandlerError {
    fn from(e: russh::Error) -> Self {
        Self::Ssh(e)
    }
}

/// The russh client handler: checks the host key per the pool's policy.
struct ClientHandler {
    target: HostTarget,
    verifier: Arc<HostKeyVerifier>,
}

impl client::Handler for ClientHandler {
    type Error = HandlerError;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        // Certificates are checked as their plain key: no CA trust is configured.
        let key = server_public_key.public_key();
        self.verifier.verify(&self.target, &key).map(|()| true).map_err(HandlerError::Rejected)
    }
}
