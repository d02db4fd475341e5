//! `/api/monitor/*`: status, kill switch, autonomy level, runbook attempts, runbooks and
//! threshold rules. Incidents and silences are in `incidents.rs`.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use jarvis_domain::audit::{Decision, Outcome};
use jarvis_domain::monitor::{
    AutonomyLevel, MonitorAction, RUNBOOKS, RunbookView, ThresholdSettings,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Operator;
use crate::bus::{MonitorStatus, ServerEvent};
use crate::db::audit::NewAudit;
use crate::error::{ApiJson, ApiQuery, AppError, ErrorBody};
use crate::monitor::{LEVEL_KEY, MonitorError, RUNBOOKS_OFF_KEY, THRESHOLDS_KEY};
use crate::state::AppState;

/// The monitor status as it stands (the kill switch read fresh).
pub fn monitor_status(state: &AppState) -> MonitorStatus {
    let mut status = state.monitor.status();
    status.kill_switch = state.guard.kill_switch();
    status
}

impl From<MonitorError> for AppError {
    fn from(e: MonitorError) -> Self {
        use jarvis_domain::monitor::CommandError;
        match e {
            MonitorError::Command(CommandError::NotFound(id)) => {
                AppError::not_found(format!("no incident {id}"))
            }
            MonitorError::Command(CommandError::AlreadyResolved(id)) => AppError::new(
                axum::http::StatusCode::CONFLICT,
                "already_resolved",
                format!("incident {id} is already resolved"),
            ),
            MonitorError::NotRunning => AppError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "monitor_not_running",
                "the monitor is not running",
            ),
            MonitorError::Db(e) => AppError::internal(e),
        }
    }
}

/// Records an operator's change to the monitor in the audit log.
pub(super) async fn audit_change(
    state: &AppState,
    decision: Decision,
    args: serde_json::Value,
    detail: Option<String>,
) -> Result<(), AppError> {
    state
        .db
        .append_audit(NewAudit {
            actor: "operator".into(),
            source: "api".into(),
            tool: None,
            args: Some(args),
            tier: None,
            decision,
            outcome: Outcome::Success,
            detail,
        })
        .await
        .map(|_| ())
        .map_err(AppError::internal)
}

/// Monitor status: level, kill switch, last run of each tier.
#[utoipa::path(get, path = "/api/monitor/status", tag = "monitor", security(("bearer" = [])),
    responses((status = 200, description = "The monitor's state", body = MonitorStatus),
        (status = 401, description = "Missing or invalid token", body = ErrorBody)))]
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
    responses((status = 200, description = "The kill switch now in force", body = KillSwitchResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody)))]
pub async fn set_kill_switch(
    State(state): State<AppState>,
    _op: Operator,
    ApiJson(body): ApiJson<KillSwitchRequest>,
) -> Result<Json<KillSwitchResponse>, AppError> {
    state
        .guard
        .set_kill_switch_by(body.active, "operator", "api", &state.bus)
        .await
        .map_err(AppError::internal)?;
    state.monitor.note_kill_switch(body.active);
    state.bus.publish(ServerEvent::MonitorStatus(monitor_status(&state)));
    Ok(Json(KillSwitchResponse { kill_switch: body.active }))
}

/// `PUT /api/monitor/autonomy-level` body.
#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AutonomyLevelRequest {
    /// 0 observe, 1 alert, 2 recommend, 3 act and report, 4 act and report only failures.
    pub level: AutonomyLevel,
}

/// `PUT /api/monitor/autonomy-level` response.
#[derive(Debug, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AutonomyLevelResponse {
    /// The level now in force.
    pub autonomy_level: AutonomyLevel,
    /// What it does.
    pub description: String,
}

/// Sets the autonomy level: stored (it survives restarts), audited, applied at once.
#[utoipa::path(put, path = "/api/monitor/autonomy-level", tag = "monitor", security(("bearer" = [])),
    request_body = AutonomyLevelRequest,
    responses((status = 200, description = "The level now in force", body = AutonomyLevelResponse),
        (status = 400, description = "Not an integer from 0 to 4", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody)))]
pub async fn set_autonomy_level(
    State(state): State<AppState>,
    _op: Operator,
    ApiJson(body): ApiJson<AutonomyLevelRequest>,
) -> Result<Json<AutonomyLevelResponse>, AppError> {
    let level = body.level;
    state
        .db
        .set_setting(LEVEL_KEY, level.number().to_string())
        .await
        .map_err(AppError::internal)?;
    audit_change(&state, Decision::AutonomyLevelSet, serde_json::json!({"level": level}), None)
        .await?;
    state.monitor.set_level(level).await?;
    state.bus.publish(ServerEvent::MonitorStatus(monitor_status(&state)));
    tracing::info!(level = level.number(), "autonomy level changed");
    Ok(Json(AutonomyLevelResponse { autonomy_level: level, description: level.describe().into() }))
}

/// Filters of `GET /api/monitor/actions`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActionsParams {
    /// At most this many (1..1000, default 50).
    pub limit: Option<u32>,
    /// Only attempts at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
}

/// `GET /api/monitor/actions` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct ActionList {
    /// Newest first.
    pub actions: Vec<MonitorAction>,
}

