//! Retention against real SQLite files: every rule removes exactly the old, finished rows;
//! usage rollups keep cost history exact; audit archiving keeps the chain verifiable and never
//! launders a tampered one; the file shrinks after the incremental vacuum.

use chrono::{DateTime, Duration, TimeZone, Utc};
use jarvis_domain::audit::{Decision, Outcome};
use jarvis_domain::cost::{Provider, Usage};

use super::*;
use crate::db::audit::NewAudit;
use crate::db::audit_archive::ArchiveOutcome;
use crate::db::usage::NewUsage;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

async fn db(dir: &tempfile::TempDir) -> Db {
    Db::open(&dir.path().join("r.db")).await.unwrap()
}

async fn count(db: &Db, sql: &'static str) -> i64 {
    db.call(move |c| c.query_row(sql, [], |r| r.get(0))).await.unwrap()
}

/// Seeds one old and one recent row per table, with live rows that must survive their age.
async fn seed(db: &Db) {
    let old = timestamp(now() - Duration::days(400));
    let new = timestamp(now() - Duration::days(1));
    let future = timestamp(now() + Duration::days(1));
    let (old_unix, new_unix) = ((now() - Duration::days(1)).timestamp(), now().timestamp() + 60);
    db.call(move |c| {
        for (id, at) in [("e-old", &old), ("e-new", &new)] {
            c.execute(
                "INSERT INTO events (id, type, severity, title, message, source, timestamp)
                 VALUES (?1, 'x', 'info', 't', 'm', 's', ?2)",
                (id, at),
            )?;
        }
        for (id, at) in [("s-old", &old), ("s-new", &new)] {
            c.execute(
                "INSERT INTO chat_sessions (id, title, actor, created_at, updated_at)
                 VALUES (?1, 't', 'operator', ?2, ?2)",
                (id, at),
            )?;
            for _ in 0..3 {
                c.execute(
                    "INSERT INTO chat_messages (session_id, role, blocks, content, created_at)
                     VALUES (?1, 'user', '[]', 'hi', ?2)",
                    (id, at),
                )?;
            }
        }
        for (id, state, at) in
            [("i-old", "resolved", &old), ("i-open", "open", &old), ("i-new", "resolved", &new)]
        {
            let resolved = (state == "resolved").then_some(at);
            c.execute(
                "INSERT INTO incidents (id, key, kind, severity, state, title, opened_at,
                     resolved_at, timeline, tracking, updated_at)
                 VALUES (?1, ?1, 'k', 'warning', ?2, 't', ?3, ?4, '[]', '{}', ?3)",
                (id, state, at, resolved),
            )?;
        }
        for (id, inc, result, at) in [
            ("a-old", "i-open", "success", &old),
            ("a-pending", "i-open", "pending", &old),
            ("a-new", "i-new", "failure", &new),
        ] {
            c.execute(
                "INSERT INTO monitor_actions (id, incident_id, incident_key, runbook_id, at, tool,
                     args, attempt, autonomy_level, result)
                 VALUES (?1, ?2, ?2, 'rb', ?4, 'start_vm', '{}', 1, 3, ?3)",
                (id, inc, result, at),
            )?;
        }
        for (status, at) in [("sent", &old), ("failed", &old), ("pending", &old), ("sent", &new)] {
            c.execute(
                "INSERT INTO notifications (kind, target, severity, title, body, created_at,
                     status, next_attempt_at)
                 VALUES ('opened', 'json', 'warning', 't', 'b', ?2, ?1, ?2)",
                (status, at),
            )?;
        }
        for (id, status, at) in
            [("c-old", "executed", &old), ("c-pending", "pending", &old), ("c-new", "denied", &new)]
        {
            c.execute(
                "INSERT INTO confirmations (id, tool, args, args_digest, summary, tier, actor,
                     source, created_at, expires_at, status)
                 VALUES (?1, 't', '{}', 'd', 's', 'red', 'op', 'api', ?3, ?3, ?2)",
                (id, status, at),
            )?;
        }
        for (id, until) in [("sl-old", &new), ("sl-live", &future)] {
            c.execute(
                "INSERT INTO silences (id, reason, created_by, created_at, expires_at)
                 VALUES (?1, 'r', 'op', ?2, ?3)",
                (id, &old, until),
            )?;
        }
        c.execute(
            "INSERT INTO revoked_tokens VALUES ('t-old', ?1), ('t-live', ?2)",
            (old_unix, new_unix),
        )?;
        Ok(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn every_rule_removes_old_finished_rows_and_keeps_live_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir).await;
    seed(&db).await;
    let report = db.run_retention(RetentionPolicy::default(), now(), 0).await.unwrap();
    for (table, n) in [
        ("events", 1),
        ("chat_messages", 3),
        ("chat_sessions", 1),
        ("monitor_actions", 1),
        ("incidents", 1),
        ("notifications", 2),
        ("confirmations", 1),
        ("silences", 1),
        ("revoked_tokens", 1),
    ] {
        assert_eq!(report.removed_from(table), n, "{table}");
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM events WHERE id = 'e-new'").await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM chat_messages").await, 3);
    // The open incident and the pending attempt stay whatever their age.
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM incidents WHERE id IN ('i-open', 'i-new')").await,
        2
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM monitor_actions").await, 2);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM notifications WHERE status = 'pending'").await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM confirmations WHERE status = 'pending'").await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM silences WHERE id = 'sl-live'").await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM revoked_tokens WHERE jti = 't-live'").await, 1);
    // A second run finds nothing more.
    let again = db.run_retention(RetentionPolicy::default(), now(), 0).await.unwrap();
    assert!(again.removed.iter().all(|(_, n)| *n == 0), "{again:?}");
}

