//! `/api/events`: the activity feed, and acknowledging or resolving one of its events.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Operator;
use crate::bus::ServerEvent;
use crate::db::events::EventQuery;
use crate::db::monitor::EventUpdate;
use crate::error::{ApiQuery, AppError, ErrorBody};
use crate::events::{Event, EventType, Severity};
use crate::state::AppState;

/// Filters of `GET /api/events`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
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
    responses((status = 200, description = "Events", body = EventList),
        (status = 400, description = "Unknown type or severity", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _op: Operator,
    ApiQuery(p): ApiQuery<EventsParams>,
) -> Result<Json<EventList>, AppError> {
    let kind = match p.kind.as_deref() {
        Some(k) => Some(EventType::parse(k).ok_or_else(|| {
            AppError::bad_request("invalid_query", "type must be alert, action, status or metric")
        })?),
        None => None,
    };
    let severity = match p.severity.as_deref() {
        Some(s) => Some(Severity::parse(s).ok_or_else(|| {
            AppError::bad_request(
                "invalid_query",
                "severity must be info, warning, error or critical",
            )
        })?),
        None => None,
    };
    let q = EventQuery {
        limit: p.limit.unwrap_or(50).clamp(1, 1000),
        kind: kind.map(|k| k.as_str().to_owned()),
        severity: severity.map(|s| s.as_str().to_owned()),
        node: p.node,
        since: p.since,
        unresolved: p.unresolved.unwrap_or(false),
        text: None,
    };
    Ok(Json(EventList { events: state.db.events(q).await.map_err(AppError::internal)? }))
}

fn updated(u: EventUpdate, id: &str, state: &AppState) -> Result<Json<Event>, AppError> {
    match u {
        EventUpdate::Updated(e) => {
            state.bus.publish(ServerEvent::Event(e.clone()));
            Ok(Json(e))
        }
        EventUpdate::NotFound => Err(AppError::not_found(format!("no event {id}"))),
    }
}

/// Acknowledges an event (the first acknowledgement's time stays).
#[utoipa::path(post, path = "/api/events/{id}/ack", tag = "monitor", security(("bearer" = [])),
    params(("id" = String, Path, description = "Event id")),
    responses((status = 200, description = "The event after the change", body = Event),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such event", body = ErrorBody)))]
pub async fn ack(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<String>,
) -> Result<Json<Event>, AppError> {
    let u = state.db.ack_event(id.clone(), Utc::now()).await.map_err(AppError::internal)?;
    updated(u, &id, &state)
}

/// Marks an event resolved.
#[utoipa::path(post, path = "/api/events/{id}/resolve", tag = "monitor", security(("bearer" = [])),
    params(("id" = String, Path, description = "Event id")),
    responses((status = 200, description = "The event after the change", body = Event),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such event", body = ErrorBody)))]
pub async fn resolve(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<String>,
) -> Result<Json<Event>, AppError> {
    let u = state.db.resolve_event(id.clone()).await.map_err(AppError::internal)?;
    updated(u, &id, &state)
}
