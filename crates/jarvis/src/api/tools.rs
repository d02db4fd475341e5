//! `/api/tools`, `/api/tools/execute` and `/api/confirmations`: the REST face of the pipeline.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jarvis_domain::safety::BlockCode;
use jarvis_domain::tools::{REGISTRY, input_schema};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::auth::Operator;
use crate::db::confirmations::{ClaimError, Confirmation};
use crate::error::{ApiJson, AppError, ErrorBody};
use crate::state::AppState;
use crate::tools::{
    DecideError, DecisionOutcome, ExecError, RequestError, Source, ToolOutcome, ToolRequest,
};

/// One tool as clients see it.
#[derive(Debug, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ToolInfo {
    /// Name.
    pub name: String,
    /// `green`, `yellow`, `red` or `black`.
    pub tier: String,
    /// What it does.
    pub description: String,
    /// JSON Schema of the arguments.
    #[ts(type = "Record<string, unknown>")]
    #[schema(value_type = Object)]
    pub input_schema: Value,
}

/// `GET /api/tools` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct ToolList {
    /// Every tool in the registry.
    pub tools: Vec<ToolInfo>,
}

/// The registry, generated from the single source of truth.
#[utoipa::path(get, path = "/api/tools", tag = "tools", security(("bearer" = [])),
    responses((status = 200, body = ToolList), (status = 401, body = ErrorBody)))]
pub async fn list(_op: Operator) -> Json<ToolList> {
    Json(ToolList {
        tools: REGISTRY
            .iter()
            .map(|d| ToolInfo {
                name: d.name.into(),
                tier: tier_str(d.tier),
                description: d.description.into(),
                input_schema: input_schema(d.name).unwrap_or_else(|| json!({"type": "object"})),
            })
            .collect(),
    })
}

fn tier_str<T: Serialize>(t: T) -> String {
    serde_json::to_value(t).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// `POST /api/tools/execute` body.
#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ExecuteRequest {
    /// Tool name.
    pub tool: String,
    /// Arguments (an object; omitted means none).
    #[serde(default)]
    #[ts(type = "Record<string, unknown>")]
    #[schema(value_type = Object)]
    pub args: Value,
}

/// Maps a pipeline outcome to the HTTP contract of PROTOCOL.md.
pub fn outcome_response(outcome: ToolOutcome) -> Response {
    match outcome {
        ToolOutcome::Executed { tier, result, audit_id } => (
            StatusCode::OK,
            Json(json!({"status": "executed", "tier": tier, "result": result, "auditId": audit_id})),
        )
            .into_response(),
        ToolOutcome::ConfirmationRequired { tier, confirmation } => (
            StatusCode::ACCEPTED,
            Json(json!({"status": "confirmation_required", "tier": tier, "confirmation": confirmation})),
        )
            .into_response(),
        ToolOutcome::Blocked { code: BlockCode::KillSwitch, reason, .. } => {
            AppError::new(StatusCode::LOCKED, "kill_switch", reason).into_response()
        }
        ToolOutcome::Blocked { reason, .. } => {
            AppError::new(StatusCode::FORBIDDEN, "blocked", reason).into_response()
        }
        ToolOutcome::Failed { error, .. } => exec_error(error).into_response(),
    }
}

fn exec_error(e: ExecError) -> AppError {
    match e {
        ExecError::Timeout(_) => {
            AppError::new(StatusCode::GATEWAY_TIMEOUT, "timeout", e.to_string())
        }
        ExecError::InvalidTarget(_) => AppError::bad_request("invalid_arguments", e.to_string()),
        ExecError::Unavailable(_) => {
            AppError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", e.to_string())
        }
        ExecError::Upstream(_) => {
            AppError::new(StatusCode::BAD_GATEWAY, "upstream_error", e.to_string())
        }
    }
}

impl From<DecideError> for AppError {
    fn from(e: DecideError) -> Self {
        match e {
            DecideError::Claim(ClaimError::NotFound) => AppError::not_found("no such confirmation"),
            DecideError::Claim(e @ ClaimError::Expired) => {
                AppError::new(StatusCode::GONE, "expired", e.to_string())
            }
            DecideError::Claim(e @ ClaimError::AlreadyDecided) => {
                AppError::new(StatusCode::GONE, "already_decided", e.to_string())
            }
            DecideError::Request(e) => e.into(),
        }
    }
}

impl From<RequestError> for AppError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::UnknownTool(_) => {
                AppError::new(StatusCode::NOT_FOUND, "unknown_tool", e.to_string())
            }
            RequestError::InvalidArguments(m) => AppError::bad_request("invalid_arguments", m),
            RequestError::Internal(m) => AppError::internal(m),
        }
    }
}

/// Runs a tool through the safety pipeline.
#[utoipa::path(post, path = "/api/tools/execute", tag = "tools", security(("bearer" = [])),
    request_body = ExecuteRequest,
    responses(
        (status = 200, description = "executed: {status, tier, result, auditId}"),
        (status = 202, description = "confirmation_required: {status, tier, confirmation}"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "blocked"), (status = 404, body = ErrorBody),
        (status = 423, body = ErrorBody, description = "kill_switch"),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn execute(
    State(state): State<AppState>,
    Operator(claims): Operator,
    ApiJson(req): ApiJson<ExecuteRequest>,
) -> Result<Response, AppError> {
    let outcome = state
        .tools
        .submit(ToolRequest {
            tool: req.tool,
            args: req.args,
            source: Source::Api,
            actor: "operator".into(),
            session: Some(claims.jti),
        })
        .await?;
    Ok(outcome_response(outcome))
}

/// `GET /api/confirmations` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct ConfirmationList {
    /// Pending confirmations, oldest first.
    pub confirmations: Vec<Confirmation>,
}

/// Pending confirmations.
#[utoipa::path(get, path = "/api/confirmations", tag = "tools", security(("bearer" = [])),
    responses((status = 200, body = ConfirmationList), (status = 401, body = ErrorBody)))]
pub async fn pending(
    State(state): State<AppState>,
    _op: Operator,
) -> Result<Json<ConfirmationList>, AppError> {
    Ok(Json(ConfirmationList { confirmations: state.tools.pending().await? }))
}

/// Approve or deny.
#[derive(Debug, Clone, Copy, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum DecisionKind {
    /// Run it.
    Approve,
    /// Don't.
    Deny,
}

/// `POST /api/confirmations/{id}` body.
#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct DecisionRequest {
    /// The decision.
    pub decision: DecisionKind,
}

/// Decides a confirmation; approval re-checks safety at execution time.
#[utoipa::path(post, path = "/api/confirmations/{id}", tag = "tools", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = DecisionRequest,
    responses(
        (status = 200, description = "{status: executed|denied, result?}"),
        (status = 404, body = ErrorBody), (status = 410, body = ErrorBody, description = "expired or already used"),
        (status = 403, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    Operator(claims): Operator,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionRequest>,
) -> Result<Response, AppError> {
    let approve = matches!(body.decision, DecisionKind::Approve);
    let decided =
        state.tools.decide(&id, approve, "operator", Source::Api, Some(claims.jti)).await?;
    Ok(match decided {
        DecisionOutcome::Denied => Json(json!({"status": "denied"})).into_response(),
        DecisionOutcome::Ran(ToolOutcome::Executed { result, audit_id, .. }) => {
            Json(json!({"status": "executed", "result": result, "auditId": audit_id}))
                .into_response()
        }
        DecisionOutcome::Ran(other) => outcome_response(other),
    })
}
