//! The REST API under `/api` (plus `/metrics`). [`router`] is the one place that lists routes and
//! middleware; handlers live in one file per resource and mirror the URLs.

mod audit;
mod auth;
mod chat;
mod cluster;
mod cost;
mod events;
mod health;
mod incidents;
mod monitor;
mod notifications;
pub mod openapi;
mod router;
mod routing;
pub mod tools;

pub use cost::current_budget;
pub use health::{ComponentHealth, HealthResponse, HealthStatus};
pub use monitor::monitor_status;
pub use router::router;
pub use routing::RoutingSettings;
