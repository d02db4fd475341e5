//! Chat history, cost and routing over REST against the real server. Sessions, messages and
//! usage rows are written through a second `Db` handle on the server's own SQLite file (WAL),
//! exactly as the chat driver would write them.

use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeZone, Timelike, Utc};
use jarvis::config::{ClaudeSettings, LlmSettings, Secret};
use jarvis::db::Db;
use jarvis::db::chat::{ChatMessageMeta, NewChatMessage};
use jarvis::db::usage::NewUsage;
use jarvis_domain::agent::{Block, Message, Role};
use jarvis_domain::cost::{Provider, Usage};
use jarvis_sim::{SimConfig, SimServer};
use serde_json::{Value, json};

use crate::harness::{TestServer, config, pve_for};

/// A server with a Claude key (never used: nothing here calls a model) and a $1 daily cap.
async fn server() -> (TestServer, Db) {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimServer::start(SimConfig::default()).await.expect("simulator starts");
    let mut cfg = config(pve_for(&sim), dir.path().join("jarvis.db"));
    cfg.llm = LlmSettings {
        claude: Some(ClaudeSettings {
            api_key: Secret::new("sk-ant-test".into()),
            base_url: "http://127.0.0.1:9".into(),
            model: "claude-sonnet-4-5".into(),
            max_tokens: 1024,
        }),
        daily_cost_limit_usd: 1.0,
        ..LlmSettings::default()
    };
    let s = TestServer::start_config(cfg, Some(sim), dir).await;
    let db = Db::open(&s.db_path).await.unwrap();
    (s, db)
}

fn usage(at: DateTime<Utc>, provider: Provider, cost: f64, session: Option<&str>) -> NewUsage {
    NewUsage {
        session_id: session.map(str::to_owned),
        at,
        provider,
        model: match provider {
            Provider::Claude => "claude-sonnet-4-5",
            Provider::Local => "local",
        }
        .into(),
        usage: Usage::new(1_000_000, 100_000),
        cost_usd: cost,
        estimated: false,
    }
}

fn message(session: &str, message: Message, provider: Option<&str>) -> NewChatMessage {
    NewChatMessage {
        session_id: session.into(),
        message,
        provider: provider.map(str::to_owned),
        model: provider.map(|_| "claude-sonnet-4-5".to_owned()),
        input_tokens: 10,
        output_tokens: 5,
        cost_usd: 0.001,
        meta: ChatMessageMeta::default(),
        at: Utc::now(),
    }
}

/// Waits out the last seconds of a UTC day so "today" cannot change under a test.
async fn not_at_midnight() {
    let secs_left = 86_400 - i64::from(Utc::now().time().num_seconds_from_midnight());
    if secs_left < 30 {
        tokio::time::sleep(Duration::from_secs(secs_left.unsigned_abs() + 1)).await;
    }
}

