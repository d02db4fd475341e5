//! Prometheus metrics served at `/metrics`: one registry, typed handles cloned into components.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Label set for outcome counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `success` or `failure` (or another short word).
    pub outcome: String,
}

/// Label set of the monitor's per-tier metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TierLabels {
    /// `critical`, `important`, `routine` or `background`.
    pub tier: String,
}

/// Label set of the monitor's per-kind and per-result counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// Incident kind or action result.
    pub kind: String,
}

/// Label set of the retention counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TableLabels {
    /// The table (`events`, `llm_usage`, `audit_log`, …).
    pub table: String,
}

/// Label set for LLM usage counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LlmLabels {
    /// `claude` or `local`.
    pub provider: String,
    /// `input` or `output` (tokens); `usd` (cost).
    pub kind: String,
}

/// Label set for notification counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NotificationLabels {
    /// `email`, `ntfy`, `gotify`, `discord`, `slack` or `json`.
    pub channel: String,
    /// `sent`, `retry` or `failed`.
    pub outcome: String,
}

/// The metrics Jarvis exports.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Wall time of one cluster poll.
    pub poll_duration: Histogram,
    /// Failed cluster polls.
    pub pve_errors: Counter,
    /// Connected Socket.IO clients across namespaces.
    pub socket_clients: Gauge,
    /// Login attempts by outcome (`success`, `failure`, `rate_limited`, `busy`).
    pub logins: Family<OutcomeLabels, Counter>,
    /// Nodes in the last snapshot.
    pub cluster_nodes: Gauge,
    /// Guests in the last snapshot.
    pub cluster_guests: Gauge,
    /// LLM tokens by provider and direction.
    pub llm_tokens: Family<LlmLabels, Counter>,
    /// LLM spend in USD by provider.
    pub llm_cost: Family<LlmLabels, Counter<f64, AtomicU64>>,
    /// Password hashes running right now (set at scrape time from the auth gate).
    pub password_hashes_running: Gauge,
    /// The most password hashes that ever ran at once (the gate's bound caps it).
    pub password_hashes_peak: Gauge,
    /// Monitor evaluations by tier.
    pub monitor_evaluations: Family<TierLabels, Counter>,
    /// Wall time of one monitor evaluation (reads + decision + effects) by tier.
    pub monitor_evaluation_seconds: Family<TierLabels, Histogram>,
    /// Unix time of each tier's last run.
    pub monitor_last_run: Family<TierLabels, Gauge>,
    /// Task-list reads that failed (the tier then decides nothing that needs them).
    pub monitor_task_read_errors: Counter,
    /// Unresolved incidents.
    pub incidents_open: Gauge,
    /// Incidents opened (and reopened) by kind.
    pub incidents_opened: Family<KindLabels, Counter>,
    /// Runbook attempts by result (`pending` when submitted, then the final result).
    pub monitor_actions: Family<KindLabels, Counter>,
    /// Notifications (outbox rows) by channel and outcome of an attempt.
    pub notifications: Family<NotificationLabels, Counter>,
    /// Notifications waiting in the outbox.
    pub notifications_pending: Gauge,
    /// Rows removed by retention (deleted, rolled up or archived) by table.
    pub retention_rows_deleted: Family<TableLabels, Counter>,
    /// Wall time of one retention run (policy + incremental vacuum).
    pub retention_run_seconds: Histogram,
    /// Unix time of the last retention run.
    pub retention_last_run: Gauge,
    /// Retention runs whose audit archiving was refused (the chain is broken).
    pub retention_audit_refused: Counter,
    /// Database size on disk (main file + WAL) after the last retention run.
    pub db_size_bytes: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("jarvis");
        let poll_duration = Histogram::new(exponential_buckets(0.005, 2.0, 12));
        let pve_errors = Counter::default();
        let socket_clients = Gauge::default();
        let logins = Family::<OutcomeLabels, Counter>::default();
        let cluster_nodes = Gauge::default();
        let cluster_guests = Gauge::default();
        let llm_tokens = Family::<LlmLabels, Counter>::default();
        let llm_cost = Family::<LlmLabels, Counter<f64, AtomicU64>>::default();
        let monitor_evaluations = Family::<TierLabels, Counter>::default();
        let monitor_evaluation_seconds =
            Family::<TierLabels, Histogram>::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0005, 2.0, 14))
            });
        let monitor_last_run = Family::<TierLabels, Gauge>::default();
        let monitor_task_read_errors = Counter::default();
        let incidents_open = Gauge::default();
        let incidents_opened = Family::<KindLabels, Counter>::default();
        let monitor_actions = Family::<KindLabels, Counter>::default();
        registry.register(
            "monitor_evaluations",
            "Monitor evaluations by tier",
            monitor_evaluations.clone(),
        );
        registry.register(
            "monitor_evaluation_seconds",
            "Duration of a monitor evaluation by tier",
            monitor_evaluation_seconds.clone(),
        );
        registry.register(
            "monitor_last_run_timestamp_seconds",
            "Unix time of each monitor tier's last run",
            monitor_last_run.clone(),
        );
        registry.register(
            "monitor_task_read_errors",
            "Failed reads of the PVE task list",
            monitor_task_read_errors.clone(),
        );
        registry.register("incidents_open", "Unresolved incidents", incidents_open.clone());
        registry.register(
            "incidents_opened",
            "Incidents opened or reopened by kind",
            incidents_opened.clone(),
        );
        registry.register("monitor_actions", "Runbook attempts by result", monitor_actions.clone());
        let password_hashes_running = Gauge::default();
        let password_hashes_peak = Gauge::default();
        let notifications = Family::<NotificationLabels, Counter>::default();
        let notifications_pending = Gauge::default();
        registry.register(
            "notifications",
            "Notification attempts by channel and outcome (sent, retry, failed)",
            notifications.clone(),
        );
        registry.register(
            "notifications_pending",
            "Notifications waiting in the outbox",
            notifications_pending.clone(),
        );
        registry.register(
            "password_hashes_running",
            "Password hashes (argon2id) running now",
            password_hashes_running.clone(),
        );
        registry.register(
            "password_hashes_peak",
            "Most password hashes that ran at the same time since start",
            password_hashes_peak.clone(),
        );
        registry.register("llm_tokens", "LLM tokens by provider and kind", llm_tokens.clone());
        registry.register("llm_cost_usd", "LLM spend in USD by provider", llm_cost.clone());
        registry.register(
            "poll_duration_seconds",
            "Duration of a cluster poll",
            poll_duration.clone(),
        );
        registry.register("pve_errors", "Failed cluster polls", pve_errors.clone());
        registry.register("socket_clients", "Connected Socket.IO clients", socket_clients.clone());
        registry.register("logins", "Login attempts by outcome", logins.clone());
        registry.register("cluster_nodes", "Nodes in the cluster snapshot", cluster_nodes.clone());
        let retention_rows_deleted = Family::<TableLabels, Counter>::default();
        let retention_run_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        let retention_last_run = Gauge::default();
        let retention_audit_refused = Counter::default();
        let db_size_bytes = Gauge::default();
        registry.register(
            "retention_rows_deleted",
            "Rows removed by retention (deleted, rolled up or archived) by table",
            retention_rows_deleted.clone(),
        );
        registry.register(
            "retention_run_seconds",
            "Duration of a retention run",
            retention_run_seconds.clone(),
        );
        registry.register(
            "retention_last_run_timestamp_seconds",
            "Unix time of the last retention run",
            retention_last_run.clone(),
        );
        registry.register(
            "retention_audit_refused",
            "Retention runs that refused to archive a broken audit chain",
            retention_audit_refused.clone(),
        );
        registry.register(
            "db_size_bytes",
            "Database size on disk (main file and WAL)",
            db_size_bytes.clone(),
        );
        registry.register(
            "cluster_guests",
            "Guests in the cluster snapshot",
            cluster_guests.clone(),
        );
        Self {
            registry: Arc::new(registry),
            poll_duration,
            pve_errors,
            socket_clients,
            logins,
            cluster_nodes,
            cluster_guests,
            llm_tokens,
            llm_cost,
            password_hashes_running,
            password_hashes_peak,
            monitor_evaluations,
            monitor_evaluation_seconds,
            monitor_last_run,
            monitor_task_read_errors,
            incidents_open,
            incidents_opened,
            monitor_actions,
            notifications,
            notifications_pending,
            retention_rows_deleted,
            retention_run_seconds,
            retention_last_run,
            retention_audit_refused,
            db_size_bytes,
        }
    }
}

