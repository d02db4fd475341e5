//! `GET /api/health` (public) with component checks, and `GET /metrics`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use jarvis_domain::ClusterSnapshot;
use serde::Serialize;
use ts_rs::TS;
use utoipa::ToSchema;

use crate::auth::bearer;
use crate::chat::ProviderOutcome;
use crate::error::AppError;
use crate::state::AppState;
use jarvis_domain::routing::Provider;

/// Health of the whole server or of one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum HealthStatus {
    /// Working.
    Ok,
    /// Not configured (not an error).
    Disabled,
    /// Working with problems (e.g. stale data).
    Degraded,
    /// Not working.
    Down,
}

/// One component's health.
#[derive(Debug, Clone, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct ComponentHealth {
    /// Its status.
    pub status: HealthStatus,
    /// Why, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub detail: Option<String>,
}

impl ComponentHealth {
    fn new(status: HealthStatus, detail: impl Into<Option<String>>) -> Self {
        Self { status, detail: detail.into() }
    }
}

/// Body of `GET /api/health`.
#[derive(Debug, Clone, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct HealthResponse {
    /// Worst status of the required components (database, proxmox).
    pub status: HealthStatus,
    /// Server version.
    pub version: String,
    /// Seconds since start.
    #[ts(type = "number")]
    pub uptime_seconds: u64,
    /// True when serving the simulated demo cluster.
    pub demo: bool,
    /// `database`, `proxmox`, `ssh`, `claude`, `local`.
    pub components: BTreeMap<String, ComponentHealth>,
}

/// What the cluster snapshot says about PVE reachability.
pub fn proxmox_health(snap: &ClusterSnapshot) -> ComponentHealth {
    let f = &snap.freshness;
    match (f.stale, snap.updated_at.is_some(), &f.error) {
        (false, true, _) => ComponentHealth::new(
            HealthStatus::Ok,
            f.endpoint.as_ref().map(|e| format!("polling {e}")),
        ),
        (true, true, err) => ComponentHealth::new(
            HealthStatus::Degraded,
            Some(format!("showing last good data; {}", err.as_deref().unwrap_or("poll overdue"))),
        ),
        (_, false, Some(err)) => ComponentHealth::new(HealthStatus::Down, Some(err.clone())),
        (_, false, None) => {
            ComponentHealth::new(HealthStatus::Degraded, Some("waiting for the first poll".into()))
        }
    }
}

/// A model provider's health: not configured, configured but unused, or its last call.
fn llm_health(state: &AppState, kind: Provider) -> ComponentHealth {
    let Some(provider) = state.chat.provider(kind) else {
        let how = match kind {
            Provider::Claude => "ANTHROPIC_API_KEY",
            Provider::Local => "LOCAL_LLM_ENDPOINT",
        };
        return ComponentHealth::new(HealthStatus::Disabled, format!("not configured ({how})"));
    };
    let scripted = if state.config.llm.scripted { ", scripted demo" } else { "" };
    let model = provider.model();
    match state.chat.last_outcome(kind.as_str()) {
        None => ComponentHealth::new(
            HealthStatus::Ok,
            format!("model {model}{scripted}; not called yet"),
        ),
        Some(ProviderOutcome::Ok(at)) => ComponentHealth::new(
            HealthStatus::Ok,
            format!("model {model}{scripted}; last call succeeded at {}", crate::db::timestamp(at)),
        ),
        Some(ProviderOutcome::Failed(at, e)) => ComponentHealth::new(
            HealthStatus::Degraded,
            format!(
                "model {model}{scripted}; last call failed at {}: {e}",
                crate::db::timestamp(at)
            ),
        ),
    }
}

/// Overall status: the worst of the required components.
pub fn overall(components: &BTreeMap<String, ComponentHealth>) -> HealthStatus {
    ["database", "proxmox"]
        .iter()
        .filter_map(|k| components.get(*k))
        .map(|c| c.status)
        .max()
        .map(|s| if s == HealthStatus::Disabled { HealthStatus::Ok } else { s })
        .unwrap_or(HealthStatus::Ok)
}

/// Liveness and component health. Public, so container health checks need no token.
#[utoipa::path(get, path = "/api/health", tag = "meta",
    responses((status = 200, body = HealthResponse)))]
pub async fn health(State(state): State<AppState>) -> Json<HealthResponse> {
    let mut components = BTreeMap::new();
    let db = match state.db.ping().await {
        Ok(()) => ComponentHealth::new(HealthStatus::Ok, None),
        Err(e) => ComponentHealth::new(HealthStatus::Down, Some(e.to_string())),
    };
    components.insert("database".into(), db);
    components.insert("proxmox".into(), proxmox_health(&state.cluster.snapshot()));
    components.insert(
        "ssh".into(),
        match state.ssh.as_ref().map(|s| s.last_outcome()) {
            None => ComponentHealth::new(
                HealthStatus::Disabled,
                Some("not configured (SSH_KEY_PATH)".to_string()),
            ),
            Some(None) => ComponentHealth::new(
                HealthStatus::Ok,
                Some("configured; no command run yet".to_string()),
            ),
            Some(Some(Ok(node))) => ComponentHealth::new(
                HealthStatus::Ok,
                Some(format!("last command on {node} succeeded")),
            ),
            Some(Some(Err(e))) => ComponentHealth::new(
                HealthStatus::Degraded,
                Some(format!("last command failed: {e}")),
            ),
        },
    );
    for kind in [Provider::Claude, Provider::Local] {
        components.insert(kind.as_str().into(), llm_health(&state, kind));
    }
    Json(HealthResponse {
        status: overall(&components),
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_seconds: state.started.elapsed().as_secs(),
        demo: state.config.demo,
        components,
    })
}

/// Prometheus metrics; needs a session token like the rest of the API (checked here rather
/// than with the `Operator` extractor so a scraper gets the same JSON 401 either way).
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let header = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let authorised = bearer(header).ok().is_some_and(|t| state.auth.verify(t).is_ok());
    if !authorised {
        return AppError::unauthorized("metrics need a bearer token").into_response();
    }
    let gate = &state.auth.hash_gate;
    state.metrics.password_hashes_running.set(gate.running() as i64);
    state.metrics.password_hashes_peak.set(gate.peak_running() as i64);
    (
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        state.metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn proxmox_health_follows_freshness() {
        let mut s = ClusterSnapshot::empty();
        assert_eq!(proxmox_health(&s).status, HealthStatus::Degraded);
        s.freshness.error = Some("connection refused".into());
        assert_eq!(proxmox_health(&s).status, HealthStatus::Down);
        s.updated_at = Some(Utc::now());
        assert_eq!(proxmox_health(&s).status, HealthStatus::Degraded);
        s.freshness.stale = false;
        s.freshness.error = None;
        assert_eq!(proxmox_health(&s).status, HealthStatus::Ok);
    }

    #[test]
    fn overall_is_the_worst_required_component() {
        let mut c = BTreeMap::new();
        c.insert("database".to_string(), ComponentHealth::new(HealthStatus::Ok, None));
        c.insert("proxmox".to_string(), ComponentHealth::new(HealthStatus::Ok, None));
        c.insert("ssh".to_string(), ComponentHealth::new(HealthStatus::Down, None));
        assert_eq!(overall(&c), HealthStatus::Ok, "optional components do not count");
        c.insert("proxmox".to_string(), ComponentHealth::new(HealthStatus::Degraded, None));
        assert_eq!(overall(&c), HealthStatus::Degraded);
        c.insert("database".to_string(), ComponentHealth::new(HealthStatus::Down, None));
        assert_eq!(overall(&c), HealthStatus::Down);
    }
}
