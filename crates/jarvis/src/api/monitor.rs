//! `/api/monitor/*` (the kill switch part; the monitor itself arrives with its own issue) and
//! `/api/events`.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use jarvis_domain::audit::{Decision, Outcome};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Operator;
use crate::bus::{MonitorStatus, ServerEvent};
use crate::db::audit::NewAudit;
use crate::db::events::EventQuery;
use crate::error::{ApiJson, ApiQuery, AppError, ErrorBody};
use crate::events::{Event, EventSource, EventType, Severity, new_event, record};
use crate::state::AppState;

/// The monitor status as it stands.
pub fn monitor_status(state: &AppState) -> MonitorStatus {
    let mut status = state.monitor.status();
    status.kill_switch = state.guard.kill_switch();
    status
}

/// Monitor and kill switch status.
#[utoipa::path(get, path = "/api/monitor/status", tag = "monitor", security(("bearer" = [])),
    responses((status = 200, body = MonitorStatus), (status = 401, body = ErrorBody)))]
pub async fn status(State(state): State<AppState>, _op: Operator) -> Json<MonitorStatus> {
    Json(monitor_status(&state))
}

/// `PUT /api/monitor/killswitch` body.
#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct KillSwitchRequest {
    /// On (no mutation runs anywhere) or off.
    pub active: bool,
}

/// `PUT /api/monitor/killswitch` response.
#[derive(Debug, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct KillSwitchResponse {
    /// The state now in force.
    pub kill_switch: bool,
}

/// Throws or releases the kill switch: persisted, audited, announced.
#[utoipa::path(put, path = "/api/monitor/killswitch", tag = "monitor", security(("bearer" = [])),
    request_body = KillSwitchRequest,
    responses((status = 200, body = KillSwitchResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn set_kill_switch(
    State(state): State<AppState>,
    _op: Operator,
    ApiJson(body): ApiJson<KillSwitchRequest>,
) -> Result<Json<KillSwitchResponse>, AppError> {
    state.guard.set_kill_switch(body.active).await.map_err(AppError::internal)?;
    state
        .db
        .append_audit(NewAudit {
            actor: "operator".into(),
            source: "api".into(),
            tool: None,
            args: Some(serde_json::json!({"active": body.active})),
            tier: None,
            decision: if body.active { Decision::KillSwitchOn } else { Decision::KillSwitchOff },
            outcome: Outcome::Success,
            detail: None,
        })
        .await
        .map_err(AppError::internal)?;
    let (severity, title, message) = if body.active {
        (
            Severity::Critical,
            "KILL SWITCH ACTIVATED",
            "No action will run until the operator releases it.",
        )
    } else {
        (Severity::Info, "Kill switch released", "Actions may run again.")
    };
    let event = new_event(EventType::Status, severity, EventSource::User, title, message);
    record(&state.db, &state.bus, event).await;
    state.bus.publish(ServerEvent::MonitorStatus(monitor_status(&state)));
    tracing::warn!(active = body.active, "kill switch changed");
    Ok(Json(KillSwitchResponse { kill_switch: body.active }))
}

/// Filters of `GET /api/events`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsParams {
    /// At most this many (1..1000, default 50).
    pub limit: Option<u32>,
    /// `alert`, `action`, `status` or `metric`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `info`, `warning`, `error` or `critical`.
    pub severity: Option<String>,
    /// Node name.
    pub node: Option<String>,
    /// ISO-8601 time.
    pub since: Option<DateTime<Utc>>,
    /// Only unresolved events.
    pub unresolved: Option<bool>,
}

/// `GET /api/events` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct EventList {
    /// Newest first.
    pub events: Vec<Event>,
}

/// Activity events, newest first.
#[utoipa::path(get, path = "/api/events", tag = "monitor", security(("bearer" = [])), params(EventsParams),
    responses((status = 200, body = EventList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    _op: Operator,
    ApiQuery(p): ApiQuery<EventsParams>,
) -> Result<Json<EventList>, AppError> {
    let q = EventQuery {
        limit: p.limit.unwrap_or(50).clamp(1, 1000),
        kind: p.kind,
        severity: p.severity,
        node: p.node,
        since: p.since,
        unresolved: p.unresolved.unwrap_or(false),
        text: None,
    };
    Ok(Json(EventList { events: state.db.events(q).await.map_err(AppError::internal)? }))
}
