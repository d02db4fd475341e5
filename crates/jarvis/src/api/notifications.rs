//! `POST /api/notifications/test` (send a test message to every target now) and
//! `GET /api/notifications` (recent deliveries from the outbox).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Operator;
use crate::db::notifications::{NotificationRow, NotificationStatus};
use crate::error::{ApiQuery, AppError, ErrorBody};
use crate::notify::{Channel, NotificationKind, Severity, channel_of_target};
use crate::state::AppState;

/// One target's result of a test.
#[derive(Debug, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TestResult {
    /// The target, redacted (`ntfy https://ntfy.lan/***`).
    pub target: String,
    /// Its service.
    pub channel: Channel,
    /// Whether it accepted the message.
    pub ok: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub error: Option<String>,
}

/// `POST /api/notifications/test` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct TestResults {
    /// One per configured target, in configuration order (empty when none is configured).
    pub results: Vec<TestResult>,
}

/// Sends a test message to every configured target now, bypassing the queue (each under the
/// notification timeout), and reports each outcome.
#[utoipa::path(post, path = "/api/notifications/test", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = TestResults), (status = 401, body = ErrorBody)))]
pub async fn test(State(state): State<AppState>, _op: Operator) -> Json<TestResults> {
    let results = state
        .outbox
        .send_test()
        .await
        .into_iter()
        .map(|o| TestResult {
            target: o.target,
            channel: o.channel,
            ok: o.error.is_none(),
            error: o.error,
        })
        .collect();
    Json(TestResults { results })
}

/// Filters of `GET /api/notifications`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// At most this many (1..1000, default 50), newest first.
    pub limit: Option<u32>,
}

/// Delivery state.
#[derive(Debug, Clone, Copy, Serialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum DeliveryStatus {
    /// Waiting for (another) attempt.
    Pending,
    /// Delivered.
    Sent,
    /// Given up.
    Failed,
}

/// One queued notification for one target.
#[derive(Debug, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct NotificationView {
    /// Row id.
    #[ts(type = "number")]
    pub id: i64,
    /// The incident, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub incident_id: Option<String>,
    /// Why it was queued.
    pub kind: NotificationKind,
    /// The target, redacted, with a short hash telling same-host targets apart.
    pub target: String,
    /// The target's service.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub channel: Option<Channel>,
    /// Severity.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Delivery state.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// When queued.
    #[ts(type = "string")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// Next attempt (pending only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub last_error: Option<String>,
    /// When delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<DateTime<Utc>>,
    /// Shared by the notifications delivered in one message.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub delivery: Option<String>,
}

impl From<NotificationRow> for NotificationView {
    fn from(r: NotificationRow) -> Self {
        let status = match r.status {
            NotificationStatus::Pending => DeliveryStatus::Pending,
            NotificationStatus::Sent => DeliveryStatus::Sent,
            NotificationStatus::Failed => DeliveryStatus::Failed,
        };
        NotificationView {
            id: r.id,
            incident_id: r.incident_id,
            kind: r.kind,
            channel: channel_of_target(&r.target),
            target: r.target,
            severity: r.severity,
            title: r.title,
            status,
            attempts: r.attempts,
            created_at: r.created_at,
            next_attempt_at: (r.status == NotificationStatus::Pending).then_some(r.next_attempt_at),
            last_error: r.last_error,
            sent_at: r.sent_at,
            delivery: r.delivery,
        }
    }
}

/// `GET /api/notifications` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct NotificationList {
    /// Newest first.
    pub notifications: Vec<NotificationView>,
}

/// Recent notifications with their delivery state.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", security(("bearer" = [])),
    params(ListParams),
    responses((status = 200, body = NotificationList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _op: Operator,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<NotificationList>, AppError> {
    let rows = state
        .db
        .recent_notifications(p.limit.unwrap_or(50).clamp(1, 1000))
        .await
        .map_err(AppError::internal)?;
    Ok(Json(NotificationList { notifications: rows.into_iter().map(Into::into).collect() }))
}
