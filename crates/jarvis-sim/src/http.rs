//! The HTTP front of every request: the axum router, latency injection, token authentication
//! with PVE's 401 reason phrases, injected failures, and turning the request into an
//! [`ApiRequest`] for `api.rs`.
//!
//! Order matters and follows pveproxy: authentication is checked before the path is looked up
//! (an unauthenticated request for an unknown path is 401, not 501), and a failed
//! authentication answers with status 401, the reason in the status line and an empty body,
//! after the configured delay (PVE waits 3 s).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Response, header};

use crate::api::{self, ApiRequest};
use crate::config::{SimConfig, split_token_id};
use crate::control::{SimControl, fault_error, handle_sim};
use crate::server::{EndpointIdx, Shared};
use crate::wire::{self, ApiError};

/// Largest request body accepted (PVE's own limit is far larger, but nothing we serve needs it).
const MAX_BODY: usize = 1024 * 1024;

/// The router for one endpoint: everything goes through [`handle`].
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    let path = req.uri().path().to_string();
    if path.starts_with("/_sim/") {
        return handle_control(shared, req, &path).await;
    }
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let (latency, bad_token) = {
        let f = shared.faults.lock();
        (f.latency, f.bad_token)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let Some(rel) = path.strip_prefix("/api2/json").filter(|r| r.is_empty() || r.starts_with('/'))
    else {
        return non_api(&path);
    };
    if bad_token {
        return auth_failure(&shared.cfg, "invalid token value!".into()).await;
    }
    if let Err(reason) = authenticate(&shared.cfg, req.headers()) {
        return auth_failure(&shared.cfg, reason).await;
    }
    let fault = shared.faults.lock().take();
    if let Some(status) = fault {
        return fault_error(status).into_response();
    }
    let endpoint = req.extensions().get::<EndpointIdx>().map_or(0, |e| e.0);
    let result = match to_api_request(req, rel, endpoint, &shared).await {
        Ok(api_req) => {
            let now = Instant::now();
            let result = {
                let mut cl = shared.cluster.lock();
                cl.settle(now);
                api::dispatch(&mut cl, &api_req, now)
            };
            shared.sync_node_endpoints();
            result
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(body) => wire::response(200, body, None),
        Err(e) => e.into_response(),
    }
}

async fn to_api_request(
    req: Request,
    rel: &str,
    endpoint: usize,
    shared: &Shared,
) -> Result<ApiRequest, ApiError> {
    let method = req.method().as_str().to_string();
    let mut params = wire::parse_query(req.uri().query())?;
    let content_type =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = axum::body::to_bytes(req.into_body(), MAX_BODY)
        .await
        .map_err(|_| ApiError::new(413, "request entity too large"))?;
    params.extend(wire::parse_body(content_type.as_deref(), &body)?);
    let mut segs = Vec::new();
    for seg in rel.split('/').filter(|s| !s.is_empty()) {
        let decoded = wire::percent_decode(seg)
            .ok_or_else(|| ApiError::new(400, format!("invalid URI encoding in '{seg}'")))?;
        segs.push(decoded);
    }
    // The main listener answers as the first node; node endpoints as their node.
    let local = shared.endpoints.get(endpoint).and_then(|e| e.node).unwrap_or(0);
    Ok(ApiRequest { method, segs, rel_path: rel.to_string(), params, local })
}

/// Anything outside `/api2/json`: a tiny index page at `/`, 501 elsewhere.
fn non_api(path: &str) -> Response<Body> {
    if path == "/" {
        let mut res = Response::new(Body::from(
            "<!DOCTYPE html><html><head><title>Proxmox VE (simulated)</title></head>\
             <body><p>Simulated Proxmox VE API: see /api2/json/version</p></body></html>",
        ));
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/html;charset=UTF-8"),
        );
        return res;
    }
    ApiError::bare(501, "Not Implemented").into_response()
}

async fn auth_failure(cfg: &SimConfig, reason: String) -> Response<Body> {
    if !cfg.auth_failure_delay.is_zero() {
        tokio::time::sleep(cfg.auth_failure_delay).await;
    }
    ApiError::bare(401, reason).into_response()
}

