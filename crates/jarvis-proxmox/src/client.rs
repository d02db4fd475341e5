//! [`PveClient`]: the real PVE API client. Owns the one `reqwest::Client` (with the TLS
//! config from [`crate::tls`]), the token header, the request engine with failover across
//! endpoints, and the [`ProxmoxApi`] and [`ProxmoxActions`] implementations on top of it.
//!
//! Failover rules (see [`crate::endpoints`] for the bookkeeping):
//! - a request tries the preferred (last working) endpoint, then the others;
//! - connect errors, TLS errors, timeouts and HTTP 502/503/596 mark the endpoint failed and
//!   move on; any other HTTP answer (401, 403, 404, 500 with a PVE message, …) is PVE's real
//!   answer and is returned as is;
//! - a POST is only retried elsewhere when it certainly did not run: when the connection or
//!   TLS handshake failed, or PVE answered 502/503/596. A POST that timed out after being sent
//!   may have started its task, so it is not sent again;
//! - when every endpoint fails, the error lists each one and why.

use std::error::Error as StdError;
use std::time::Instant;

use async_trait::async_trait;
use jarvis_domain::cluster::GuestType;
use parking_lot::Mutex;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, redirect};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use url::Url;

use crate::api::{Consolidation, GuestAction, ProxmoxActions, ProxmoxApi, ResourceKind, Timeframe};
use crate::config::PveConfig;
use crate::de;
use crate::endpoints::{EndpointHealth, EndpointSet, Target};
use crate::error::{PveError, error_from_response, is_failover_status};
use crate::models::{
    ClusterResource, ClusterStatusEntry, GuestCurrent, NodeListEntry, NodeStatusInfo, NodeStorage,
    RrdPoint, Version,
};
use crate::task::{TaskListEntry, TaskStatus};
use crate::tls;
use crate::upid::Upid;

/// The real PVE API client. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct PveClient {
    http: reqwest::Client,
    auth: HeaderValue,
    endpoints: Mutex<EndpointSet>,
    discover: bool,
}

impl std::fmt::Debug for PveClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the auth header: it carries the token secret.
        f.debug_struct("PveClient").field("endpoints", &self.endpoints()).finish_non_exhaustive()
    }
}

/// `{"data": …}`: PVE's success envelope.
#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

/// A list whose unparsable entries are skipped (see [`de::lenient_vec`]).
struct LenientList<T>(Vec<T>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for LenientList<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de::lenient_vec(d).map(LenientList)
    }
}

/// Percent-encodes one path segment, leaving only RFC 3986 unreserved characters, so node
/// names and UPIDs (`:`, `@`, `!`) can never change the path's structure.
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn path(segments: &[&str]) -> String {
    segments.iter().map(|s| format!("/{}", encode_segment(s))).collect()
}

/// What went wrong before PVE could answer, and whether the request may have been processed.
struct TransportFailure {
    error: PveError,
    /// The request may have reached PVE (so a POST must not be repeated elsewhere).
    maybe_sent: bool,
}

