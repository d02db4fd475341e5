//! A small SSH client for the SSH tests, on russh's client side: connect to a node's address,
//! authenticate with an ed25519 key, run commands, drive a PTY shell.

use std::sync::Arc;
use std::time::Duration;

use jarvis_sim::SimHandle;
use parking_lot::Mutex;
use russh::client::{self, AuthResult, Handle};
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, client::Msg};

/// How long any single SSH step may take before the test fails.
pub const STEP: Duration = Duration::from_secs(15);

/// An ed25519 key made from a one-byte seed (deterministic, different per seed).
pub fn key(seed: u8) -> PrivateKey {
    PrivateKey::from(Ed25519Keypair::from_seed(&[seed; 32]))
}

/// The OpenSSH public key line of `key`.
pub fn public_line(key: &PrivateKey) -> String {
    key.public_key().to_openssh().expect("encode public key")
}

/// Remembers the host key fingerprint the server presented; accepts it (the tests compare it).
pub struct Client {
    seen: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        if let PublicKeyOrCertificate::PublicKey { key, .. } = server_public_key {
            *self.seen.lock() = Some(key.fingerprint(HashAlg::Sha256).to_string());
        }
        Ok(true)
    }
}

/// Address of node `i` (0-based), as in `/cluster/status`.
pub fn node_ip(i: usize) -> String {
    format!("127.0.1.{}", i + 1)
}

/// An open, not yet authenticated connection and the host key fingerprint it saw.
pub async fn connect(sim: &SimHandle, node: usize) -> Result<(Handle<Client>, String), String> {
    let seen = Arc::new(Mutex::new(None));
    let cfg = Arc::new(client::Config::default());
    let port = sim.ssh_port().expect("ssh on");
    let handler = Client { seen: seen.clone() };
    let h = tokio::time::timeout(STEP, client::connect(cfg, (node_ip(node), port), handler))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect: {e}"))?;
    let fp = seen.lock().clone().ok_or("no host key seen")?;
    Ok((h, fp))
}

/// Authenticates as `user` with `key`; true on success.
pub async fn auth(h: &mut Handle<Client>, user: &str, key: &PrivateKey) -> bool {
    let key = PrivateKeyWithHashAlg::new(Arc::new(key.clone()), None);
    let res = tokio::time::timeout(STEP, h.authenticate_publickey(user, key))
        .await
        .expect("auth timed out")
        .expect("auth exchange");
    matches!(res, AuthResult::Success)
}

/// A connected, authenticated session as root on node `node`.
pub async fn login(sim: &SimHandle, node: usize) -> Handle<Client> {
    let (mut h, _) = connect(sim, node).await.expect("connect");
    assert!(auth(&mut h, "root", &key(1)).await, "any key is accepted by default");
    h
}

/// What an exec request produced.
#[derive(Debug, Default)]
pub struct Exec {
    pub stdout: String,
    pub stderr: String,
    pub status: Option<u32>,
}

/// Reads a channel until it closes, collecting output and the exit status.
pub async fn collect(ch: &mut russh::Channel<Msg>) -> Exec {
    let mut out = Exec::default();
    loop {
        let msg = tokio::time::timeout(STEP, ch.wait()).await.expect("channel output timed out");
        match msg {
            Some(ChannelMsg::Data { data }) => out.stdout.push_str(&String::from_utf8_lossy(&data)),
            Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                out.stderr.push_str(&String::from_utf8_lossy(&data));
            }
            Some(ChannelMsg::ExitStatus { exit_status }) => out.status = Some(exit_status),
            Some(_) => {}
            None => return out,
        }
    }
}

/// Runs `cmd` on a fresh channel.
pub async fn exec(h: &Handle<Client>, cmd: &str) -> Exec {
    let mut ch = h.channel_open_session().await.expect("open channel");
    ch.exec(true, cmd).await.expect("exec request");
    collect(&mut ch).await
}

/// Reads PTY output until `needle` shows up; returns everything read.
pub async fn read_until(ch: &mut russh::Channel<Msg>, buf: &mut String, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + STEP;
    while !buf.contains(needle) {
        let msg = tokio::time::timeout_at(deadline, ch.wait())
            .await
            .unwrap_or_else(|_| panic!("waiting for {needle:?}, got {buf:?}"));
        match msg {
            Some(ChannelMsg::Data { data }) => buf.push_str(&String::from_utf8_lossy(&data)),
            Some(_) => {}
            None => panic!("channel closed while waiting for {needle:?}; got {buf:?}"),
        }
    }
    let at = buf.find(needle).unwrap_or(0) + needle.len();
    let read = buf[..at].to_string();
    buf.drain(..at);
    read
}
