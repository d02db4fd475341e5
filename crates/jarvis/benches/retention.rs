//! Benchmark (MEM-09): the database after a simulated week of 12 s polling with the monitor on.
//! On a virtual clock it inserts what a week produces — activity events at one per poll (7,200 a
//! day), incidents, runbook attempts and notifications, a few dozen chat messages and model calls
//! a day, audit rows — and runs retention every simulated hour, then reports the file size
//! (target < 50 MB) and what one retention run costs. A further 30 days show the size levelling
//! off once the 30-day rules start deleting.
//!
//! `cargo bench -p jarvis --bench retention`

use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use jarvis::db::Db;
use jarvis::db::audit::NewAudit;
use jarvis::db::retention::RetentionPolicy;
use jarvis::db::usage::NewUsage;
use jarvis_domain::audit::{Decision, Outcome};
use jarvis_domain::cost::{Provider, Usage};

fn ts(t: DateTime<Utc>) -> String {
    jarvis::db::timestamp(t)
}

/// One simulated hour of writes ending at `end`.
async fn hour(db: &Db, end: DateTime<Utc>, n: u64) {
    let start = end - Duration::hours(1);
    db.call(move |c| {
        let tx = c.transaction()?;
        // 300 polls an hour, one event each, with a realistic message.
        for i in 0..300 {
            let at = ts(start + Duration::seconds(i * 12));
            tx.execute(
                "INSERT INTO events (id, type, severity, title, message, node, source, timestamp)
                 VALUES (?1, 'metric', 'warning', 'CPU high on pve2',
                         'CPU usage 92.4% above threshold 90% for 5 minutes on node pve2 (vm 105 busiest)',
                         'pve2', 'monitor', ?2)",
                (format!("ev-{n}-{i}"), at),
            )?;
        }
        // About one incident an hour, each with an attempt and two notifications.
        let at = ts(start + Duration::minutes(5));
        let inc = format!("inc-{n}");
        tx.execute(
            "INSERT INTO incidents (id, key, kind, severity, state, node, vmid, title, opened_at,
                 resolved_at, timeline, tracking, updated_at)
             VALUES (?1, ?1, 'guest_crashed', 'critical', 'resolved', 'pve2', 105, 'VM 105 crashed',
                     ?2, ?2, '[{\"at\":\"x\",\"what\":\"opened\"},{\"at\":\"y\",\"what\":\"resolved\"}]', '{}', ?2)",
            (&inc, &at),
        )?;
        tx.execute(
            "INSERT INTO monitor_actions (id, incident_id, incident_key, runbook_id, at, tool, args,
                 node, attempt, autonomy_level, result, detail, verification)
             VALUES (?1, ?2, ?2, 'restart-crashed-guest', ?3, 'start_vm', '{\"node\":\"pve2\",\"vmid\":105}',
                     'pve2', 1, 3, 'success', 'started', 'running after 30 s')",
            (format!("act-{n}"), &inc, &at),
        )?;
        for target in ["email", "ntfy"] {
            tx.execute(
                "INSERT INTO notifications (incident_id, kind, target, severity, title, body,
                     created_at, status, next_attempt_at, sent_at)
                 VALUES (?1, 'opened', ?2, 'critical', 'VM 105 crashed',
                         'VM 105 on pve2 stopped unexpectedly; Jarvis started it again.', ?3, 'sent', ?3, ?3)",
                (&inc, target, &at),
            )?;
        }
        // Two chat messages an hour (48 a day) in a session a day.
        let session = format!("s-{}", n / 24);
        tx.execute(
            "INSERT INTO chat_sessions (id, title, actor, created_at, updated_at)
             VALUES (?1, 'status', 'operator', ?2, ?2)
             ON CONFLICT (id) DO UPDATE SET updated_at = ?2",
            (&session, &at),
        )?;
        for role in ["user", "assistant"] {
            tx.execute(
                "INSERT INTO chat_messages (session_id, role, blocks, content, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                (&session, role, format!("[{{\"type\":\"text\",\"text\":\"{}\"}}]", "w".repeat(600)),
                 "w".repeat(600), &at),
            )?;
        }
        tx.commit()
    })
    .await
    .unwrap();
    db.record_llm_usage(NewUsage {
        session_id: Some(format!("s-{}", n / 24)),
        at: start + Duration::minutes(6),
        provider: Provider::Claude,
        model: "claude-sonnet-4-5".into(),
        usage: Usage::new(10_000, 400),
        cost_usd: 0.036,
        estimated: false,
    })
    .await
    .unwrap();
    for i in 0..4 {
        db.append_audit_at(
            NewAudit {
                actor: "monitor".into(),
                source: "monitor".into(),
                tool: Some("start_vm".into()),
                args: Some(serde_json::json!({"node": "pve2", "vmid": 105})),
                tier: None,
                decision: Decision::Executed,
                outcome: Outcome::Success,
                detail: Some("started".into()),
            },
            start + Duration::minutes(10 + i),
        )
        .await
        .unwrap();
    }
}

fn mb(b: u64) -> f64 {
    b as f64 / 1_048_576.0
}

fn main() {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("week.db")).await.unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let policy = RetentionPolicy::default();
        let mut runs = Vec::new();
        let report_at = |label: &str, db: &Db, runs: &mut Vec<f64>| {
            runs.sort_by(f64::total_cmp);
            let p = |q: f64| runs[((runs.len() as f64 - 1.0) * q).round() as usize];
            println!(
                "{label}: database {:.1} MB (main + WAL); retention run p50 {:.2} ms, p99 {:.2} ms over {} runs",
                mb(db.size_bytes()),
                p(0.5),
                p(0.99),
                runs.len()
            );
        };
        for n in 1..=(24 * 37u64) {
            let now = t0 + Duration::hours(n as i64);
            hour(&db, now, n).await;
            let started = Instant::now();
            db.run_retention(policy, now, 0).await.unwrap();
            runs.push(started.elapsed().as_secs_f64() * 1000.0);
            if n == 24 * 7 {
                report_at("after 7 days", &db, &mut runs);
                let size = db.size_bytes();
                println!(
                    "  target < 50 MB: {}",
                    if size < 50 * 1_048_576 { "met" } else { "MISSED" }
                );
            }
        }
        report_at("after 37 days (30-day rules deleting)", &db, &mut runs);
        let events: i64 =
            db.call(|c| c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))).await.unwrap();
        let check = db.verify_audit_chain().await.unwrap();
        println!("  events kept {events}; audit chain valid: {}", check.first_broken_id.is_none());
    });
}
