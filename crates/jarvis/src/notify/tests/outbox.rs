//! The outbox over a real SQLite file with a manual clock and real HTTP receivers: grouping,
//! backoff, recovery exactly once, dead targets, removed targets, restarts, expiry, retention.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::support::{Receiver, hanging_listener, refused_addr};
use crate::clock::{Clock, ManualClock};
use crate::config::notify::WebhookSettings;
use crate::db::Db;
use crate::db::notifications::{NotificationRow, NotificationStatus};
use crate::http_client::HttpClient;
use crate::metrics::Metrics;
use crate::notify::{
    NotificationDraft, NotificationKind, Notifier, Outbox, OutboxSettings, Severity, StepReport,
    Targets, WebhookNotifier,
};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z").unwrap().with_timezone(&Utc)
}

fn secs(s: i64) -> chrono::Duration {
    chrono::Duration::seconds(s)
}

fn target(spec: &str, timeout: Duration) -> Arc<dyn Notifier> {
    let settings = WebhookSettings::parse(spec).unwrap();
    Arc::new(WebhookNotifier::new(&settings, HttpClient::new(timeout).unwrap()))
}

struct Fixture {
    db: Db,
    clock: ManualClock,
    metrics: Metrics,
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.db");
        Fixture {
            db: Db::open(&path).await.unwrap(),
            clock: ManualClock::starting_at(t0()),
            metrics: Metrics::default(),
            path,
            _dir: dir,
        }
    }

    fn outbox(&self, targets: Vec<Arc<dyn Notifier>>, settings: OutboxSettings) -> Outbox {
        Outbox::new(
            self.db.clone(),
            Targets::new(targets),
            settings,
            self.metrics.clone(),
            Arc::new(self.clock.clone()),
        )
    }

    async fn rows(&self) -> Vec<NotificationRow> {
        let mut rows = self.db.recent_notifications(1000).await.unwrap();
        rows.sort_by_key(|r| r.id);
        rows
    }
}

fn settings() -> OutboxSettings {
    OutboxSettings { public_url: Some("https://jarvis.lan".into()), ..OutboxSettings::default() }
}

fn draft(title: &str) -> NotificationDraft {
    NotificationDraft {
        incident_id: None,
        kind: NotificationKind::Opened,
        severity: Severity::Warning,
        title: title.into(),
        body: format!("{title}: details"),
        link: None,
    }
}

#[tokio::test]
async fn drafts_within_the_window_go_out_as_one_message_per_target() {
    let f = Fixture::new().await;
    let (ntfy, json) = (Receiver::start().await, Receiver::start().await);
    let outbox = f.outbox(
        vec![
            target(&format!("ntfy:{}", ntfy.url("/alerts")), Duration::from_secs(5)),
            target(&format!("json:{}", json.url("/hook")), Duration::from_secs(5)),
        ],
        settings(),
    );
    outbox.enqueue(draft("disk 91% on pve1")).await.unwrap();
    f.clock.advance(secs(5));
    outbox.enqueue(draft("vm 101 stopped")).await.unwrap();
    f.clock.advance(secs(5));
    outbox.enqueue(draft("node pve2 offline")).await.unwrap();
    assert_eq!(f.rows().await.len(), 6, "one row per draft and target");

    // The first row's window has not closed yet: nothing goes out.
    assert_eq!(outbox.step(f.clock.now()).await, StepReport::default());
    assert_eq!(ntfy.count() + json.count(), 0);

    let report = outbox.step(t0() + secs(20)).await;
    assert_eq!(report, StepReport { messages: 2, sent: 6, retried: 0, failed: 0 });
    assert_eq!((ntfy.count(), json.count()), (1, 1));
    let body = json.requests()[0].json();
    assert_eq!(body["title"], "3 alerts: disk 91% on pve1, vm 101 stopped, node pve2 offline");
    assert_eq!(body["items"].as_array().unwrap().len(), 3);
    assert_eq!(body["link"], "https://jarvis.lan/incidents");
    let text = ntfy.requests()[0].text();
    for t in ["disk 91% on pve1", "vm 101 stopped", "node pve2 offline"] {
        assert!(text.contains(t), "{text}");
    }
    let rows = f.rows().await;
    assert!(rows.iter().all(|r| r.status == NotificationStatus::Sent && r.attempts == 1));
    assert_eq!(rows.iter().map(|r| r.sent_at).collect::<Vec<_>>(), vec![Some(t0() + secs(20)); 6]);
    let deliveries: std::collections::HashSet<_> =
        rows.iter().map(|r| r.delivery.clone()).collect();
    assert_eq!(deliveries.len(), 2, "one delivery id per message");
    assert_eq!(outbox.step(t0() + secs(600)).await, StepReport::default(), "never sent twice");
    assert_eq!((ntfy.count(), json.count()), (1, 1));
}