impl Metrics {
    /// Records one retention run.
    pub fn retention_run(
        &self,
        report: &crate::db::retention::RetentionReport,
        seconds: f64,
        at_unix: i64,
        db_bytes: u64,
    ) {
        for (table, n) in &report.removed {
            self.retention_rows_deleted
                .get_or_create(&TableLabels { table: (*table).to_string() })
                .inc_by(*n as u64);
        }
        if report.audit_refused_at.is_some() {
            self.retention_audit_refused.inc();
        }
        self.retention_run_seconds.observe(seconds);
        self.retention_last_run.set(at_unix);
        self.db_size_bytes.set(i64::try_from(db_bytes).unwrap_or(i64::MAX));
    }

    /// Counts a login attempt.
    pub fn login(&self, outcome: &str) {
        self.logins.get_or_create(&OutcomeLabels { outcome: outcome.into() }).inc();
    }

    /// Counts one LLM call's usage.
    pub fn llm_call(&self, provider: &str, input_tokens: u64, output_tokens: u64, cost_usd: f64) {
        let labels = |kind: &str| LlmLabels { provider: provider.into(), kind: kind.into() };
        self.llm_tokens.get_or_create(&labels("input")).inc_by(input_tokens);
        self.llm_tokens.get_or_create(&labels("output")).inc_by(output_tokens);
        self.llm_cost.get_or_create(&labels("usd")).inc_by(cost_usd);
    }

    /// Records one monitor evaluation of `tier`.
    pub fn monitor_run(&self, tier: &str, seconds: f64, at_unix: i64) {
        let labels = TierLabels { tier: tier.into() };
        self.monitor_evaluations.get_or_create(&labels).inc();
        self.monitor_evaluation_seconds.get_or_create(&labels).observe(seconds);
        self.monitor_last_run.get_or_create(&labels).set(at_unix);
    }

    /// Counts `n` notifications of `channel` with `outcome` (`sent`, `retry`, `failed`).
    pub fn notification(&self, channel: &str, outcome: &str, n: u64) {
        let labels = NotificationLabels { channel: channel.into(), outcome: outcome.into() };
        self.notifications.get_or_create(&labels).inc_by(n);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_registered_metrics_with_values() {
        let m = Metrics::default();
        m.pve_errors.inc();
        m.login("failure");
        m.poll_duration.observe(0.02);
        let text = m.render();
        assert!(text.contains("jarvis_pve_errors_total 1"), "{text}");
        assert!(text.contains("jarvis_logins_total{outcome=\"failure\"} 1"), "{text}");
        assert!(text.contains("jarvis_poll_duration_seconds_count 1"), "{text}");
        m.notification("ntfy", "retry", 2);
        m.notifications_pending.set(3);
        let text = m.render();
        assert!(
            text.contains("jarvis_notifications_total{channel=\"ntfy\",outcome=\"retry\"} 2"),
            "{text}"
        );
        assert!(text.contains("jarvis_notifications_pending 3"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
