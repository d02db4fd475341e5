//! Real servers for the notification tests: an HTTP receiver (axum on loopback) that records
//! every request and answers with a settable status, a listener that accepts and never
//! answers, an SMTP server (mailin-embedded) that records mail, and a TLS terminator in front
//! of it for implicit TLS.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use parking_lot::Mutex;

/// One request a [`Receiver`] got.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The status the receiver answered with.
    pub status: u16,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_string())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    pub fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).unwrap()
    }
}

#[derive(Clone)]
struct ReceiverState {
    requests: Arc<Mutex<Vec<Recorded>>>,
    status: Arc<AtomicU16>,
    reply: Arc<Mutex<String>>,
}

/// An HTTP server on 127.0.0.1:0 recording every request.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    state: ReceiverState,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state = ReceiverState {
            requests: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            reply: Arc::default(),
        };
        async fn record(
            State(s): State<ReceiverState>,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: Bytes,
        ) -> (StatusCode, String) {
            let code = s.status.load(Ordering::SeqCst);
            s.requests.lock().push(Recorded { method, uri, headers, body, status: code });
            let status = StatusCode::from_u16(code).unwrap();
            (status, s.reply.lock().clone())
        }
        let app = axum::Router::new().fallback(record).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { addr, state }
    }

    /// `http://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answer every request with `status` and `body` from now on.
    pub fn respond(&self, status: u16, body: &str) {
        self.state.status.store(status, Ordering::SeqCst);
        *self.state.reply.lock() = body.to_string();
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().clone()
    }

    pub fn count(&self) -> usize {
        self.state.requests.lock().len()
    }
}

/// A TCP listener that accepts connections and never says a word.
pub async fn hanging_listener() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}

/// An address nothing listens on.
pub fn refused_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    addr
}

/// A received e-mail.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

/// What the SMTP server does.
#[derive(Clone, Default)]
pub struct SmtpOptions {
    /// Offer STARTTLS with this certificate and key (PEM).
    pub tls: Option<(String, String)>,
    /// Require AUTH PLAIN/LOGIN with these credentials.
    pub auth: Option<(String, String)>,
    /// Refuse recipients containing this text with this reply code.
    pub reject_rcpt: Option<(String, u16)>,
}

#[derive(Clone)]
struct SmtpHandler {
    opts: SmtpOptions,
    mails: Arc<Mutex<Vec<Mail>>>,
    auths: Arc<Mutex<Vec<String>>>,
    current: Option<Mail>,
}

impl mailin_embedded::Handler for SmtpHandler {
    fn rcpt(&mut self, to: &str) -> mailin_embedded::Response {
        match &self.opts.reject_rcpt {
            Some((needle, code)) if to.contains(needle.as_str()) => {
                mailin_embedded::Response::custom(*code, "mailbox refused by test relay".into())
            }
            _ => mailin_embedded::response::OK,
        }
    }
    fn data_start(
        &mut self,
        _: &str,
        from: &str,
        _: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.current = Some(Mail { from: from.to_string(), to: to.to_vec(), data: Vec::new() });
        mailin_embedded::response::OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(m) = &mut self.current {
            m.data.extend_from_slice(buf);
        }
        Ok(())
    }
    fn data_end(&mut self) -> mailin_embedded::Response {
        if let Some(m) = self.current.take() {
            self.mails.lock().push(m);
        }
        mailin_embedded::response::OK
    }
    fn auth_plain(&mut self, _: &str, user: &str, pass: &str) -> mailin_embedded::Response {
        self.check(user, pass)
    }
    fn auth_login(&mut self, user: &str, pass: &str) -> mailin_embedded::Response {
        self.check(user, pass)
    }
}

impl SmtpHandler {
    fn check(&mut self, user: &str, pass: &str) -> mailin_embedded::Response {
        self.auths.lock().push(user.to_string());
        match &self.opts.auth {
            Some((u, p)) if u == user && p == pass => mailin_embedded::response::AUTH_OK,
            _ => mailin_embedded::response::INVALID_CREDENTIALS,
        }
    }
}

