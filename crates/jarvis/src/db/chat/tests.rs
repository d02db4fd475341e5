//! Chat storage tests against a real SQLite file.

use chrono::{Duration, TimeZone};
use jarvis_domain::agent::{Block, Message, Role};
use jarvis_domain::cost::{Provider, Usage};
use serde_json::json;

use super::*;
use crate::db::usage::NewUsage;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()
}

async fn db(dir: &tempfile::TempDir) -> Db {
    Db::open(&dir.path().join("chat.db")).await.unwrap()
}

fn new_message(session: &str, message: Message, at: DateTime<Utc>) -> NewChatMessage {
    NewChatMessage {
        session_id: session.into(),
        message,
        provider: None,
        model: None,
        input_tokens: 0,
        output_tokens: 0,
        cost_usd: 0.0,
        meta: ChatMessageMeta::default(),
        at,
    }
}

#[tokio::test]
async fn sessions_are_created_read_renamed_and_listed_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir).await;
    let s =
        db.create_chat_session("a".into(), "First".into(), "operator".into(), t0()).await.unwrap();
    assert_eq!((s.created_at, s.updated_at, s.actor.as_str()), (t0(), t0(), "operator"));
    db.create_chat_session(
        "b".into(),
        "Second".into(),
        "operator".into(),
        t0() + Duration::minutes(1),
    )
    .await
    .unwrap();
    assert_eq!(db.chat_session("a".into()).await.unwrap(), Some(s));
    assert_eq!(db.chat_session("nope".into()).await.unwrap(), None);
    assert!(db.set_chat_session_title("a".into(), "Renamed".into()).await.unwrap());
    assert!(!db.set_chat_session_title("nope".into(), "x".into()).await.unwrap());

    // A message in `a` makes it the most recently updated.
    let mut answer = new_message("a", Message::assistant("hi"), t0() + Duration::minutes(5));
    answer.provider = Some("claude".into());
    db.append_chat_message(new_message("a", Message::user("hello"), t0() + Duration::minutes(4)))
        .await
        .unwrap();
    db.append_chat_message(answer).await.unwrap();
    db.append_chat_message(new_message(
        "a",
        Message {
            role: Role::User,
            blocks: vec![Block::ToolResult {
                tool_use_id: "t".into(),
                content: "{}".into(),
                is_error: false,
            }],
        },
        t0() + Duration::minutes(3),
    ))
    .await
    .unwrap();
    db.record_llm_usage(NewUsage {
        session_id: Some("a".into()),
        at: t0(),
        provider: Provider::Claude,
        model: "claude-sonnet-4-5".into(),
        usage: Usage::new(10, 10),
        cost_usd: 0.0123456789,
        estimated: false,
    })
    .await
    .unwrap();
    let list = db.list_chat_sessions(10).await.unwrap();
    assert_eq!(list.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(list[0].title, "Renamed");
    assert_eq!(list[0].message_count, 2, "the tool-result carrier is not a shown message");
    assert_eq!(list[0].cost_usd, 0.012346);
    assert_eq!(list[0].updated_at, t0() + Duration::minutes(5), "updated_at never goes back");
    assert_eq!((list[1].message_count, list[1].cost_usd), (0, 0.0));
    assert_eq!(db.list_chat_sessions(1).await.unwrap().len(), 1);
}

#[tokio::test]
async fn messages_round_trip_with_blocks_usage_and_meta() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir).await;
    db.create_chat_session("s".into(), "t".into(), "operator".into(), t0()).await.unwrap();
    let message = Message {
        role: Role::Assistant,
        blocks: vec![
            Block::text("Stopping "),
            Block::ToolUse {
                id: "tu1".into(),
                name: "stop_vm".into(),
                input: json!({"vmid": 101}),
            },
            Block::text("now."),
        ],
    };
    let mut m = new_message("s", message.clone(), t0());
    m.provider = Some("claude".into());
    m.model = Some("claude-sonnet-4-5".into());
    (m.input_tokens, m.output_tokens, m.cost_usd) = (1200, 80, 0.0048);
    let id = db.append_chat_message(m).await.unwrap();
    let content: String = db
        .call(move |c| {
            c.query_row("SELECT content FROM chat_messages WHERE id = ?1", [id], |r| r.get(0))
        })
        .await
        .unwrap();
    assert_eq!(content, "Stopping now.");

    let mut meta = ChatMessageMeta::default();
    meta.confirmations.insert("tu1".into(), "conf-9".into());
    assert!(db.set_chat_message_meta(id, meta.clone()).await.unwrap());
    assert!(!db.set_chat_message_meta(id + 100, meta.clone()).await.unwrap());

    let stored = db.recent_chat_messages("s".into(), 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    let got = &stored[0];
    assert_eq!((got.id, got.message.clone(), got.meta.clone()), (id, message, meta));
    assert_eq!(
        (got.provider.as_deref(), got.model.as_deref()),
        (Some("claude"), Some("claude-sonnet-4-5"))
    );
    assert_eq!(
        (got.input_tokens, got.output_tokens, got.cost_usd, got.created_at),
        (1200, 80, 0.0048, t0())
    );
    let views =
        chat_message_views(&stored, |n| jarvis_domain::tools::descriptor(n).map(|d| d.tier));
    assert_eq!(views[0].tool_calls[0].confirmation_id.as_deref(), Some("conf-9"));
}

#[tokio::test]
async fn appending_to_an_unknown_session_fails_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir).await;
    let err = db.append_chat_message(new_message("ghost", Message::user("x"), t0())).await;
    assert!(err.is_err());
    let n: i64 = db
        .call(|c| c.query_row("SELECT COUNT(*) FROM chat_messages", [], |r| r.get(0)))
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn recent_messages_are_the_newest_in_order_and_use_the_index_at_scale() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir).await;
    for id in ["mine", "big"] {
        db.create_chat_session(id.into(), id.into(), "operator".into(), t0()).await.unwrap();
    }
    for i in 0..5 {
        db.append_chat_message(new_message("mine", Message::user(format!("m{i}")), t0()))
            .await
            .unwrap();
    }
    // 100,000 messages in another session, interleaved after ours, in one transaction.
    db.call(|c| {
        let tx = c.transaction()?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO chat_messages (session_id, role, blocks, content, created_at)
                 VALUES ('big', 'user', '[{\"type\":\"text\",\"text\":\"x\"}]', 'x', '2026-03-02T10:00:00.000Z')",
            )?;
            for _ in 0..100_000 {
                stmt.execute([])?;
            }
        }
        tx.commit()
    })
    .await
    .unwrap();
    db.append_chat_message(new_message("mine", Message::user("m5"), t0())).await.unwrap();
    db.call(|c| c.execute_batch("ANALYZE")).await.unwrap();

    let recent = db.recent_chat_messages("mine".into(), 3).await.unwrap();
    let texts: Vec<String> = recent.iter().map(|m| m.message.text()).collect();
    assert_eq!(texts, ["m3", "m4", "m5"]);
    assert!(recent.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(db.recent_chat_messages("mine".into(), 100).await.unwrap().len(), 6);

    let plan: Vec<String> = db
        .call(|c| {
            let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {RECENT_SQL}"))?;
            let rows = stmt.query_map(("mine", 3), |r| r.get::<_, String>(3))?;
            rows.collect()
        })
        .await
        .unwrap();
    let plan = plan.join(" | ");
    assert!(plan.contains("USING INDEX chat_messages_session"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "no sort step: {plan}");
    assert!(!plan.starts_with("SCAN chat_messages"), "{plan}");
}