#[tokio::test]
async fn a_longer_policy_keeps_more() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir).await;
    seed(&db).await;
    let policy = RetentionPolicy { events_days: 500, chat_days: 500, ..RetentionPolicy::default() };
    let report = db.run_retention(policy, now(), 0).await.unwrap();
    assert_eq!(report.removed_from("events"), 0);
    assert_eq!(report.removed_from("chat_sessions"), 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM events").await, 2);
}

fn call(at: DateTime<Utc>, provider: Provider, session: Option<&str>) -> NewUsage {
    NewUsage {
        session_id: session.map(str::to_owned),
        at,
        provider,
        model: "m".into(),
        usage: Usage { cache_read_tokens: Some(7), ..Usage::new(100, 20) },
        cost_usd: 0.012_345,
        estimated: false,
    }
}

#[tokio::test]
async fn usage_rollup_keeps_spend_message_counts_and_session_cost_exact() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir).await;
    db.call(|c| {
        c.execute(
            "INSERT INTO chat_sessions VALUES ('s1', 't', 'op', '2026-01-01T00:00:00.000Z',
             '2026-05-31T00:00:00.000Z')",
            [],
        )
    })
    .await
    .unwrap();
    let base = now() - Duration::days(120);
    for i in 0..50 {
        let provider = if i % 5 == 0 { Provider::Local } else { Provider::Claude };
        let session = (i % 2 == 0).then_some("s1");
        db.record_llm_usage(call(base + Duration::minutes(i * 7), provider, session))
            .await
            .unwrap();
    }
    db.record_llm_usage(call(now() - Duration::days(1), Provider::Claude, Some("s1")))
        .await
        .unwrap();
    let (start, end) = (now() - Duration::days(200), now());
    let before = db.usage_between(start, end).await.unwrap();
    let spent_before = db.spent_between(start, end).await.unwrap();
    let sessions_before = db.cost_by_session(10).await.unwrap();

    let report = db.run_retention(RetentionPolicy::default(), now(), 0).await.unwrap();
    assert_eq!(report.removed_from("llm_usage"), 50);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM llm_usage").await, 1);
    let hourly = count(&db, "SELECT COUNT(*) FROM llm_usage_hourly").await;
    assert!(hourly > 0 && hourly < 50, "{hourly} rollup rows");

    let after = db.usage_between(start, end).await.unwrap();
    assert_eq!(after.len(), before.len(), "one record per call, so message counts hold");
    let by = |rs: &[jarvis_domain::cost::CostRecord], p: Provider| {
        rs.iter().filter(|r| r.provider == p).count()
    };
    assert_eq!(by(&after, Provider::Local), by(&before, Provider::Local));
    let tokens = |rs: &[jarvis_domain::cost::CostRecord]| -> (u64, u64, u64) {
        rs.iter().fold((0, 0, 0), |(i, o, c), r| {
            (
                i + r.usage.input_tokens,
                o + r.usage.output_tokens,
                c + r.usage.cache_read_tokens.unwrap_or(0),
            )
        })
    };
    assert_eq!(tokens(&after), tokens(&before));
    assert_eq!(tokens(&after), (5100, 1020, 357));
    let spent_after = db.spent_between(start, end).await.unwrap();
    assert!((spent_after - spent_before).abs() < 1e-9, "{spent_before} vs {spent_after}");
    let sessions_after = db.cost_by_session(10).await.unwrap();
    assert_eq!(sessions_after.len(), 1);
    assert_eq!(sessions_after[0].messages, sessions_before[0].messages);
    assert_eq!(sessions_after[0].messages, 26);
    assert!((sessions_after[0].cost_usd - sessions_before[0].cost_usd).abs() < 1e-6);

    // A later run folds into the same hours (ON CONFLICT adds) without double counting.
    db.run_retention(RetentionPolicy::default(), now() + Duration::hours(2), 0).await.unwrap();
    let spent_later = db.spent_between(start, end).await.unwrap();
    assert!((spent_later - spent_before).abs() < 1e-9);
}

fn entry(detail: &str) -> NewAudit {
    NewAudit {
        actor: "operator".into(),
        source: "api".into(),
        tool: Some("stop_vm".into()),
        args: Some(serde_json::json!({"vmid": 101})),
        tier: None,
        decision: Decision::Executed,
        outcome: Outcome::Success,
        detail: Some(detail.into()),
    }
}

