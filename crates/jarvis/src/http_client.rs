//! [`HttpClient`]: the one outbound HTTP client for URLs an operator (or, later, a model) typed
//! in — today the notification webhooks.
//!
//! It owns the rules every such request must follow, so no caller can forget one:
//! - **No link-local or cloud-metadata targets.** 169.254.0.0/16 (where AWS, GCP, Azure and
//!   OpenStack serve instance credentials), fe80::/10, the IPv6 metadata address fd00:ec2::254,
//!   Alibaba's 100.100.100.200 and names such as `metadata.google.internal` are refused, both
//!   as literals in the URL and as what a name *resolves* to (our own DNS resolver filters the
//!   answers, so a name pointed at 169.254.169.254 is refused too). Loopback and private LAN
//!   addresses stay allowed on purpose: homelab ntfy and Gotify servers live there.
//! - **No proxy from the environment**: a proxy would resolve the name itself and bypass the
//!   resolver check.
//! - **Redirects** only to the same host, at most 3, and never to a refused address.
//! - **Timeouts** on connect and on the whole request, and **capped response reading**: a
//!   receiver that streams forever costs at most [`MAX_RESPONSE_BYTES`].
//! - Errors never carry the URL (webhook URLs contain tokens).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use url::Url;

/// The most response body bytes read; the rest is dropped unread.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Host names of cloud metadata services (compared without a trailing dot, ignoring case).
const METADATA_HOSTS: &[&str] = &[
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
    "metadata.tencentyun.com",
];

/// Why a request was not made or did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The target is link-local or a cloud-metadata service.
    #[error("refused target: {0}")]
    Blocked(String),
    /// Not an http(s) URL with a host.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// Connect or whole-request timeout.
    #[error("timed out")]
    Timeout,
    /// The host could not be reached (DNS, refused, reset, TLS handshake).
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// Anything else reqwest reports (without the URL).
    #[error("{0}")]
    Other(String),
}

/// A response: status, headers and at most [`MAX_RESPONSE_BYTES`] of body.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body, cut at the cap.
    pub body: Bytes,
}

/// The guarded outbound client; cheap to clone.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
}

impl HttpClient {
    /// A client whose requests time out after `timeout` (connect: at most 5 s of it).
    pub fn new(timeout: Duration) -> Result<HttpClient, HttpError> {
        let inner = reqwest::Client::builder()
            .user_agent(concat!("jarvis/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver))
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let first =
                    attempt.previous().first().and_then(|u| u.host_str().map(str::to_owned));
                if attempt.previous().len() > 3 {
                    return attempt.error("too many redirects");
                }
                if first.as_deref() != attempt.url().host_str() {
                    return attempt.error("redirect to another host refused");
                }
                match check_url(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(e) => attempt.error(e),
                }
            }))
            .build()
            .map_err(|e| HttpError::Other(e.without_url().to_string()))?;
        Ok(HttpClient { inner })
    }

    /// A POST to `url`, refused when the URL is not allowed.
    pub fn post(&self, url: &Url) -> Result<RequestBuilder, HttpError> {
        check_url(url)?;
        Ok(self.inner.post(url.clone()))
    }

    /// Sends `request` and reads at most [`MAX_RESPONSE_BYTES`] of the answer.
    pub async fn send(&self, request: RequestBuilder) -> Result<HttpResponse, HttpError> {
        let mut resp = request.send().await.map_err(map_error)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let mut body = Vec::new();
        while body.len() < MAX_RESPONSE_BYTES {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_RESPONSE_BYTES - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(None) => break,
                // The status is what matters; a body cut short by the peer is still an answer.
                Err(_) => break,
            }
        }
        Ok(HttpResponse { status, headers, body: Bytes::from(body) })
    }
}

/// Checks scheme, host and (for literal addresses and known names) the target.
pub fn check_url(url: &Url) -> Result<(), HttpError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(HttpError::InvalidUrl(format!(
            "scheme `{}` is not http or https",
            url.scheme()
        )));
    }
    match url.host() {
        None => Err(HttpError::InvalidUrl("the URL has no host".into())),
        Some(url::Host::Ipv4(ip)) => check_ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => check_ip(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => check_name(name),
    }
}

fn check_name(name: &str) -> Result<(), HttpError> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if METADATA_HOSTS.contains(&name.as_str()) {
        return Err(HttpError::Blocked(format!("{name} is a cloud metadata service")));
    }
    Ok(())
}

fn check_ip(ip: IpAddr) -> Result<(), HttpError> {
    if is_blocked(ip) {
        Err(HttpError::Blocked(format!("{ip} is link-local or a cloud metadata address")))
    } else {
        Ok(())
    }
}

