//! The REST API under `/api` (plus `/metrics`). [`router`] is the one place that lists routes and
//! middleware; handlers live in one file per resource and mirror the URLs.

mod audit;
mod auth;
mod cluster;
mod health;
mod monitor;
pub mod openapi;
mod router;
pub mod tools;

pub use health::{ComponentHealth, HealthResponse, HealthStatus};
pub use monitor::monitor_status;
pub use router::router;
