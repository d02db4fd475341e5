//! The REST API under `/api` (plus `/metrics`). [`router`] is the one place that lists routes and
//! middleware; handlers live in one file per resource and mirror the URLs.

mod auth;
mod cluster;
mod health;
pub mod openapi;
mod router;

pub use health::{ComponentHealth, HealthResponse, HealthStatus};
pub use router::router;