/// Link-local, metadata, unspecified, broadcast and multicast addresses.
pub fn is_blocked(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_blocked_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_blocked_v4(v4);
            }
            let fd00_ec2_254 = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
            (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6 == fd00_ec2_254
                || v6.is_unspecified()
                || v6.is_multicast()
        }
    }
}

fn is_blocked_v4(ip: Ipv4Addr) -> bool {
    ip.is_link_local()
        || ip == Ipv4Addr::new(100, 100, 100, 200)
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
}

/// The system resolver with refused addresses filtered out of every answer.
#[derive(Debug)]
struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            check_name(&host)?;
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> =
                found.iter().copied().filter(|a| !is_blocked(a.ip())).collect();
            if allowed.is_empty() && !found.is_empty() {
                return Err(HttpError::Blocked(format!(
                    "{host} resolves only to link-local or metadata addresses"
                ))
                .into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Maps a reqwest error to ours, dropping the URL (it may hold a token).
fn map_error(e: reqwest::Error) -> HttpError {
    let e = e.without_url();
    if e.is_timeout() {
        return HttpError::Timeout;
    }
    // Our resolver's refusal travels inside the connect error; surface it as such.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(blocked @ HttpError::Blocked(_)) = s.downcast_ref::<HttpError>() {
            return blocked.clone();
        }
        source = s.source();
    }
    if e.is_connect() {
        return HttpError::Unreachable(error_chain(&e));
    }
    if e.is_redirect() {
        return HttpError::Other(error_chain(&e));
    }
    HttpError::Other(error_chain(&e))
}

/// "outer: inner: innermost", the way people read errors.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn link_local_and_metadata_targets_are_refused_lan_and_loopback_allowed() {
        for bad in [
            "http://169.254.169.254/latest/meta-data/",
            "http://169.254.0.1/",
            "http://[fe80::1]/",
            "http://[fe80::1%25eth0]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[fd00:ec2::254]/",
            "http://100.100.100.200/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://METADATA.google.internal./",
            "http://0.0.0.0:80/",
        ] {
            let Ok(u) = Url::parse(bad) else { continue };
            let err = check_url(&u).unwrap_err();
            assert!(matches!(err, HttpError::Blocked(_)), "{bad}: {err}");
        }
        for good in [
            "http://127.0.0.1:8080/topic",
            "http://[::1]/",
            "https://192.168.1.10/",
            "http://10.0.0.5/",
            "http://100.64.1.2/",
            "https://ntfy.lan/alerts",
        ] {
            assert_eq!(check_url(&url(good)), Ok(()), "{good}");
        }
        assert!(matches!(check_url(&url("ftp://x/")), Err(HttpError::InvalidUrl(_))));
    }

    #[tokio::test]
    async fn requests_to_refused_targets_fail_with_a_clear_error_before_connecting() {
        let client = HttpClient::new(Duration::from_secs(2)).unwrap();
        for bad in
            ["http://169.254.169.254/", "http://[fe80::1]/", "http://metadata.google.internal/"]
        {
            let err = client.post(&url(bad)).unwrap_err();
            assert!(err.to_string().starts_with("refused target:"), "{bad}: {err}");
        }
    }

    #[tokio::test]
    async fn a_name_resolving_to_a_metadata_address_is_refused_by_the_resolver() {
        // `localhost` resolves to loopback, which is allowed: the resolver passes it through.
        let ok = GuardedResolver.resolve("localhost".parse().unwrap()).await;
        assert!(ok.is_ok());
        let err = GuardedResolver.resolve("metadata.google.internal".parse().unwrap()).await;
        let text = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("metadata"), "{text}");
    }

    #[tokio::test]
    async fn response_reading_is_capped_and_errors_carry_no_url() {
        use axum::routing::post;
        let app = axum::Router::new()
            .route("/big/secret-token", post(|| async { "x".repeat(MAX_RESPONSE_BYTES * 3) }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = HttpClient::new(Duration::from_secs(5)).unwrap();
        let u = url(&format!("http://{addr}/big/secret-token"));
        let resp = client.send(client.post(&u).unwrap()).await.unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body.len(), MAX_RESPONSE_BYTES);

        // Nothing listens on this port any more once the listener is dropped.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead = closed.local_addr().unwrap();
        drop(closed);
        let u = url(&format!("http://{dead}/hook/secret-token"));
        let err = client.send(client.post(&u).unwrap()).await.unwrap_err();
        assert!(matches!(err, HttpError::Unreachable(_)), "{err}");
        assert!(!err.to_string().contains("secret-token"), "{err}");
    }
}
