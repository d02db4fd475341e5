//! `GET /api/audit` and `GET /api/audit/verify`.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use jarvis_domain::audit::AuditEntry;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Operator;
use crate::error::{ApiQuery, AppError, ErrorBody};
use crate::state::AppState;

/// Filters of `GET /api/audit`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// At most this many (1..1000, default 100), newest first.
    pub limit: Option<u32>,
    /// ISO-8601 time.
    pub since: Option<DateTime<Utc>>,
    /// Tool name.
    pub tool: Option<String>,
}

/// `GET /api/audit` body.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    /// Entries, newest first.
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<AuditEntry>,
}

/// The audit log.
#[utoipa::path(get, path = "/api/audit", tag = "audit", security(("bearer" = [])), params(AuditParams),
    responses((status = 200, body = AuditList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _op: Operator,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<AuditList>, AppError> {
    let entries = state
        .db
        .audit_entries(p.limit.unwrap_or(100).clamp(1, 1000), p.since, p.tool)
        .await
        .map_err(AppError::internal)?;
    Ok(Json(AuditList { entries }))
}

/// `GET /api/audit/verify` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AuditVerification {
    /// True when every link and hash checks out.
    pub valid: bool,
    /// Entries verified before the first break (all of them when valid).
    #[ts(type = "number")]
    pub entries: u64,
    /// Id of the first entry that does not verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub first_broken_id: Option<i64>,
    /// The last id moved to the archive by retention; the archive is verified as part of the
    /// chain (`entries` counts it).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub archived_through: Option<i64>,
    /// How many of `entries` are in the archive.
    #[ts(type = "number")]
    pub archived_entries: u64,
}

/// Walks the hash chain.
#[utoipa::path(get, path = "/api/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = AuditVerification), (status = 401, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    _op: Operator,
) -> Result<Json<AuditVerification>, AppError> {
    let check = state.db.verify_audit_chain().await.map_err(AppError::internal)?;
    Ok(Json(AuditVerification {
        valid: check.first_broken_id.is_none(),
        entries: check.entries,
        first_broken_id: check.first_broken_id,
        archived_through: check.archived_through,
        archived_entries: check.archived_entries,
    }))
}
