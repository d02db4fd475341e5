//! The `/chat` namespace end to end: a real server, the simulated cluster, scripted LLM servers
//! speaking the Anthropic and OpenAI wire formats, and a Socket.IO client on the real protocol.

use std::time::Duration;

use jarvis::config::{ClaudeSettings, LlmSettings, LocalSettings, Secret};
use jarvis_sim::{Script, ScriptedLlm, ScriptedLlmHandle, ToolCall, Turn};
use serde_json::{Value, json};

use crate::harness::{Options, TestServer};
use crate::sio::{SioClient, named};

fn claude(llm: &ScriptedLlmHandle) -> ClaudeSettings {
    ClaudeSettings {
        api_key: Secret::new("sk-test".into()),
        base_url: llm.base_url(),
        model: "claude-sonnet-4-5".into(),
        max_tokens: 1024,
    }
}

fn local(llm: &ScriptedLlmHandle) -> LocalSettings {
    LocalSettings {
        endpoint: llm.base_url(),
        model: "smollm2".into(),
        context_window: 8192,
        api_key: None,
    }
}

pub async fn server(
    claude_llm: Option<&ScriptedLlmHandle>,
    local_llm: Option<&ScriptedLlmHandle>,
) -> TestServer {
    server_with(claude_llm, local_llm, |_| {}).await
}

pub async fn server_with(
    claude_llm: Option<&ScriptedLlmHandle>,
    local_llm: Option<&ScriptedLlmHandle>,
    tweak: impl FnOnce(&mut LlmSettings),
) -> TestServer {
    let mut llm = LlmSettings {
        claude: claude_llm.map(claude),
        local: local_llm.map(local),
        ..LlmSettings::default()
    };
    tweak(&mut llm);
    TestServer::start_opts(Options { llm: Some(llm), ..Options::default() }).await
}

pub async fn ready(s: &TestServer) -> (String, SioClient) {
    let token = s.login().await;
    s.wait_cluster(&token, 10, |c| c["vms"].as_array().is_some_and(|v| !v.is_empty())).await;
    let c = SioClient::connect(s, "/chat", &token).await;
    (token, c)
}

async fn vm_status(s: &TestServer, token: &str, vmid: u64) -> String {
    let (_, cluster) = s.get_json("/api/cluster", token).await;
    cluster["vms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vmid"] == vmid)
        .map(|v| v["status"].as_str().unwrap().to_owned())
        .unwrap()
}