#[tokio::test]
async fn failures_back_off_as_specified_and_recovery_sends_exactly_once() {
    let f = Fixture::new().await;
    let rx = Receiver::start().await;
    rx.respond(500, "down for maintenance");
    let outbox = f.outbox(
        vec![target(&format!("json:{}", rx.url("/h")), Duration::from_secs(5))],
        settings(),
    );
    outbox.enqueue(draft("vm 101 stopped")).await.unwrap();

    let mut now = t0() + secs(20);
    for (attempt, wait) in [(1, 30), (2, 120), (3, 600)] {
        let report = outbox.step(now).await;
        assert_eq!(report, StepReport { messages: 0, sent: 0, retried: 1, failed: 0 });
        let row = &f.rows().await[0];
        assert_eq!(row.attempts, attempt);
        assert_eq!(row.next_attempt_at, now + secs(wait), "after attempt {attempt}");
        assert_eq!(row.last_error.as_deref(), Some("rejected (500): down for maintenance"));
        // Not a moment early.
        assert_eq!(outbox.step(now + secs(wait - 1)).await, StepReport::default());
        assert_eq!(rx.count(), attempt as usize);
        now += secs(wait);
    }
    rx.respond(200, "");
    assert_eq!(outbox.step(now).await.sent, 1);
    assert_eq!(rx.count(), 4);
    for later in [60, 3600, 86_400] {
        assert_eq!(outbox.step(now + secs(later)).await, StepReport::default());
    }
    assert_eq!(rx.count(), 4, "delivered exactly once");
    let row = &f.rows().await[0];
    assert_eq!(
        (row.status, row.attempts, row.last_error.as_deref()),
        (NotificationStatus::Sent, 4, None)
    );
    let text = f.metrics.render();
    assert!(
        text.contains(r#"jarvis_notifications_total{channel="json",outcome="retry"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"jarvis_notifications_total{channel="json",outcome="sent"} 1"#),
        "{text}"
    );
    assert!(text.contains("jarvis_notifications_pending 0"), "{text}");
}

#[tokio::test]
async fn connection_refused_is_retried_then_given_up_after_max_attempts() {
    let f = Fixture::new().await;
    let settings = OutboxSettings { max_attempts: 3, ..settings() };
    let outbox = f.outbox(
        vec![target(&format!("json:http://{}/h", refused_addr()), Duration::from_secs(5))],
        settings,
    );
    outbox.enqueue(draft("vm 101 stopped")).await.unwrap();
    let first = outbox.step(t0() + secs(20)).await;
    assert_eq!(first.retried, 1);
    let row = &f.rows().await[0];
    assert_eq!(row.next_attempt_at, t0() + secs(50));
    assert!(row.last_error.as_deref().unwrap().starts_with("unreachable"), "{row:?}");
    assert_eq!(outbox.step(t0() + secs(50)).await.retried, 1);
    assert_eq!(f.rows().await[0].next_attempt_at, t0() + secs(170));
    assert_eq!(outbox.step(t0() + secs(170)).await.failed, 1);
    let row = &f.rows().await[0];
    assert_eq!((row.status, row.attempts), (NotificationStatus::Failed, 3));
    assert!(row.last_error.as_deref().unwrap().starts_with("unreachable"));
}

#[tokio::test]
async fn permanent_refusals_fail_at_once() {
    let f = Fixture::new().await;
    let rx = Receiver::start().await;
    rx.respond(404, "Unknown Webhook");
    let outbox = f.outbox(
        vec![target(&format!("json:{}", rx.url("/h")), Duration::from_secs(5))],
        settings(),
    );
    outbox.enqueue(draft("x")).await.unwrap();
    assert_eq!(outbox.step(t0() + secs(20)).await.failed, 1);
    let row = &f.rows().await[0];
    assert_eq!(row.status, NotificationStatus::Failed);
    assert_eq!(row.last_error.as_deref(), Some("rejected (404): Unknown Webhook"));
    assert_eq!(outbox.step(t0() + secs(7200)).await, StepReport::default());
    assert_eq!(rx.count(), 1);
}

#[tokio::test]
async fn a_hanging_target_never_blocks_a_healthy_one() {
    let f = Fixture::new().await;
    let healthy = Receiver::start().await;
    let hang = hanging_listener().await;
    let settings = OutboxSettings { send_timeout: Duration::from_millis(500), ..settings() };
    let outbox = f.outbox(
        vec![
            target(&format!("json:http://{hang}/h"), Duration::from_secs(60)),
            target(&format!("json:{}", healthy.url("/h")), Duration::from_secs(60)),
        ],
        settings,
    );
    outbox.enqueue(draft("node pve2 offline")).await.unwrap();
    // A liveness guard, not a speed assertion: without the per-target timeout this would hang.
    let report = tokio::time::timeout(Duration::from_secs(60), outbox.step(t0() + secs(20)))
        .await
        .expect("step returned");
    assert_eq!(report, StepReport { messages: 1, sent: 1, retried: 1, failed: 0 });
    assert_eq!(healthy.count(), 1);
    let rows = f.rows().await;
    assert_eq!(rows[0].last_error.as_deref(), Some("timed out"), "the outbox's own timeout fired");
    assert_eq!(rows[1].status, NotificationStatus::Sent);
}

#[tokio::test]
async fn the_running_component_keeps_delivering_while_a_target_hangs() {
    let f = Fixture::new().await;
    let healthy = Receiver::start().await;
    let hang = hanging_listener().await;
    let settings = OutboxSettings {
        send_timeout: Duration::from_secs(3600),
        tick: Duration::from_millis(20),
        ..settings()
    };
    let outbox = f.outbox(
        vec![
            target(&format!("json:http://{hang}/h"), Duration::from_secs(3600)),
            target(&format!("json:{}", healthy.url("/h")), Duration::from_secs(3600)),
        ],
        settings,
    );
    let cancel = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(outbox.clone().run(cancel.clone()));
    for (i, title) in ["first", "second"].into_iter().enumerate() {
        outbox.enqueue(draft(title)).await.unwrap();
        f.clock.advance(secs(21));
        wait_for(|| healthy.count() == i + 1).await;
        assert_eq!(healthy.requests()[i].json()["title"], title);
    }
    // The hanging target still has its first send in flight: its rows are pending, attempt 0.
    let rows = f.rows().await;
    let stuck: Vec<_> = rows.iter().filter(|r| r.target.contains(&hang.to_string())).collect();
    assert!(stuck.iter().all(|r| r.status == NotificationStatus::Pending && r.attempts == 0));
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(30), task).await.expect("run stops").unwrap();
}