/// The innermost error message: the one that names the real cause ("Connection refused").
fn root_cause(err: &(dyn StdError + 'static)) -> String {
    let mut cur = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

fn classify_transport(endpoint: &str, err: &reqwest::Error) -> TransportFailure {
    let endpoint = endpoint.to_owned();
    if let Some(detail) = tls::describe_tls_error(err) {
        return TransportFailure { error: PveError::Tls { endpoint, detail }, maybe_sent: false };
    }
    if err.is_connect() {
        let error = if err.is_timeout() {
            PveError::Timeout { endpoint }
        } else {
            PveError::Connect { endpoint, detail: root_cause(err) }
        };
        return TransportFailure { error, maybe_sent: false };
    }
    if err.is_timeout() {
        return TransportFailure { error: PveError::Timeout { endpoint }, maybe_sent: true };
    }
    TransportFailure {
        error: PveError::Connect { endpoint, detail: root_cause(err) },
        maybe_sent: true,
    }
}

/// The short "why" for one endpoint in [`PveError::AllEndpointsFailed`].
fn failure_reason(err: &PveError) -> String {
    match err {
        PveError::Timeout { .. } => "timed out".to_owned(),
        PveError::Connect { detail, .. } | PveError::Tls { detail, .. } => detail.clone(),
        PveError::Api { status, message } => format!("HTTP {status}: {message}"),
        other => other.to_string(),
    }
}

impl PveClient {
    /// Builds the client: validates the config, builds the TLS config and the HTTP client.
    /// No network traffic happens until the first call.
    pub fn new(config: PveConfig) -> Result<Self, PveError> {
        config.validate()?;
        let tls = tls::client_config(&config.tls)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            // PVE never redirects API calls; following one could hand the token to a stranger.
            .redirect(redirect::Policy::none())
            // Talk to the cluster nodes directly, whatever HTTP(S)_PROXY says.
            .no_proxy()
            .user_agent(concat!("jarvis/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| crate::config::ConfigError::Client(root_cause(&e)))?;
        let mut auth = HeaderValue::from_str(&format!(
            "PVEAPIToken={}={}",
            config.token_id, config.token_secret
        ))
        .map_err(|_| {
            crate::config::ConfigError::InvalidToken(
                "the token id or secret contains characters not allowed in a header".into(),
            )
        })?;
        auth.set_sensitive(true);
        Ok(Self {
            http,
            auth,
            endpoints: Mutex::new(EndpointSet::new(&config.endpoints)),
            discover: config.discover_endpoints,
        })
    }

    /// Adds the node IPs of a `/cluster/status` answer as failover endpoints (when discovery
    /// is on). Called automatically by [`ProxmoxApi::cluster_status`].
    pub fn learn_endpoints(&self, status: &[ClusterStatusEntry]) {
        if !self.discover {
            return;
        }
        let ips: Vec<String> =
            status.iter().filter(|e| e.is_node()).filter_map(|e| e.ip.clone()).collect();
        self.endpoints.lock().set_discovered(&ips);
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, PveError> {
        self.execute(Method::GET, path, query, None).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &[(&str, String)],
    ) -> Result<T, PveError> {
        self.execute(Method::POST, path, &[], Some(form)).await
    }

    /// Sends one API call with failover and decodes `{"data": T}`.
    async fn execute<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        form: Option<&[(&str, String)]>,
    ) -> Result<T, PveError> {
        let targets = self.endpoints.lock().attempt_order(Instant::now());
        let idempotent = method == Method::GET;
        let mut failures: Vec<(String, String)> = Vec::new();
        let mut last: Option<PveError> = None;

        for target in targets {
            match self.attempt(&method, &target, path, query, form).await {
                Ok((status, reason, body)) => {
                    if is_failover_status(status) {
                        let err = error_from_response(status, reason.as_deref(), &body);
                        tracing::warn!(endpoint = %target.display, status, "PVE endpoint cannot serve; failing over");
                        self.endpoints.lock().mark_failed(
                            &target.display,
                            &failure_reason(&err),
                            Instant::now(),
                        );
                        failures.push((target.display.clone(), failure_reason(&err)));
                        last = Some(err);
                        continue;
                    }
                    self.endpoints.lock().mark_ok(&target.display);
                    if (200..300).contains(&status) {
                        return decode(path, &body);
                    }
                    return Err(match error_from_response(status, reason.as_deref(), &body) {
                        PveError::NotFound(m) => {
                            PveError::NotFound(format!("{method} {path}: {m}"))
                        }
                        other => other,
                    });
                }
                Err(TransportFailure { error, maybe_sent }) => {
                    let why = failure_reason(&error);
                    tracing::warn!(endpoint = %target.display, error = %why, "PVE endpoint failed");
                    self.endpoints.lock().mark_failed(&target.display, &why, Instant::now());
                    if maybe_sent && !idempotent {
                        return Err(error);
                    }
                    failures.push((target.display.clone(), why));
                    last = Some(error);
                }
            }
        }
        match (failures.len(), last) {
            // One endpoint only: its own error is more useful than a list of one.
            (1, Some(err)) => Err(err),
            _ => Err(PveError::AllEndpointsFailed(failures)),
        }
    }

    /// One HTTP exchange with one endpoint: status, non-canonical reason phrase, body.
    async fn attempt(
        &self,
        method: &Method,
        target: &Target,
        path: &str,
        query: &[(&str, String)],
        form: Option<&[(&str, String)]>,
    ) -> Result<(u16, Option<String>, Vec<u8>), TransportFailure> {
        let url =
            Url::parse(&format!("{}{}", target.api_base, path)).map_err(|e| TransportFailure {
                error: PveError::Connect {
                    endpoint: target.display.clone(),
                    detail: format!("invalid URL: {e}"),
                },
                maybe_sent: false,
            })?;
        let mut req =
            self.http.request(method.clone(), url).header(AUTHORIZATION, self.auth.clone());
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(form) = form {
            // PVE wants form-encoded POST bodies, even empty ones.
            req = req.form(form);
        }
        let resp = req.send().await.map_err(|e| classify_transport(&target.display, &e))?;
        let status = resp.status().as_u16();
        // PVE puts 401 reasons only in the status line; hyper keeps non-canonical phrases.
        let reason = resp
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).trim().to_owned());
        let body = resp.bytes().await.map_err(|e| {
            let mut f = classify_transport(&target.display, &e);
            f.maybe_sent = true;
            f
        })?;
        Ok((status, reason, body.to_vec()))
    }
}

fn decode<T: DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, PveError> {
    serde_json::from_slice::<Envelope<T>>(body)
        .map(|e| e.data)
        .map_err(|e| PveError::Decode { path: path.to_owned(), detail: e.to_string() })
}

#[async_trait]
impl ProxmoxApi for PveClient {
    async fn version(&self) -> Result<Version, PveError> {
        self.get("/version", &[]).await
    }

    async fn cluster_status(&self) -> Result<Vec<ClusterStatusEntry>, PveError> {
        let list: LenientList<ClusterStatusEntry> = self.get("/cluster/status", &[]).await?;
        self.learn_endpoints(&list.0);
        Ok(list.0)
    }

    async fn cluster_resources(
        &self,
        kind: Option<ResourceKind>,
    ) -> Result<Vec<ClusterResource>, PveError> {
        let query: Vec<(&str, String)> =
            kind.map(|k| ("type", k.as_str().to_owned())).into_iter().collect();
        let list: LenientList<ClusterResource> = self.get("/cluster/resources", &query).await?;
        Ok(list.0)
    }

    async fn nodes(&self) -> Result<Vec<NodeListEntry>, PveError> {
        Ok(self.get::<LenientList<NodeListEntry>>("/nodes", &[]).await?.0)
    }

    async fn node_status(&self, node: &str) -> Result<NodeStatusInfo, PveError> {
        self.get(&path(&["nodes", node, "status"]), &[]).await
    }

    async fn node_rrddata(
        &self,
        node: &str,
        timeframe: Timeframe,
        cf: Consolidation,
    ) -> Result<Vec<RrdPoint>, PveError> {
        let query = [("timeframe", timeframe.as_str().to_owned()), ("cf", cf.as_str().to_owned())];
        Ok(self.get::<LenientList<RrdPoint>>(&path(&["nodes", node, "rrddata"]), &query).await?.0)
    }

    async fn node_storage(&self, node: &str) -> Result<Vec<NodeStorage>, PveError> {
        Ok(self.get::<LenientList<NodeStorage>>(&path(&["nodes", node, "storage"]), &[]).await?.0)
    }

    async fn guest_status(
        &self,
        node: &str,
        kind: GuestType,
        vmid: u32,
    ) -> Result<GuestCurrent, PveError> {
        let p = path(&["nodes", node, kind.as_str(), &vmid.to_string(), "status", "current"]);
        self.get(&p, &[]).await
    }

    async fn guest_config(
        &self,
        node: &str,
        kind: GuestType,
        vmid: u32,
    ) -> Result<serde_json::Value, PveError> {
        self.get(&path(&["nodes", node, kind.as_str(), &vmid.to_string(), "config"]), &[]).await
    }

    async fn task_status(&self, upid: &Upid) -> Result<TaskStatus, PveError> {
        self.get(&path(&["nodes", upid.node(), "tasks", upid.as_str(), "status"]), &[]).await
    }

    async fn recent_tasks(
        &self,
        node: Option<&str>,
        limit: u32,
    ) -> Result<Vec<TaskListEntry>, PveError> {
        let mut list = match node {
            Some(node) => {
                let query = [("limit", limit.to_string())];
                self.get::<LenientList<TaskListEntry>>(&path(&["nodes", node, "tasks"]), &query)
                    .await?
                    .0
            }
            None => self.get::<LenientList<TaskListEntry>>("/cluster/tasks", &[]).await?.0,
        };
        // Newest first; PVE already sorts, but /cluster/tasks has no limit parameter.
        list.sort_by_key(|t| std::cmp::Reverse(t.starttime));
        list.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(list)
    }

    async fn storage_content(
        &self,
        node: &str,
        storage: &str,
        content: Option<&str>,
    ) -> Result<Vec<crate::StorageContent>, PveError> {
        let query: Vec<(&str, String)> =
            content.map(|c| vec![("content", c.to_owned())]).unwrap_or_default();
        let p = path(&["nodes", node, "storage", storage, "content"]);
        Ok(self.get::<LenientList<crate::StorageContent>>(&p, &query).await?.0)
    }

    fn current_endpoint(&self) -> Option<String> {
        self.endpoints.lock().preferred()
    }

    fn endpoints(&self) -> Vec<EndpointHealth> {
        self.endpoints.lock().health()
    }
}

#[async_trait]
impl ProxmoxActions for PveClient {
    async fn guest_action(
        &self,
        node: &str,
        kind: GuestType,
        vmid: u32,
        action: GuestAction,
    ) -> Result<Upid, PveError> {
        let p = path(&["nodes", node, kind.as_str(), &vmid.to_string(), "status", action.as_str()]);
        let raw: String = self.post(&p, &[]).await?;
        Upid::parse(&raw).map_err(|e| PveError::Decode { path: p, detail: e.to_string() })
    }

    async fn wake_on_lan(&self, node: &str) -> Result<String, PveError> {
        let mac: Option<String> = self.post(&path(&["nodes", node, "wakeonlan"]), &[]).await?;
        Ok(mac.unwrap_or_default())
    }

    async fn node_power(&self, node: &str, command: crate::NodePower) -> Result<(), PveError> {
        let form = [("command", command.as_str().to_owned())];
        let _: Option<serde_json::Value> =
            self.post(&path(&["nodes", node, "status"]), &form).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_strictly_encoded() {
        assert_eq!(
            path(&[
                "nodes",
                "Home",
                "tasks",
                "UPID:n1:0000:00:00:qmstart:100:root@pam!tok:",
                "status"
            ]),
            "/nodes/Home/tasks/UPID%3An1%3A0000%3A00%3A00%3Aqmstart%3A100%3Aroot%40pam%21tok%3A/status"
        );
        assert_eq!(encode_segment("a/b?c#d e%"), "a%2Fb%3Fc%23d%20e%25");
        assert_eq!(encode_segment("pve-1.lan_x~"), "pve-1.lan_x~");
    }

    #[test]
    fn decode_reports_the_path() {
        let e = decode::<Version>("/version", b"<html>").unwrap_err();
        assert!(matches!(e, PveError::Decode { ref path, .. } if path == "/version"), "{e}");
        let v: Version =
            decode("/version", br#"{"data":{"version":"8.4-1","release":"8.4","repoid":"x"}}"#)
                .unwrap();
        assert_eq!(v.release.as_deref(), Some("8.4"));
    }
}
