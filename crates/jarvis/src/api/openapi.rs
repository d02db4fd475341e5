//! `GET /api/openapi.json`: the OpenAPI document, generated from the handlers' annotations so it
//! cannot drift from the code.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    audit, auth, chat, cluster, cost, events, health, incidents, monitor, notifications, routing,
    tools,
};

/// The API document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Jarvis API", description = "Self-hosted AI command center for Proxmox VE"),
    paths(
        auth::login, auth::logout, auth::elevate, cluster::get_cluster, health::health,
        tools::list, tools::execute, tools::pending, tools::decide,
        monitor::status, monitor::set_kill_switch, monitor::set_autonomy_level, monitor::actions,
        monitor::runbooks, monitor::set_runbook, monitor::thresholds, monitor::set_thresholds,
        incidents::list, incidents::get, incidents::ack, incidents::resolve, incidents::silences,
        incidents::create_silence, incidents::delete_silence, events::list, events::ack, events::resolve, audit::list, audit::verify,
        chat::status, chat::sessions, chat::session, cost::summary, cost::sessions,
        cost::history, cost::budget, routing::get_routing, routing::put_routing,
        notifications::test, notifications::list
    ),
    modifiers(&BearerAuth),
    tags((name = "auth"), (name = "cluster"), (name = "tools"), (name = "monitor"), (name = "audit"),
        (name = "chat"), (name = "cost"), (name = "notifications"), (name = "meta"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build(),
            ),
        );
    }
}

/// Serves the document.
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_lists_every_route_with_schemas() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for path in [
            "/api/auth/login",
            "/api/auth/logout",
            "/api/cluster",
            "/api/health",
            "/api/chat/status",
            "/api/chat/sessions/{id}",
            "/api/cost/summary",
            "/api/cost/budget",
            "/api/routing",
            "/api/notifications",
            "/api/notifications/test",
            "/api/monitor/status",
            "/api/monitor/killswitch",
            "/api/monitor/autonomy-level",
            "/api/monitor/actions",
            "/api/monitor/runbooks",
            "/api/monitor/runbooks/{id}",
            "/api/monitor/thresholds",
            "/api/monitor/incidents",
            "/api/monitor/incidents/{id}",
            "/api/monitor/incidents/{id}/ack",
            "/api/monitor/incidents/{id}/resolve",
            "/api/monitor/silences",
            "/api/monitor/silences/{id}",
            "/api/events",
            "/api/events/{id}/ack",
            "/api/events/{id}/resolve",
        ] {
            assert!(doc["paths"].get(path).is_some(), "missing {path}");
        }
        let schemas = &doc["components"]["schemas"];
        for s in [
            "ClusterSnapshot",
            "Node",
            "Vm",
            "Storage",
            "Quorum",
            "LoginRequest",
            "ErrorBody",
            "ChatMessage",
            "ToolCallView",
            "CostSummary",
            "BudgetView",
            "RoutingSettings",
            "TestResults",
            "NotificationList",
            "Incident",
            "IncidentList",
            "MonitorStatus",
            "MonitorAction",
            "Silence",
            "NewSilence",
            "ThresholdSettings",
            "RunbookList",
        ] {
            assert!(schemas.get(s).is_some(), "missing schema {s}");
        }
        assert!(doc["components"]["securitySchemes"].get("bearer").is_some());
    }
}