/// 10 entries 400 days old, 5 from yesterday.
async fn audit_db(dir: &tempfile::TempDir) -> Db {
    let db = db(dir).await;
    for i in 0..15 {
        let age = if i < 10 { Duration::days(400) } else { Duration::days(1) };
        db.append_audit_at(entry(&format!("#{i}")), now() - age + Duration::minutes(i))
            .await
            .unwrap();
    }
    db
}

#[tokio::test]
async fn archiving_keeps_the_chain_verifiable_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = audit_db(&dir).await;
    let report = db.run_retention(RetentionPolicy::default(), now(), 0).await.unwrap();
    assert_eq!(report.removed_from("audit_log"), 10);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM audit_log").await, 5);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM audit_archive").await, 10);
    let check = db.verify_audit_chain().await.unwrap();
    assert_eq!(check.first_broken_id, None);
    assert_eq!((check.entries, check.archived_entries, check.archived_through), (15, 10, Some(10)));
    // Appends continue the chain after archiving.
    db.append_audit(entry("after")).await.unwrap();
    assert_eq!(db.verify_audit().await.unwrap(), (16, None));
}

#[tokio::test]
async fn the_newest_entry_stays_live_and_appends_continue_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir).await;
    for i in 0..3 {
        db.append_audit_at(entry(&format!("#{i}")), now() - Duration::days(400)).await.unwrap();
    }
    let out = db.archive_audit(now() - Duration::days(365), now()).await.unwrap();
    assert_eq!(out, ArchiveOutcome::Archived { moved: 2, through: 2 });
    assert_eq!(count(&db, "SELECT COUNT(*) FROM audit_log").await, 1);
    let e = db.append_audit(entry("next")).await.unwrap();
    assert_eq!(e.id, 4);
    assert_eq!(db.verify_audit().await.unwrap(), (4, None));
}

#[tokio::test]
async fn tampering_after_archiving_is_still_detected_in_either_table_or_the_checkpoint() {
    let cases: [(&str, i64); 5] = [
        ("UPDATE audit_log SET detail = 'forged' WHERE id = 12", 12),
        ("UPDATE audit_archive SET actor = 'mallory' WHERE id = 4", 4),
        ("DELETE FROM audit_archive WHERE id = 10", 10),
        ("UPDATE audit_checkpoint SET hash = 'beef'", 10),
        ("DELETE FROM audit_log WHERE id = 11", 12),
    ];
    for (sql, broken) in cases {
        let dir = tempfile::tempdir().unwrap();
        let db = audit_db(&dir).await;
        db.run_retention(RetentionPolicy::default(), now(), 0).await.unwrap();
        db.call(move |c| c.execute(sql, [])).await.unwrap();
        let check = db.verify_audit_chain().await.unwrap();
        assert_eq!(check.first_broken_id, Some(broken), "{sql}: {check:?}");
    }
}

#[tokio::test]
async fn archiving_refuses_a_tampered_segment_and_verify_keeps_failing() {
    let dir = tempfile::tempdir().unwrap();
    let db = audit_db(&dir).await;
    db.call(|c| c.execute("UPDATE audit_log SET outcome = 'failure' WHERE id = 3", []))
        .await
        .unwrap();
    let report = db.run_retention(RetentionPolicy::default(), now(), 0).await.unwrap();
    assert_eq!(report.audit_refused_at, Some(3));
    assert_eq!(report.removed_from("audit_log"), 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM audit_archive").await, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM audit_checkpoint").await, 0);
    assert_eq!(db.verify_audit().await.unwrap().1, Some(3));
}

#[tokio::test]
async fn the_database_stays_bounded_and_shrinks_after_the_vacuum() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir).await;
    let old = timestamp(now() - Duration::days(60));
    let new = timestamp(now() - Duration::hours(1));
    let body = "x".repeat(400);
    db.call(move |c| {
        let tx = c.transaction()?;
        for i in 0..20_000 {
            let at = if i < 19_000 { &old } else { &new };
            tx.execute(
                "INSERT INTO events (id, type, severity, title, message, source, timestamp)
                 VALUES (?1, 'x', 'info', 't', ?2, 's', ?3)",
                (format!("e{i}"), &body, at),
            )?;
        }
        tx.commit()?;
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
    })
    .await
    .unwrap();
    let main_file = |db: &Db| std::fs::metadata(db.path()).unwrap().len();
    let before = main_file(&db);
    assert!(before > 8_000_000, "{before} bytes seeded");
    let report = db.run_retention(RetentionPolicy::default(), now(), 0).await.unwrap();
    assert_eq!(report.removed_from("events"), 19_000);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM events WHERE timestamp < '2026-05-02T12:00:00.000Z'")
            .await,
        0,
        "nothing older than the policy remains"
    );
    assert!(report.pages_freed > 1000, "{} pages freed", report.pages_freed);
    let after = main_file(&db);
    assert!(after < before / 4, "the file shrank: {before} -> {after} bytes");
    assert!(db.size_bytes() >= after);
}