/// Finds `key=value` or `key:value` in an Authorization or Cookie header, the way
/// pve-http-server's `extract_auth_value` does, and URI-unescapes the value.
fn extract_auth_value(header: &str, key: &str) -> Option<String> {
    let mut rest = header;
    while let Some(pos) = rest.find(key) {
        let at_word_start = pos == 0 || rest[..pos].ends_with(char::is_whitespace);
        let after = &rest[pos + key.len()..];
        if at_word_start && (after.starts_with('=') || after.starts_with(':')) {
            let value = after[1..].split(';').next().unwrap_or("");
            return Some(wire::percent_decode(value).unwrap_or_else(|| value.to_string()));
        }
        rest = &rest[pos + key.len()..];
    }
    None
}

/// Checks the API token; the error is the reason phrase PVE would answer with.
pub(crate) fn authenticate(cfg: &SimConfig, headers: &HeaderMap) -> Result<(), String> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let token = auth.and_then(|h| extract_auth_value(h, "PVEAPIToken"));
    let Some(token) = token else {
        let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
        if cookie.and_then(|c| extract_auth_value(c, "PVEAuthCookie")).is_some() {
            return Err("permission denied - invalid PVE ticket".into());
        }
        return Err("No ticket".into());
    };
    // PVE splits on the last '=': everything before is the token id.
    let Some((token_id, secret)) = token.rsplit_once('=') else {
        return Err("no tokenid specified".into());
    };
    let Some((user, name)) = split_token_id(token_id) else {
        return Err(format!("'{token_id}' is not a valid token ID"));
    };
    let (want_user, want_name) = split_token_id(&cfg.token_id).unwrap_or(("", ""));
    if user != want_user {
        return Err(format!("user '{user}' is disabled"));
    }
    if name != want_name {
        return Err(format!("no such token '{name}' for user '{user}'"));
    }
    if secret != cfg.token_secret {
        return Err("invalid token value!".into());
    }
    Ok(())
}

async fn handle_control(shared: Arc<Shared>, req: Request, path: &str) -> Response<Body> {
    // The control routes use the same token but ignore the fault switches, so a test can
    // always switch faults off again.
    if let Err(reason) = authenticate(&shared.cfg, req.headers()) {
        return ApiError::bare(401, reason).into_response();
    }
    let method = req.method().as_str().to_string();
    let body = match axum::body::to_bytes(req.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return ApiError::new(413, "request entity too large").into_response(),
    };
    let ctl = SimControl { shared };
    // Control calls may rebind listeners and take locks; keep them off the async workers.
    let path = path.to_string();
    match tokio::task::spawn_blocking(move || handle_sim(&ctl, &method, &path, &body)).await {
        Ok(res) => res,
        Err(_) => ApiError::new(500, "simulator control failed").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
        h
    }

    #[test]
    fn tokens_are_checked_with_pve_reasons() {
        let cfg = SimConfig::default();
        let good = format!("PVEAPIToken={}={}", cfg.token_id, cfg.token_secret);
        assert_eq!(authenticate(&cfg, &headers(&good)), Ok(()));
        assert_eq!(authenticate(&cfg, &HeaderMap::new()), Err("No ticket".into()));
        assert_eq!(
            authenticate(&cfg, &headers("PVEAPIToken=root@pam!other=x")),
            Err("no such token 'other' for user 'root@pam'".into())
        );
        assert_eq!(
            authenticate(&cfg, &headers("PVEAPIToken=root@pam!jarvis=wrong")),
            Err("invalid token value!".into())
        );
        assert_eq!(
            authenticate(&cfg, &headers("PVEAPIToken=bob@pve!jarvis=x")),
            Err("user 'bob@pve' is disabled".into())
        );
        assert_eq!(
            authenticate(&cfg, &headers("PVEAPIToken=nonsense=x")),
            Err("'nonsense' is not a valid token ID".into())
        );
        assert_eq!(authenticate(&cfg, &headers("Bearer abc")), Err("No ticket".into()));
        // URI-escaped values are accepted, as PVE unescapes them.
        let escaped = format!("PVEAPIToken=root%40pam%21jarvis={}", cfg.token_secret);
        assert_eq!(authenticate(&cfg, &headers(&escaped)), Ok(()));
    }
}
