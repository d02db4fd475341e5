//! Shared test helpers: fixture loading, client configs, and tiny raw HTTP / HTTPS servers
//! on loopback (wiremock cannot send a custom reason phrase or speak TLS).
#![allow(dead_code, missing_docs)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jarvis_proxmox::{PveClient, PveConfig, TlsMode};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

pub const TOKEN_ID: &str = "root@pam!jarvis";
pub const TOKEN_SECRET: &str = "5f0e1c9a-3b7d-4c2e-9f11-0123456789ab";

/// `fixtures/pve` at the repository root (copied from the shared reference set; see
/// `fixtures/README.md`). Fails loudly when it is missing rather than skipping tests.
pub fn fixtures_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/pve");
    assert!(
        dir.join("go-proxmox").join("INDEX.json").is_file(),
        "PVE fixtures not found at {} (fixtures/pve at the repository root)",
        dir.display()
    );
    dir
}

pub fn fixture(rel: &str) -> String {
    let p = fixtures_dir().join(rel);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", p.display()))
}

pub fn go(name: &str) -> String {
    fixture(&format!("go-proxmox/{name}"))
}

pub fn config(urls: &[String]) -> PveConfig {
    let mut c = PveConfig::new(
        urls.iter().map(|u| Url::parse(u).expect("test url")).collect(),
        TOKEN_ID,
        TOKEN_SECRET,
    );
    c.tls = TlsMode::Insecure;
    c.discover_endpoints = false;
    c.timeout = Duration::from_secs(5);
    c.connect_timeout = Duration::from_secs(2);
    c
}

pub fn client(urls: &[String]) -> PveClient {
    PveClient::new(config(urls)).expect("client builds")
}

/// A loopback address nothing listens on: bind, read the port, drop the listener.
pub async fn dead_endpoint() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

/// What a raw server saw: request heads, and how many full requests it answered.
#[derive(Clone, Default)]
pub struct Seen {
    pub requests: Arc<AtomicUsize>,
    pub heads: Arc<Mutex<Vec<String>>>,
}

impl Seen {
    pub fn count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads one HTTP/1.1 request (head + Content-Length body) and answers with `response`.
async fn serve_conn<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, seen: &Seen, response: &[u8]) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    seen.heads.lock().push(head);
    seen.requests.fetch_add(1, Ordering::SeqCst);
    let _ = s.write_all(response).await;
    let _ = s.shutdown().await;
}

/// `HTTP/1.1 <status> <reason>` with a JSON body (possibly empty).
pub fn raw_response(status: u16, reason: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {reason}\r\nServer: pve-api-daemon/3.0\r\nContent-Type: application/json;charset=UTF-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A plain-HTTP server that answers every request with `response`.
pub async fn raw_server(response: Vec<u8>) -> (String, Seen) {
    raw_server_at("127.0.0.1:0", response).await
}

/// [`raw_server`] on a chosen address (another loopback IP, a known port).
pub async fn raw_server_at(bind: &str, response: Vec<u8>) -> (String, Seen) {
    let listener = TcpListener::bind(bind).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Seen::default();
    let s2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let seen = s2.clone();
            let response = response.clone();
            tokio::spawn(async move { serve_conn(&mut tcp, &seen, &response).await });
        }
    });
    (format!("http://{addr}"), seen)
}

/// An HTTPS server (tokio-rustls, aws-lc-rs) presenting `chain`, answering every request that
/// gets past the handshake with `response`. `Seen::count` stays 0 if no handshake succeeds.
pub async fn tls_server(
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
    response: Vec<u8>,
) -> (SocketAddr, Seen) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Seen::default();
    let s2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let seen = s2.clone();
            let response = response.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    serve_conn(&mut tls, &seen, &response).await;
                }
            });
        }
    });
    (addr, seen)
}