/// Runbook attempts, newest first.
#[utoipa::path(get, path = "/api/monitor/actions", tag = "monitor", security(("bearer" = [])),
    params(ActionsParams),
    responses((status = 200, description = "Runbook attempts", body = ActionList),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody)))]
pub async fn actions(
    State(state): State<AppState>,
    _op: Operator,
    ApiQuery(p): ApiQuery<ActionsParams>,
) -> Result<Json<ActionList>, AppError> {
    let limit = p.limit.unwrap_or(50).clamp(1, 1000);
    let actions = state.db.monitor_actions(limit, p.since).await.map_err(AppError::internal)?;
    Ok(Json(ActionList { actions }))
}

/// `GET /api/monitor/runbooks` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct RunbookList {
    /// Every runbook.
    pub runbooks: Vec<RunbookView>,
}

async fn disabled_runbooks(state: &AppState) -> Result<BTreeSet<String>, AppError> {
    let stored = state.db.setting(RUNBOOKS_OFF_KEY).await.map_err(AppError::internal)?;
    Ok(stored.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default())
}

async fn runbook_list(state: &AppState) -> Result<RunbookList, AppError> {
    let off = disabled_runbooks(state).await?;
    Ok(RunbookList { runbooks: RUNBOOKS.iter().map(|r| r.view(!off.contains(r.id))).collect() })
}

/// The runbooks: trigger, tool, verification, limits, whether enabled.
#[utoipa::path(get, path = "/api/monitor/runbooks", tag = "monitor", security(("bearer" = [])),
    responses((status = 200, description = "Every runbook", body = RunbookList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody)))]
pub async fn runbooks(
    State(state): State<AppState>,
    _op: Operator,
) -> Result<Json<RunbookList>, AppError> {
    Ok(Json(runbook_list(&state).await?))
}

/// `PUT /api/monitor/runbooks/{id}` body.
#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct RunbookUpdate {
    /// Whether it may run.
    pub enabled: bool,
}

/// Switches a runbook on or off (stored, audited).
#[utoipa::path(put, path = "/api/monitor/runbooks/{id}", tag = "monitor", security(("bearer" = [])),
    params(("id" = String, Path, description = "Runbook id")), request_body = RunbookUpdate,
    responses((status = 200, description = "Every runbook after the change", body = RunbookList),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such runbook", body = ErrorBody)))]
pub async fn set_runbook(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RunbookUpdate>,
) -> Result<Json<RunbookList>, AppError> {
    if !RUNBOOKS.iter().any(|r| r.id == id) {
        return Err(AppError::not_found(format!("no runbook {id}")));
    }
    let mut off = disabled_runbooks(&state).await?;
    if body.enabled {
        off.remove(&id);
    } else {
        off.insert(id.clone());
    }
    let text = serde_json::to_string(&off).map_err(AppError::internal)?;
    state.db.set_setting(RUNBOOKS_OFF_KEY, text).await.map_err(AppError::internal)?;
    let args = serde_json::json!({"runbook": id, "enabled": body.enabled});
    audit_change(&state, Decision::MonitorSettingsUpdated, args, None).await?;
    state.monitor.set_disabled_runbooks(off).await?;
    Ok(Json(runbook_list(&state).await?))
}

async fn thresholds_in_force(state: &AppState) -> Result<ThresholdSettings, AppError> {
    let stored = state.db.setting(THRESHOLDS_KEY).await.map_err(AppError::internal)?;
    Ok(stored
        .and_then(|t| serde_json::from_str::<ThresholdSettings>(&t).ok())
        .filter(|t| t.validate().is_ok())
        .unwrap_or_default())
}

/// The threshold rules in force: defaults per metric and patches per node and guest.
#[utoipa::path(get, path = "/api/monitor/thresholds", tag = "monitor", security(("bearer" = [])),
    responses((status = 200, description = "The rules in force", body = ThresholdSettings),
        (status = 401, description = "Missing or invalid token", body = ErrorBody)))]
pub async fn thresholds(
    State(state): State<AppState>,
    _op: Operator,
) -> Result<Json<ThresholdSettings>, AppError> {
    Ok(Json(thresholds_in_force(&state).await?))
}

/// Replaces the threshold rules (validated as a whole, stored, audited, applied at once).
#[utoipa::path(put, path = "/api/monitor/thresholds", tag = "monitor", security(("bearer" = [])),
    request_body = ThresholdSettings,
    responses((status = 200, description = "The rules now in force", body = ThresholdSettings),
        (status = 400, description = "Invalid rules; the message names the place", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody)))]
pub async fn set_thresholds(
    State(state): State<AppState>,
    _op: Operator,
    ApiJson(body): ApiJson<ThresholdSettings>,
) -> Result<Json<ThresholdSettings>, AppError> {
    body.validate().map_err(|e| AppError::bad_request("invalid_thresholds", e))?;
    let text = serde_json::to_string(&body).map_err(AppError::internal)?;
    state.db.set_setting(THRESHOLDS_KEY, text).await.map_err(AppError::internal)?;
    audit_change(
        &state,
        Decision::MonitorSettingsUpdated,
        serde_json::json!({"thresholds": "replaced"}),
        None,
    )
    .await?;
    state.monitor.set_thresholds(body.clone()).await?;
    Ok(Json(body))
}