fn stop_101() -> Script {
    Script::new(vec![
        Turn::TextThenTools {
            text: "Stopping VM 101, sir.".into(),
            calls: vec![ToolCall::new(
                "toolu_stop",
                "stop_vm",
                json!({"node": "pve1", "vmid": 101}),
            )],
        },
        Turn::text("VM 101 has been stopped."),
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn red_tool_pauses_survives_rejoin_and_runs_once_after_approval() {
    let llm = ScriptedLlm::start(stop_101()).await.unwrap();
    let s = server(Some(&llm), None).await;
    let (token, c) = ready(&s).await;
    assert_eq!(vm_status(&s, &token, 101).await, "running");

    let ack = c.call("chat:send", json!({"message": "please stop vm 101"})).await;
    let session = ack["sessionId"].as_str().expect("session id in ack").to_owned();
    let stored_user = c.wait_for("chat:message", 10).await;
    assert_eq!(stored_user["message"]["content"], "please stop vm 101");
    assert!(stored_user["message"]["id"].as_i64().unwrap() > 0, "{stored_user}");
    let route = c.wait_for("chat:route", 10).await;
    assert_eq!(route["provider"], "claude");
    assert_eq!(route["reasonCode"], "toolIntent", "{route}");
    assert_eq!(route["sessionId"], session);
    let tool_use = c.wait_for("chat:tool_use", 10).await;
    assert_eq!(tool_use["toolName"], "stop_vm");
    assert_eq!(tool_use["tier"], "red");
    let needed = c.wait_for("chat:confirm_needed", 10).await;
    assert_eq!(needed["toolUseId"], "toolu_stop");
    assert!(needed["summary"].as_str().unwrap().contains("101"));
    let confirmation = needed["confirmationId"].as_str().unwrap().to_owned();

    // Nothing ran yet, and the turn waits.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(vm_status(&s, &token, 101).await, "running");
    assert_eq!(llm.requests().len(), 1, "the model is not called again before the decision");

    // A reloaded page: a new socket joins the session and sees the pending card.
    let c2 = SioClient::connect(&s, "/chat", &token).await;
    let joined = c2.call("chat:join", json!({"sessionId": session})).await;
    assert_eq!(joined["running"], true, "{joined}");
    assert_eq!(joined["pending"]["confirmationId"], confirmation.as_str());
    let messages = joined["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["content"], "please stop vm 101");
    assert!(messages.iter().any(|m| m["toolCalls"].as_array().is_some_and(|t| !t.is_empty())));

    let ok = c2
        .call(
            "chat:confirm",
            json!({"sessionId": session, "confirmationId": confirmation, "approve": true}),
        )
        .await;
    assert_eq!(ok["ok"], true, "{ok}");
    let events = c2.collect_until("chat:done", 20).await;
    let results = named(&events, "chat:tool_result");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["isError"], false, "{:?}", results[0]);
    let text: String =
        named(&events, "chat:token").iter().map(|t| t["text"].as_str().unwrap()).collect();
    assert_eq!(text, "VM 101 has been stopped.");
    let done = named(&events, "chat:done")[0];
    assert_eq!(done["stopReason"], "end_turn");
    assert!(done["usage"]["inputTokens"].as_u64().unwrap() > 0);
    assert!(done["costUsd"].as_f64().unwrap() > 0.0);

    // The model's second request carried the result for the call it made.
    let second = &llm.requests()[1];
    let last = second["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["role"], "user");
    assert_eq!(last["content"][0]["type"], "tool_result");
    assert_eq!(last["content"][0]["tool_use_id"], "toolu_stop");
    // Executed once: one approval in the audit log, and a second approval is refused.
    let again = c2
        .call(
            "chat:confirm",
            json!({"sessionId": session, "confirmationId": confirmation, "approve": true}),
        )
        .await;
    assert_eq!(again["error"]["code"], "not_found", "{again}");
    let (_, audit) = s.get_json("/api/audit?tool=stop_vm", &token).await;
    let executed =
        audit["entries"].as_array().unwrap().iter().filter(|e| e["decision"] == "executed").count();
    assert_eq!(executed, 1, "{audit}");
    s.wait_cluster(&token, 10, |c| {
        c["vms"].as_array().unwrap().iter().any(|v| v["vmid"] == 101 && v["status"] == "stopped")
    })
    .await;

    // The first socket saw the same turn finish (it followed the session).
    c.wait_for("chat:done", 10).await;
    // Every turn is stored with tokens and cost.
    let (status, stored) = s.get_json(&format!("/api/chat/sessions/{session}"), &token).await;
    assert_eq!(status, 200);
    let stored = stored["messages"].as_array().unwrap();
    let assistant: Vec<&Value> = stored.iter().filter(|m| m["role"] == "assistant").collect();
    assert_eq!(assistant.len(), 2, "{stored:?}");
    assert_eq!(assistant[0]["provider"], "claude");
    assert!(assistant[0]["inputTokens"].as_u64().unwrap() > 0);
    assert_eq!(assistant[0]["toolCalls"][0]["status"], "ok");
    let (_, summary) = s.get_json("/api/cost/summary?period=daily", &token).await;
    assert_eq!(summary["messages"], 2, "{summary}");
    // Health and metrics know about the calls.
    let (_, health) = s.get_json("/api/health", &token).await;
    let claude = &health["components"]["claude"];
    assert_eq!(claude["status"], "ok", "{health}");
    assert!(claude["detail"].as_str().unwrap().contains("last call succeeded"), "{claude}");
    assert_eq!(health["components"]["local"]["status"], "disabled");
    let metrics = s.http.get(s.url("/metrics")).bearer_auth(&token).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains(r#"jarvis_llm_tokens_total{provider="claude",kind="output"}"#),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn denial_is_answered_to_the_model_and_nothing_runs() {
    let llm = ScriptedLlm::start(stop_101()).await.unwrap();
    let s = server(Some(&llm), None).await;
    let (token, c) = ready(&s).await;
    let ack = c.call("chat:send", json!({"message": "stop vm 101"})).await;
    let session = ack["sessionId"].as_str().unwrap().to_owned();
    let needed = c.wait_for("chat:confirm_needed", 10).await;
    let ok = c
        .call(
            "chat:confirm",
            json!({"sessionId": session, "confirmationId": needed["confirmationId"], "approve": false}),
        )
        .await;
    assert_eq!(ok["ok"], true);
    let events = c.collect_until("chat:done", 20).await;
    let result = named(&events, "chat:tool_result")[0];
    assert_eq!(result["isError"], true);
    assert!(result["result"].as_str().unwrap().starts_with("Denied:"), "{result}");
    let second = &llm.requests()[1];
    let last = second["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["content"][0]["is_error"], true);
    assert_eq!(vm_status(&s, &token, 101).await, "running");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decision_made_in_the_dashboard_resumes_the_turn() {
    let llm = ScriptedLlm::start(stop_101()).await.unwrap();
    let s = server(Some(&llm), None).await;
    let (token, c) = ready(&s).await;
    c.call("chat:send", json!({"message": "stop vm 101"})).await;
    let needed = c.wait_for("chat:confirm_needed", 10).await;
    let id = needed["confirmationId"].as_str().unwrap();
    let (status, _) = s
        .post_json(&format!("/api/confirmations/{id}"), &token, json!({"decision": "approve"}))
        .await;
    assert_eq!(status, 200);
    let events = c.collect_until("chat:done", 20).await;
    assert_eq!(named(&events, "chat:tool_result")[0]["isError"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn parallel_tool_calls_are_all_answered_in_order() {
    let llm = ScriptedLlm::start(Script::new(vec![
        Turn::ToolCalls {
            calls: vec![
                ToolCall::new("toolu_a", "get_vms", json!({})),
                ToolCall::new("toolu_b", "get_node_status", json!({"node": "pve1"})),
                ToolCall::new("toolu_c", "no_such_tool", json!({})),
            ],
        },
        Turn::text("pve1 is fine."),
    ]))
    .await
    .unwrap();
    let s = server(Some(&llm), None).await;
    let (_, c) = ready(&s).await;
    c.call("chat:send", json!({"message": "show me the vms and node status"})).await;
    let events = c.collect_until("chat:done", 20).await;
    let results = named(&events, "chat:tool_result");
    assert_eq!(results.len(), 3);
    let by_id = |id: &str| (*results.iter().find(|r| r["toolUseId"] == id).unwrap()).clone();
    assert_eq!(by_id("toolu_a")["isError"], false);
    assert_eq!(by_id("toolu_b")["isError"], false);
    assert_eq!(by_id("toolu_c")["isError"], true);
    assert_eq!(named(&events, "chat:tool_use")[2]["tier"], "black");
    let second = &llm.requests()[1];
    let answers = second["messages"].as_array().unwrap().last().unwrap()["content"].clone();
    let ids: Vec<&str> =
        answers.as_array().unwrap().iter().map(|b| b["tool_use_id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["toolu_a", "toolu_b", "toolu_c"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn abort_stops_a_streaming_turn() {
    let llm = ScriptedLlm::start(Script::new(vec![Turn::Slow {
        text: "This is a long and slow answer that takes a while to arrive in full.".into(),
        delay_ms_per_chunk: 150,
    }]))
    .await
    .unwrap();
    let s = server(Some(&llm), None).await;
    let (_, c) = ready(&s).await;
    let ack = c.call("chat:send", json!({"message": "hello there, tell me a story"})).await;
    let session = ack["sessionId"].as_str().unwrap().to_owned();
    c.wait_for("chat:token", 10).await;
    // A second message while the turn runs is refused.
    let busy = c.call("chat:send", json!({"sessionId": session, "message": "more"})).await;
    assert_eq!(busy["error"]["code"], "busy");
    let ok = c.call("chat:abort", json!({"sessionId": session})).await;
    assert_eq!(ok["ok"], true);
    let done = c.wait_for("chat:done", 10).await;
    assert_eq!(done["stopReason"], "aborted");
    let none = c.call("chat:abort", json!({"sessionId": session})).await;
    assert_eq!(none["error"]["code"], "not_found");
    // The session takes new messages again.
    let joined = c.call("chat:join", json!({"sessionId": session})).await;
    assert_eq!(joined["running"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests_get_clear_errors() {
    let llm = ScriptedLlm::start(Script::named("plain").unwrap()).await.unwrap();
    let s = server(Some(&llm), None).await;
    let (_, c) = ready(&s).await;
    for (payload, code) in [
        (json!({"message": ""}), "invalid_request"),
        (json!({"message": "   "}), "invalid_request"),
        (json!({"message": 42}), "invalid_request"),
        (json!({}), "invalid_request"),
        (json!({"message": "x".repeat(16_001)}), "invalid_request"),
        (json!({"sessionId": "nope", "message": "hi"}), "not_found"),
    ] {
        let ack = c.call("chat:send", payload.clone()).await;
        assert_eq!(ack["error"]["code"], code, "{payload}: {ack}");
    }
    let ack = c.call_raw(json!(["chat:send"])).await;
    assert_eq!(ack["error"]["code"], "invalid_request");
    let ack = c.call("chat:join", json!({"sessionId": "nope"})).await;
    assert_eq!(ack["error"]["code"], "not_found");
    let ack = c
        .call("chat:confirm", json!({"sessionId": "x", "confirmationId": "y", "approve": "yes"}))
        .await;
    assert_eq!(ack["error"]["code"], "invalid_request");
    let ack = c
        .call("chat:confirm", json!({"sessionId": "x", "confirmationId": "y", "approve": true}))
        .await;
    assert_eq!(ack["error"]["code"], "not_found");
    assert_eq!(llm.requests().len(), 0, "nothing reached the model");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_any_model_slash_commands_still_work() {
    let s = server(None, None).await;
    let (token, c) = ready(&s).await;
    c.call("chat:send", json!({"message": "hello"})).await;
    let events = c.collect_until("chat:done", 10).await;
    let route = named(&events, "chat:route")[0];
    assert_eq!(route["provider"], "slash");
    assert_eq!(route["reasonCode"], "noProvider");
    let text: String =
        named(&events, "chat:token").iter().map(|t| t["text"].as_str().unwrap()).collect();
    assert!(text.contains("No language model"), "{text}");
    assert!(text.contains("/status"), "{text}");

    let ack = c.call("chat:send", json!({"message": "/vms"})).await;
    let session = ack["sessionId"].as_str().unwrap().to_owned();
    let events = c.collect_until("chat:done", 10).await;
    assert_eq!(named(&events, "chat:route")[0]["reasonCode"], "slash");
    assert_eq!(named(&events, "chat:tool_use")[0]["toolName"], "get_cluster_resources");
    assert_eq!(named(&events, "chat:tool_result")[0]["isError"], false);
    let text: String =
        named(&events, "chat:token").iter().map(|t| t["text"].as_str().unwrap()).collect();
    assert!(text.contains("101"), "{text}");

    // A RED slash command goes through the same confirmation.
    c.call("chat:send", json!({"sessionId": session, "message": "/stop 101"})).await;
    let needed = c.wait_for("chat:confirm_needed", 10).await;
    assert_eq!(needed["toolName"], "stop_vm");
    c.call(
        "chat:confirm",
        json!({"sessionId": session, "confirmationId": needed["confirmationId"], "approve": true}),
    )
    .await;
    let events = c.collect_until("chat:done", 20).await;
    assert_eq!(named(&events, "chat:tool_result")[0]["isError"], false);
    s.wait_cluster(&token, 10, |c| {
        c["vms"].as_array().unwrap().iter().any(|v| v["vmid"] == 101 && v["status"] == "stopped")
    })
    .await;
    // An unknown command explains itself without running anything.
    c.call("chat:send", json!({"sessionId": session, "message": "/frobnicate 1"})).await;
    let events = c.collect_until("chat:done", 10).await;
    assert!(named(&events, "chat:tool_use").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_override_passkey_routes_to_claude_and_is_never_stored_or_sent() {
    const KEY: &str = "correct-horse-battery-staple";
    let claude = ScriptedLlm::start(Script::named("plain").unwrap()).await.unwrap();
    let local = ScriptedLlm::start(Script::named("plain").unwrap()).await.unwrap();
    let mut llm = LlmSettings {
        claude: Some(self::claude(&claude)),
        local: Some(self::local(&local)),
        ..LlmSettings::default()
    };
    llm.daily_cost_limit_usd = 0.0;
    let s = TestServer::start_opts(Options {
        llm: Some(llm),
        override_key: Some(KEY),
        ..Options::default()
    })
    .await;
    let (token, c) = ready(&s).await;
    let ack = c.call("chat:send", json!({"message": format!("{KEY} hello there")})).await;
    let session = ack["sessionId"].as_str().unwrap().to_owned();
    let events = c.collect_until("chat:done", 10).await;
    let route = named(&events, "chat:route")[0];
    assert_eq!(route["provider"], "claude", "{route}");
    assert_eq!(route["reasonCode"], "override");
    let sent = serde_json::to_string(&claude.requests()).unwrap();
    assert!(!sent.contains(KEY), "the passkey reached the model");
    assert!(sent.contains("hello there"));
    let (_, stored) = s.get_json(&format!("/api/chat/sessions/{session}"), &token).await;
    assert!(!stored.to_string().contains(KEY), "the passkey was stored: {stored}");
    assert_eq!(stored["messages"][0]["content"], "hello there");
    // A message that is only the passkey is refused, not sent as an empty message.
    let ack = c.call("chat:send", json!({"message": KEY})).await;
    assert_eq!(ack["error"]["code"], "invalid_request");
}