#[tokio::test]
async fn every_chat_cost_and_routing_route_needs_the_token() {
    let (s, _db) = server().await;
    for path in [
        "/api/chat/status",
        "/api/chat/sessions",
        "/api/chat/sessions/x",
        "/api/cost/summary",
        "/api/cost/sessions",
        "/api/cost/history",
        "/api/cost/budget",
        "/api/routing",
    ] {
        let r = s.http.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
    let r = s.http.put(s.url("/api/routing")).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn status_names_the_providers_and_the_label() {
    let (s, _db) = server().await;
    let token = s.login().await;
    let (status, body) = s.get_json("/api/chat/status", &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["claude"], json!({"configured": true, "model": "claude-sonnet-4-5"}));
    assert_eq!(body["local"], json!({"configured": false, "model": null}));
    assert_eq!((body["scripted"].clone(), body["label"].clone()), (json!(false), json!("JARVIS")));
    let help = &body["slashCommands"][0];
    assert_eq!((help["command"].as_str(), help["usage"].as_str()), (Some("help"), Some("/help")));
    assert!(body["slashCommands"].as_array().unwrap().len() > 5, "{body}");
    assert!(!body.to_string().contains("sk-ant-test"), "key leaked: {body}");
}

#[tokio::test]
async fn sessions_list_and_detail_fold_tool_results() {
    let (s, db) = server().await;
    let token = s.login().await;
    let t0 = Utc::now() - chrono::Duration::minutes(10);
    db.create_chat_session("old".into(), "Older".into(), "operator".into(), t0).await.unwrap();
    db.create_chat_session("s1".into(), "Stop a VM".into(), "operator".into(), t0).await.unwrap();
    db.append_chat_message(message("s1", Message::user("stop 101"), None)).await.unwrap();
    let asked = Message {
        role: Role::Assistant,
        blocks: vec![
            Block::text("Stopping."),
            Block::ToolUse {
                id: "tu1".into(),
                name: "stop_vm".into(),
                input: json!({"vmid": 101}),
            },
        ],
    };
    let mut asked = message("s1", asked, Some("claude"));
    asked.meta.confirmations.insert("tu1".into(), "conf-1".into());
    db.append_chat_message(asked).await.unwrap();
    let results = Message {
        role: Role::User,
        blocks: vec![Block::ToolResult {
            tool_use_id: "tu1".into(),
            content: "Denied: the operator said no.".into(),
            is_error: true,
        }],
    };
    db.append_chat_message(message("s1", results, None)).await.unwrap();
    db.append_chat_message(message("s1", Message::assistant("Not stopped."), Some("claude")))
        .await
        .unwrap();

    let (status, body) = s.get_json("/api/chat/sessions", &token).await;
    assert_eq!(status, 200, "{body}");
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions[0]["id"], "s1", "most recently updated first: {body}");
    assert_eq!(sessions[0]["messageCount"], 3);
    assert_eq!(sessions[1]["id"], "old");
    let (_, body) = s.get_json("/api/chat/sessions?limit=1", &token).await;
    assert_eq!(body["sessions"].as_array().unwrap().len(), 1);

    let (status, body) = s.get_json("/api/chat/sessions/s1", &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["session"]["title"], "Stop a VM");
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{body}");
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["provider"], Value::Null);
    let call = &messages[1]["toolCalls"][0];
    assert_eq!(messages[1]["content"], "Stopping.");
    assert_eq!(call["name"], "stop_vm");
    assert_eq!(call["status"], "denied");
    assert_eq!(call["tier"], "red");
    assert_eq!(call["confirmationId"], "conf-1");
    assert_eq!(call["result"], "Denied: the operator said no.");
    assert_eq!(messages[2]["content"], "Not stopped.");
    for key in ["id", "sessionId", "inputTokens", "outputTokens", "costUsd", "createdAt", "model"] {
        assert!(messages[2].get(key).is_some(), "missing {key}");
    }

    let (status, body) = s.get_json("/api/chat/sessions/nope", &token).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
    for bad in ["limit=0", "limit=501", "limit=abc", "bogus=1"] {
        let (status, body) = s.get_json(&format!("/api/chat/sessions?{bad}"), &token).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_query")), "{bad}");
    }
}

#[tokio::test]
async fn cost_summary_sessions_and_zero_filled_history() {
    not_at_midnight().await;
    let (s, db) = server().await;
    let token = s.login().await;
    let now = Utc::now();
    db.create_chat_session("c1".into(), "Costly".into(), "operator".into(), now).await.unwrap();
    db.record_llm_usage(usage(now, Provider::Claude, 0.6, Some("c1"))).await.unwrap();
    db.record_llm_usage(usage(now, Provider::Local, 0.0, Some("c1"))).await.unwrap();

    let (status, body) = s.get_json("/api/cost/summary?period=daily", &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["period"], "daily");
    assert_eq!(body["totalUsd"], 0.6);
    assert_eq!((body["messages"].as_u64(), body["localMessages"].as_u64()), (Some(2), Some(1)));
    assert_eq!(body["localShare"], 0.5);
    // 1M input + 100k output tokens at claude-sonnet-4-5's $3 / $15 per Mtok.
    assert_eq!(body["savingsUsd"], 4.5);
    assert_eq!(body["byModel"].as_array().unwrap().len(), 2);
    assert!(body["since"].is_string() && body["until"].is_string());
    for period in ["weekly", "monthly"] {
        let (status, body) =
            s.get_json(&format!("/api/cost/summary?period={period}"), &token).await;
        assert_eq!((status, body["totalUsd"].as_f64()), (200, Some(0.6)), "{period}");
    }
    let (status, body) = s.get_json("/api/cost/summary?period=yearly", &token).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_query")));

    let (status, body) = s.get_json("/api/cost/sessions?limit=5", &token).await;
    assert_eq!(status, 200, "{body}");
    let row = &body["sessions"][0];
    assert_eq!((row["sessionId"].as_str(), row["title"].as_str()), (Some("c1"), Some("Costly")));
    assert_eq!((row["costUsd"].as_f64(), row["messages"].as_u64()), (Some(0.6), Some(2)));

    let (status, body) = s.get_json("/api/cost/history?days=3", &token).await;
    assert_eq!(status, 200, "{body}");
    let days = body["history"].as_array().unwrap();
    assert_eq!(days.len(), 3);
    let today = now.date_naive().to_string();
    assert_eq!(days[2]["date"], today.as_str());
    assert_eq!(
        (days[2]["costUsd"].as_f64(), days[2]["claudeMessages"].as_u64()),
        (Some(0.6), Some(1))
    );
    for day in &days[..2] {
        assert_eq!(day["costUsd"], 0.0, "{day}");
        assert_eq!(
            (day["claudeMessages"].as_u64(), day["localMessages"].as_u64()),
            (Some(0), Some(0))
        );
    }
    let (_, body) = s.get_json("/api/cost/history", &token).await;
    assert_eq!(body["history"].as_array().unwrap().len(), 30, "default 30 days");
    for bad in ["days=0", "days=367", "days=x"] {
        let (status, _) = s.get_json(&format!("/api/cost/history?{bad}"), &token).await;
        assert_eq!(status, 400, "{bad}");
    }
}

