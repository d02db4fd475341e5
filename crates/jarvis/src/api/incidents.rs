//! `/api/monitor/incidents*` and `/api/monitor/silences*`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use jarvis_domain::audit::Decision;
use jarvis_domain::monitor::{Incident, IncidentState, Matcher, Silence};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

use super::monitor::audit_change;
use crate::auth::Operator;
use crate::error::{ApiJson, ApiQuery, AppError, ErrorBody};
use crate::state::AppState;

/// Longest silence (a maintenance window is not forever).
const MAX_SILENCE: Duration = Duration::days(30);

/// Filters of `GET /api/monitor/incidents`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IncidentsParams {
    /// `open`, `acknowledged` or `resolved`.
    pub state: Option<String>,
    /// At most this many (1..1000, default 100).
    pub limit: Option<u32>,
}

/// `GET /api/monitor/incidents` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct IncidentList {
    /// Newest first.
    pub incidents: Vec<Incident>,
}

/// Incidents, newest first, optionally in one state.
#[utoipa::path(get, path = "/api/monitor/incidents", tag = "monitor", security(("bearer" = [])),
    params(IncidentsParams),
    responses((status = 200, description = "Incidents", body = IncidentList),
        (status = 400, description = "Unknown state or bad limit", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _op: Operator,
    ApiQuery(p): ApiQuery<IncidentsParams>,
) -> Result<Json<IncidentList>, AppError> {
    let wanted = match p.state.as_deref() {
        None => None,
        Some(s) => Some(IncidentState::parse(s).ok_or_else(|| {
            AppError::bad_request("invalid_query", "state must be open, acknowledged or resolved")
        })?),
    };
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let incidents = state.db.incidents(wanted, limit).await.map_err(AppError::internal)?;
    Ok(Json(IncidentList { incidents }))
}

/// One incident with its timeline.
#[utoipa::path(get, path = "/api/monitor/incidents/{id}", tag = "monitor", security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident id")),
    responses((status = 200, description = "The incident", body = Incident),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<String>,
) -> Result<Json<Incident>, AppError> {
    let found = state.db.incident(id.clone()).await.map_err(AppError::internal)?;
    found.map(Json).ok_or_else(|| AppError::not_found(format!("no incident {id}")))
}

/// Acknowledges an incident: no notifications or automatic actions until it resolves; then the
/// rule re-arms.
#[utoipa::path(post, path = "/api/monitor/incidents/{id}/ack", tag = "monitor", security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident id")),
    responses((status = 200, description = "The incident after the change", body = Incident),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such open incident", body = ErrorBody),
        (status = 409, description = "Already resolved", body = ErrorBody)))]
pub async fn ack(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<String>,
) -> Result<Json<Incident>, AppError> {
    let inc = state.monitor.acknowledge(id.clone(), "operator".into()).await?;
    audit_change(
        &state,
        Decision::IncidentAcknowledged,
        serde_json::json!({"incident": id}),
        Some(inc.key.clone()),
    )
    .await?;
    Ok(Json(inc))
}

/// Resolves an incident by hand. If its condition still holds it is accepted: no new incident
/// for it until it has cleared once.
#[utoipa::path(post, path = "/api/monitor/incidents/{id}/resolve", tag = "monitor", security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident id")),
    responses((status = 200, description = "The incident after the change", body = Incident),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such open incident", body = ErrorBody),
        (status = 409, description = "Already resolved", body = ErrorBody)))]
pub async fn resolve(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<String>,
) -> Result<Json<Incident>, AppError> {
    let inc = state.monitor.resolve(id.clone(), "operator".into()).await?;
    audit_change(
        &state,
        Decision::IncidentResolved,
        serde_json::json!({"incident": id}),
        Some(inc.key.clone()),
    )
    .await?;
    Ok(Json(inc))
}

/// `GET /api/monitor/silences` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct SilenceList {
    /// Silences in force, soonest to expire first.
    pub silences: Vec<Silence>,
}

/// Silences in force.
#[utoipa::path(get, path = "/api/monitor/silences", tag = "monitor", security(("bearer" = [])),
    responses((status = 200, description = "Silences in force", body = SilenceList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody)))]
pub async fn silences(
    State(state): State<AppState>,
    _op: Operator,
) -> Result<Json<SilenceList>, AppError> {
    let silences = state.db.active_silences(Utc::now()).await.map_err(AppError::internal)?;
    Ok(Json(SilenceList { silences }))
}

/// `POST /api/monitor/silences` body.
#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export)]
pub struct NewSilence {
    /// What it applies to (at least one of node, vmid, kind).
    pub matcher: Matcher,
    /// Why (shown on every incident it holds back).
    pub reason: String,
    /// When it ends (in the future, at most 30 days ahead).
    #[ts(type = "string")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: chrono::DateTime<Utc>,
}

/// Creates a silence / maintenance window: matching incidents are recorded but neither notified
/// nor remediated until it expires.
#[utoipa::path(post, path = "/api/monitor/silences", tag = "monitor", security(("bearer" = [])),
    request_body = NewSilence,
    responses((status = 201, description = "The silence", body = Silence),
        (status = 400, description = "Empty matcher, bad reason or expiry", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody)))]
pub async fn create_silence(
    State(state): State<AppState>,
    _op: Operator,
    ApiJson(body): ApiJson<NewSilence>,
) -> Result<(StatusCode, Json<Silence>), AppError> {
    let bad = |m: &str| AppError::bad_request("invalid_silence", m.to_owned());
    if body.matcher.is_empty() {
        return Err(bad(
            "matcher needs at least one of node, vmid, kind (it would silence everything)",
        ));
    }
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
        return Err(bad("reason must be 1-500 characters without control characters"));
    }
    if body.matcher.node.as_ref().is_some_and(|n| n.is_empty() || n.len() > 64) {
        return Err(bad("matcher.node must be a node name"));
    }
    let now = Utc::now();
    if body.expires_at <= now || body.expires_at > now + MAX_SILENCE {
        return Err(bad("expiresAt must be in the future and at most 30 days ahead"));
    }
    let silence = Silence {
        id: uuid::Uuid::new_v4().to_string(),
        matcher: body.matcher,
        reason: reason.to_owned(),
        created_by: "operator".into(),
        created_at: chrono::SubsecRound::trunc_subsecs(now, 3),
        expires_at: chrono::SubsecRound::trunc_subsecs(body.expires_at, 3),
    };
    state.db.insert_silence(&silence).await.map_err(AppError::internal)?;
    let args = serde_json::to_value(&silence).unwrap_or_default();
    audit_change(&state, Decision::SilenceCreated, args, Some(silence.reason.clone())).await?;
    state.monitor.silences_changed(&state.db).await?;
    Ok((StatusCode::CREATED, Json(silence)))
}

/// Ends a silence now.
#[utoipa::path(delete, path = "/api/monitor/silences/{id}", tag = "monitor", security(("bearer" = [])),
    params(("id" = String, Path, description = "Silence id")),
    responses((status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such silence", body = ErrorBody)))]
pub async fn delete_silence(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    if !state.db.delete_silence(id.clone()).await.map_err(AppError::internal)? {
        return Err(AppError::not_found(format!("no silence {id}")));
    }
    audit_change(&state, Decision::SilenceRemoved, serde_json::json!({"silence": id}), None)
        .await?;
    state.monitor.silences_changed(&state.db).await?;
    Ok(StatusCode::NO_CONTENT)
}