async fn wait_for(cond: impl Fn() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("condition not reached");
}

#[tokio::test]
async fn rows_of_removed_targets_fail_and_expired_rows_are_not_sent() {
    let f = Fixture::new().await;
    let (old, new) = (Receiver::start().await, Receiver::start().await);
    let before = f.outbox(
        vec![target(&format!("json:{}", old.url("/h")), Duration::from_secs(5))],
        settings(),
    );
    before.enqueue(draft("queued before the change")).await.unwrap();
    let after = f.outbox(
        vec![target(&format!("json:{}", new.url("/h")), Duration::from_secs(5))],
        settings(),
    );
    let report = after.step(t0() + secs(20)).await;
    assert_eq!(report.failed, 1);
    let row = &f.rows().await[0];
    assert_eq!(
        (row.status, row.last_error.as_deref()),
        (NotificationStatus::Failed, Some("target no longer configured"))
    );
    assert_eq!(old.count() + new.count(), 0);

    after.enqueue(draft("too old")).await.unwrap();
    assert_eq!(after.step(f.clock.now() + secs(25 * 3600)).await.failed, 1);
    let row = &f.rows().await[1];
    assert_eq!(row.status, NotificationStatus::Failed);
    assert_eq!(row.last_error.as_deref(), Some("expired: not delivered within 24 h"));
    assert_eq!(new.count(), 0);
}