/// A running SMTP server.
pub struct Smtp {
    pub addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
    auths: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Smtp {
    /// Starts the server on 127.0.0.1:0 in its own threads (it has no stop; the test process
    /// ends it).
    pub fn start(opts: SmtpOptions) -> Smtp {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let auths = Arc::new(Mutex::new(Vec::new()));
        let handler = SmtpHandler {
            opts: opts.clone(),
            mails: mails.clone(),
            auths: auths.clone(),
            current: None,
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut server = mailin_embedded::Server::new(handler);
        server.with_name("relay.test").with_tcp_listener(listener).with_num_threads(4);
        if let Some((cert, key)) = &opts.tls {
            let cert_path = dir.path().join("cert.pem");
            let key_path = dir.path().join("key.pem");
            std::fs::write(&cert_path, cert).unwrap();
            std::fs::write(&key_path, key).unwrap();
            server
                .with_ssl(mailin_embedded::SslConfig::SelfSigned {
                    cert_path: cert_path.to_string_lossy().into(),
                    key_path: key_path.to_string_lossy().into(),
                })
                .unwrap();
        }
        if opts.auth.is_some() {
            server.with_auth(mailin_embedded::AuthMechanism::Plain);
            server.with_auth(mailin_embedded::AuthMechanism::Login);
        }
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Smtp { addr, mails, auths, _dir: dir }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().clone()
    }

    pub fn auth_attempts(&self) -> Vec<String> {
        self.auths.lock().clone()
    }
}

/// A self-signed certificate for `127.0.0.1` and `localhost`: (cert PEM, key PEM).
pub fn self_signed() -> (String, String) {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    (ck.cert.pem(), ck.signing_key.serialize_pem())
}

/// Terminates TLS on a new port and forwards the plain bytes to `backend` (an smtps relay
/// made from a plain one).
pub async fn tls_terminator(backend: SocketAddr, cert_pem: &str, key_pem: &str) -> SocketAddr {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let certs = vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else { return };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}

/// The header `name` of a raw message, unfolded and with RFC 2047 encoded words decoded.
pub fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next()?;
    let mut unfolded: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = unfolded.last_mut() {
                last.push_str(line);
            }
        } else {
            unfolded.push(line.to_string());
        }
    }
    let prefix = format!("{}:", name.to_ascii_lowercase());
    let value = unfolded.into_iter().find(|l| l.to_ascii_lowercase().starts_with(&prefix))?;
    Some(decode_words(value[prefix.len()..].trim()))
}

fn decode_words(value: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while !rest.is_empty() {
        if let Some(start) = rest.find("=?") {
            let (before, after) = rest.split_at(start);
            let parts: Vec<&str> = after[2..].splitn(3, '?').collect();
            if parts.len() == 3
                && let Some(end) = parts[2].find("?=")
            {
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                let data = &parts[2][..end];
                let bytes = if parts[1].eq_ignore_ascii_case("b") {
                    base64::engine::general_purpose::STANDARD.decode(data).unwrap()
                } else {
                    qp_decode(&data.replace('_', " "))
                };
                out.push_str(&String::from_utf8(bytes).unwrap());
                let consumed = 2 + parts[0].len() + 1 + parts[1].len() + 1 + end + 2;
                rest = &after[consumed..];
                last_was_word = true;
                continue;
            }
        }
        out.push_str(rest);
        break;
    }
    out
}

fn qp_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') {
                i += 3;
                continue;
            }
            if let Some(h) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(h);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// The decoded text body of a single-part raw message.
pub fn body(raw: &str) -> String {
    use base64::Engine;
    let (_, body) = raw.split_once("\r\n\r\n").unwrap();
    let encoding =
        header(raw, "Content-Transfer-Encoding").unwrap_or_default().to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "base64" => {
            let clean: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD.decode(clean).unwrap()
        }
        "quoted-printable" => qp_decode(body),
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8(bytes).unwrap().replace("\r\n", "\n")
}
