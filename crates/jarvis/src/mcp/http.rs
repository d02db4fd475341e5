//! Streamable HTTP at `/mcp`, inside the main server.
//!
//! rmcp's [`StreamableHttpService`] (a tower service) does the protocol; in front of it sits our
//! own bearer-token check, because rmcp does not authenticate: the same session token as the
//! REST API (`Authorization: Bearer <token>` from `POST /api/auth/login`), verified — signature,
//! expiry, revocation — with [`AuthService::verify`](crate::auth::AuthService::verify). A missing,
//! invalid or revoked token gets our usual `401 {"error": {"code": "unauthorized", …}}`.
//!
//! Behind the token check rmcp guards against DNS rebinding: the `Host` header must be one of
//! [`allowed_hosts`] (loopback names, the bind address, the machine's host name and
//! `JARVIS_MCP_ALLOWED_HOSTS`), otherwise 403. A browser `Origin`, when sent, must name one of the
//! same hosts. `JARVIS_MCP_ALLOWED_HOSTS=*` turns both checks off (the token is still required).
//!
//! The service runs stateless (`legacy_session_mode = false`): every POST is answered on its own
//! with a plain JSON body (`json_response`), nothing is kept between requests, so there is no
//! session to leak or expire and graceful shutdown never waits on an open stream. Tool calls
//! have no per-session state anyway; confirmations live in the database.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::JarvisMcp;
use crate::auth::bearer;
use crate::error::AppError;
use crate::state::AppState;

/// Host names every MCP endpoint accepts.
const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The `/mcp` routes: bearer auth in front of rmcp's streamable HTTP service. `cancel` stops
/// in-flight MCP work at shutdown. Merge it into the main router (before `with_state`).
pub fn mcp_router<S>(state: AppState, cancel: CancellationToken) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let hosts =
        allowed_hosts(state.config.listen, &state.config.mcp_allowed_hosts, local_hostname());
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_cancellation_token(cancel)
        .with_max_request_body_bytes(state.config.max_body_bytes);
    if hosts.iter().any(|h| h == "*") {
        tracing::warn!(
            "JARVIS_MCP_ALLOWED_HOSTS=*: /mcp accepts any Host and Origin (the bearer token is still required)"
        );
        config = config.disable_allowed_hosts().disable_allowed_origins();
    } else {
        tracing::debug!(?hosts, "MCP allowed hosts");
        config = config.with_allowed_origins(allowed_origins(&hosts)).with_allowed_hosts(hosts);
    }
    let tools = state.tools.clone();
    let cluster = state.cluster.clone();
    let service = StreamableHttpService::new(
        move || Ok(JarvisMcp::new(tools.clone(), cluster.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn_with_state(state, require_bearer))
}

/// Refuses any request without a valid, unrevoked session token.
async fn require_bearer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let header = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match bearer(header).and_then(|token| state.auth.verify(token)) {
        Ok(_claims) => next.run(request).await,
        Err(e) => {
            tracing::debug!(error = %e, "MCP request refused");
            let mut response = AppError::unauthorized(e.to_string()).into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"jarvis\""),
            );
            response
        }
    }
}

/// The machine's host name, when the OS tells us (Linux), so `http://<hostname>:4000/mcp` works
/// without configuration.
fn local_hostname() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
}

/// Host names (optionally `host:port`) `/mcp` accepts: loopback, the bind address when it is a
/// specific one, the host name, and the configured extras (`*` = any), without duplicates.
pub fn allowed_hosts(
    listen: SocketAddr,
    extra: &[String],
    hostname: Option<String>,
) -> Vec<String> {
    let mut hosts: Vec<String> = LOOPBACK.iter().map(|h| (*h).to_string()).collect();
    let ip = listen.ip();
    if !ip.is_unspecified() {
        hosts.push(ip.to_string());
    }
    hosts.extend(hostname);
    hosts.extend(extra.iter().map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()));
    let mut seen = std::collections::HashSet::new();
    hosts.retain(|h| seen.insert(h.clone()));
    hosts
}

/// Browser origins matching the allowed hosts: `http(s)://<host>` on any port, or on the given
/// port for a `host:port` entry.
pub fn allowed_origins(hosts: &[String]) -> Vec<String> {
    hosts
        .iter()
        .flat_map(|h| {
            let authority = match h.parse::<IpAddr>() {
                Ok(IpAddr::V6(v6)) => format!("[{v6}]:*"),
                Ok(IpAddr::V4(v4)) => format!("{v4}:*"),
                Err(_) if h.starts_with('[') || h.contains(':') => h.clone(),
                Err(_) => format!("{h}:*"),
            };
            [format!("http://{authority}"), format!("https://{authority}")]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_bind_address_hostname_and_extras_are_allowed() {
        let hosts = allowed_hosts(
            "192.168.1.10:4000".parse().unwrap(),
            &[" Jarvis.lan ".into(), "".into(), "localhost".into(), "proxy.example:8443".into()],
            Some("pve-tools".into()),
        );
        assert_eq!(
            hosts,
            [
                "localhost",
                "127.0.0.1",
                "::1",
                "192.168.1.10",
                "pve-tools",
                "jarvis.lan",
                "proxy.example:8443"
            ]
        );
    }

    #[test]
    fn an_unspecified_bind_address_is_not_a_host_name() {
        let hosts = allowed_hosts("0.0.0.0:4000".parse().unwrap(), &[], None);
        assert_eq!(hosts, ["localhost", "127.0.0.1", "::1"]);
        let hosts = allowed_hosts("[::]:4000".parse().unwrap(), &[], None);
        assert_eq!(hosts, ["localhost", "127.0.0.1", "::1"]);
    }

    #[test]
    fn origins_follow_the_hosts() {
        let o = allowed_origins(&[
            "localhost".into(),
            "::1".into(),
            "10.0.0.2".into(),
            "proxy.example:8443".into(),
        ]);
        assert_eq!(
            o,
            [
                "http://localhost:*",
                "https://localhost:*",
                "http://[::1]:*",
                "https://[::1]:*",
                "http://10.0.0.2:*",
                "https://10.0.0.2:*",
                "http://proxy.example:8443",
                "https://proxy.example:8443",
            ]
        );
    }
}
