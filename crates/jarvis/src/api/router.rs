//! The one list of routes and the middleware order.
//!
//! Outermost first: security headers → tracing → panic catcher → Socket.IO layer (answers
//! `/socket.io/*` itself) → body limit → routes. `/api/*` has a request timeout so graceful
//! shutdown can never hang on a stuck handler; Socket.IO long-polling is exempt by design.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::routing::{any, delete, get, post, put};
use socketioxide::layer::SocketIoLayer;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use super::{
    audit, auth, chat, cluster, cost, events, health, incidents, monitor, notifications, openapi,
    routing, tools,
};
use crate::error::{AppError, api_not_found, panic_response};
use crate::state::AppState;
use crate::web;

/// Content security policy: everything from our own origin, nothing from a CDN.
const CSP: &str = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; \
                   style-src 'self' 'unsafe-inline'; font-src 'self' data:; frame-ancestors 'none'";

async fn method_not_allowed() -> AppError {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route",
    )
}

/// Builds the whole HTTP application. `mcp_cancel` stops in-flight `/mcp` work at shutdown.
pub fn router(
    state: AppState,
    socket_layer: SocketIoLayer,
    mcp_cancel: CancellationToken,
) -> Router {
    let max_body = state.config.max_body_bytes;
    let api = Router::new()
        .route("/api/health", get(health::health))
        .route("/api/openapi.json", get(openapi::openapi_json))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/elevate", post(auth::elevate))
        .route("/api/cluster", get(cluster::get_cluster))
        .route("/api/tools", get(tools::list))
        .route("/api/tools/execute", post(tools::execute))
        .route("/api/confirmations", get(tools::pending))
        .route("/api/confirmations/{id}", post(tools::decide))
        .route("/api/monitor/status", get(monitor::status))
        .route("/api/monitor/killswitch", put(monitor::set_kill_switch))
        .route("/api/monitor/autonomy-level", put(monitor::set_autonomy_level))
        .route("/api/monitor/actions", get(monitor::actions))
        .route("/api/monitor/runbooks", get(monitor::runbooks))
        .route("/api/monitor/runbooks/{id}", put(monitor::set_runbook))
        .route("/api/monitor/thresholds", get(monitor::thresholds).put(monitor::set_thresholds))
        .route("/api/monitor/incidents", get(incidents::list))
        .route("/api/monitor/incidents/{id}", get(incidents::get))
        .route("/api/monitor/incidents/{id}/ack", post(incidents::ack))
        .route("/api/monitor/incidents/{id}/resolve", post(incidents::resolve))
        .route("/api/monitor/silences", get(incidents::silences).post(incidents::create_silence))
        .route("/api/monitor/silences/{id}", delete(incidents::delete_silence))
        .route("/api/events", get(events::list))
        .route("/api/events/{id}/ack", post(events::ack))
        .route("/api/events/{id}/resolve", post(events::resolve))
        .route("/api/notifications", get(notifications::list))
        .route("/api/notifications/test", post(notifications::test))
        .route("/api/audit", get(audit::list))
        .route("/api/audit/verify", get(audit::verify))
        .route("/api/chat/status", get(chat::status))
        .route("/api/chat/sessions", get(chat::sessions))
        .route("/api/chat/sessions/{id}", get(chat::session))
        .route("/api/cost/summary", get(cost::summary))
        .route("/api/cost/sessions", get(cost::sessions))
        .route("/api/cost/history", get(cost::history))
        .route("/api/cost/budget", get(cost::budget))
        .route("/api/routing", get(routing::get_routing).put(routing::put_routing))
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ));

    let headers = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    Router::new()
        .merge(api)
        // MCP over streamable HTTP: its own bearer check in front of rmcp (see `mcp::http`).
        .merge(crate::mcp::mcp_router(state.clone(), mcp_cancel))
        .route("/metrics", get(health::metrics))
        .fallback(web::serve)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(socket_layer)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http())
        .layer(headers(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(headers(header::X_FRAME_OPTIONS, "DENY"))
        .layer(headers(header::REFERRER_POLICY, "no-referrer"))
        .layer(headers(header::CONTENT_SECURITY_POLICY, CSP))
        .with_state(state)
}
