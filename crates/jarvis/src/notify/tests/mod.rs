//! Notification tests against real servers: an SMTP server library (plain, STARTTLS with AUTH,
//! implicit TLS through a TLS terminator), axum receivers on loopback for each webhook
//! preset, and the outbox over a real SQLite file with a manual clock.

mod email;
mod outbox;
// Shared with the integration tests (tests/it), which need the same real servers.
#[path = "../../../tests/support/notify_servers.rs"]
#[allow(dead_code)]
mod support;
mod webhook;