#[tokio::test]
async fn the_queue_survives_a_restart_and_sent_rows_are_never_resent() {
    let f = Fixture::new().await;
    let rx = Receiver::start().await;
    let spec = format!("json:{}", rx.url("/h"));
    let outbox = f.outbox(vec![target(&spec, Duration::from_secs(5))], settings());
    outbox.enqueue(draft("before restart")).await.unwrap();
    drop(outbox);
    f.db.close().await.unwrap();

    // A new process: the same file, the same target (same id).
    let db = Db::open(&f.path).await.unwrap();
    let reopened = Outbox::new(
        db.clone(),
        Targets::new(vec![target(&spec, Duration::from_secs(5))]),
        settings(),
        Metrics::default(),
        Arc::new(f.clock.clone()),
    );
    assert_eq!(reopened.step(t0() + secs(20)).await.sent, 1);
    assert_eq!(rx.count(), 1);
    db.close().await.unwrap();

    let db = Db::open(&f.path).await.unwrap();
    let again = Outbox::new(
        db.clone(),
        Targets::new(vec![target(&spec, Duration::from_secs(5))]),
        settings(),
        Metrics::default(),
        Arc::new(f.clock.clone()),
    );
    assert_eq!(again.step(t0() + secs(3600)).await, StepReport::default());
    assert_eq!(rx.count(), 1, "a row marked sent is never sent again");
}

#[tokio::test]
async fn enqueue_without_targets_is_a_no_op_and_links_come_from_the_public_url() {
    let f = Fixture::new().await;
    f.outbox(Vec::new(), settings()).enqueue(draft("nobody listens")).await.unwrap();
    assert!(f.rows().await.is_empty());

    let rx = Receiver::start().await;
    let outbox = f.outbox(
        vec![target(&format!("json:{}", rx.url("/h")), Duration::from_secs(5))],
        settings(),
    );
    let incident = "inc-42";
    f.db.call(move |c| {
        c.execute(
            "INSERT INTO incidents (id, key, kind, severity, state, title, opened_at, timeline, tracking, updated_at)
             VALUES (?1, 'k', 'crash', 'error', 'open', 't', '2026-12-03T10:00:00.000Z', '[]', '{}', '2026-12-03T10:00:00.000Z')",
            [incident],
        )
    })
    .await
    .unwrap();
    outbox
        .enqueue(NotificationDraft {
            incident_id: Some(incident.into()),
            ..draft("vm 101 stopped")
        })
        .await
        .unwrap();
    outbox.step(t0() + secs(20)).await;
    let body = rx.requests()[0].json();
    assert_eq!(body["link"], "https://jarvis.lan/incidents/inc-42");
    assert_eq!(body["items"][0]["incidentId"], "inc-42");
}

#[tokio::test]
async fn prune_drops_old_finished_rows_only() {
    let f = Fixture::new().await;
    let rx = Receiver::start().await;
    let outbox = f.outbox(
        vec![target(&format!("json:{}", rx.url("/h")), Duration::from_secs(5))],
        settings(),
    );
    outbox.enqueue(draft("old and sent")).await.unwrap();
    outbox.step(t0() + secs(20)).await;
    outbox.enqueue(draft("old but pending")).await.unwrap();
    // Retention (db::retention) owns the pruning: 30 days by default.
    let policy = crate::db::retention::RetentionPolicy::default();
    let report = f.db.run_retention(policy, t0() + chrono::Duration::days(31), 0).await.unwrap();
    assert_eq!(report.removed_from("notifications"), 1);
    let rows = f.rows().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].title, "old but pending");
}

#[tokio::test]
async fn the_test_send_reports_each_target_and_records_it() {
    let f = Fixture::new().await;
    let rx = Receiver::start().await;
    let outbox = f.outbox(
        vec![
            target(&format!("json:{}", rx.url("/h")), Duration::from_secs(5)),
            target(&format!("ntfy:http://{}/topic-secret", refused_addr()), Duration::from_secs(5)),
        ],
        settings(),
    );
    let results = outbox.send_test().await;
    assert_eq!(results.len(), 2);
    assert!(
        results[0].error.is_none()
            && results[1].error.as_deref().unwrap().starts_with("unreachable")
    );
    assert!(!results[1].target.contains("topic-secret"));
    assert_eq!(rx.requests()[0].json()["items"][0]["kind"], "test");
    let rows = f.rows().await;
    let status =
        |channel: &str| rows.iter().find(|r| r.target.starts_with(channel)).map(|r| r.status);
    assert_eq!(status("json"), Some(NotificationStatus::Sent));
    assert_eq!(status("ntfy"), Some(NotificationStatus::Failed));
    assert!(rows.iter().all(|r| r.kind == NotificationKind::Test));
}