#[tokio::test]
async fn budget_counts_today_only_and_trips_at_the_limit() {
    not_at_midnight().await;
    let (s, db) = server().await;
    let token = s.login().await;
    let midnight = Utc.from_utc_datetime(&Utc::now().date_naive().and_time(NaiveTime::MIN));
    let before = midnight - chrono::Duration::minutes(1); // 23:59 yesterday
    let after = midnight + chrono::Duration::minutes(1); // 00:01 today
    db.record_llm_usage(usage(before, Provider::Claude, 5.0, None)).await.unwrap();
    db.record_llm_usage(usage(after, Provider::Claude, 0.4, None)).await.unwrap();

    let (status, body) = s.get_json("/api/cost/budget", &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["dailyLimitUsd"], 1.0);
    assert_eq!(body["spentUsd"], 0.4, "yesterday's 23:59 spend does not count: {body}");
    assert_eq!(
        (body["remainingUsd"].as_f64(), body["percentUsed"].as_f64()),
        (Some(0.6), Some(40.0))
    );
    assert_eq!(body["exceeded"], false);

    db.record_llm_usage(usage(after, Provider::Claude, 0.7, None)).await.unwrap();
    let (_, body) = s.get_json("/api/cost/budget", &token).await;
    assert_eq!(
        (body["exceeded"].as_bool(), body["remainingUsd"].as_f64()),
        (Some(true), Some(0.0))
    );
    assert_eq!(body["spentUsd"], 1.1);
}

fn valid_routing() -> Value {
    json!({
        "toolKeywords": ["restart*", "status"],
        "smalltalkPatterns": ["hello"],
        "localContextLimitTokens": 2048,
        "preferClaudeForTools": ["execute_ssh"],
        "dailyBudgetUsd": 0.0
    })
}

#[tokio::test]
async fn routing_defaults_update_and_reject_invalid_rules_without_changing_anything() {
    let (s, db) = server().await;
    let token = s.login().await;
    let (status, defaults) = s.get_json("/api/routing", &token).await;
    assert_eq!(status, 200, "{defaults}");
    assert_eq!(defaults["dailyBudgetUsd"], 1.0, "DAILY_COST_LIMIT until set");
    assert!(defaults["toolKeywords"].as_array().unwrap().len() > 10);
    assert_eq!(defaults["localContextLimitTokens"], 3072);

    let (status, body) = s.put_json("/api/routing", &token, valid_routing()).await;
    assert_eq!((status, &body), (200, &valid_routing()));
    let (_, body) = s.get_json("/api/routing", &token).await;
    assert_eq!(body, valid_routing());
    // Budget 0 = no cap: spending cannot exceed it.
    db.record_llm_usage(usage(Utc::now(), Provider::Claude, 50.0, None)).await.unwrap();
    let (_, budget) = s.get_json("/api/cost/budget", &token).await;
    assert_eq!(
        (budget["dailyLimitUsd"].as_f64(), budget["exceeded"].as_bool()),
        (Some(0.0), Some(false))
    );

    let mut bad = valid_routing();
    bad["toolKeywords"] = json!([]);
    bad["preferClaudeForTools"] = json!(["rm_rf"]);
    bad["localContextLimitTokens"] = json!(5);
    bad["dailyBudgetUsd"] = json!(-2);
    let (status, body) = s.put_json("/api/routing", &token, bad).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_request")), "{body}");
    let text = body["error"]["message"].as_str().unwrap();
    for field in
        ["toolKeywords", "preferClaudeForTools", "localContextLimitTokens", "dailyBudgetUsd"]
    {
        assert!(text.contains(field), "{field} missing in {text}");
    }
    let mut missing = valid_routing();
    missing.as_object_mut().unwrap().remove("smalltalkPatterns");
    let mut wrong_type = valid_routing();
    wrong_type["localContextLimitTokens"] = json!("big");
    let mut unknown = valid_routing();
    unknown["extra"] = json!(1);
    for body in [missing, wrong_type, unknown, json!([1, 2])] {
        let (status, answer) = s.put_json("/api/routing", &token, body.clone()).await;
        assert_eq!(status, 400, "{body} → {answer}");
    }
    let huge = json!({"toolKeywords": vec!["x".repeat(1000); 2000]});
    let (status, body) = s.put_json("/api/routing", &token, huge).await;
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("payload_too_large")));
    let (_, body) = s.get_json("/api/routing", &token).await;
    assert_eq!(body, valid_routing(), "rejected updates change nothing");
}
