//! A chat turn against a real local OpenAI-compatible server (llama-cpp-python serving
//! SmolLM2, installed by `scripts/install-test-deps.sh`): the reply streams to the client, the
//! route says why it went local, and the call's usage is recorded (estimated: this server sends
//! no usage while streaming).

use jarvis::config::{LlmSettings, LocalSettings};
use jarvis_sim::{LOCAL_CONTEXT_WINDOW, LOCAL_MODEL_ALIAS, LocalLlmServer};
use serde_json::json;

use crate::harness::{Options, TestServer};
use crate::sio::{SioClient, named};

#[tokio::test(flavor = "multi_thread")]
async fn a_chat_turn_streams_from_a_real_local_model_and_records_usage() {
    let logs = tempfile::tempdir().unwrap();
    let llm_server = LocalLlmServer::start(logs.path()).await;
    let llm = LlmSettings {
        local: Some(LocalSettings {
            endpoint: llm_server.base_url(),
            model: LOCAL_MODEL_ALIAS.into(),
            context_window: LOCAL_CONTEXT_WINDOW,
            api_key: None,
        }),
        ..LlmSettings::default()
    };
    let s = TestServer::start_opts(Options { llm: Some(llm), ..Options::default() }).await;
    let token = s.login().await;
    let c = SioClient::connect(&s, "/chat", &token).await;
    let ack = c.call("chat:send", json!({"message": "hello, who are you?"})).await;
    let session = ack["sessionId"].as_str().expect("session id").to_owned();
    let events = c.collect_until("chat:done", 240).await;

    let route = named(&events, "chat:route")[0];
    assert_eq!(route["provider"], "local", "{route}");
    assert_eq!(route["reasonCode"], "noClaudeKey");
    assert!(named(&events, "chat:error").is_empty(), "{events:?}\n{}", llm_server.log_tail());
    let text: String =
        named(&events, "chat:token").iter().map(|t| t["text"].as_str().unwrap()).collect();
    assert!(!text.trim().is_empty(), "the model said something");
    let done = named(&events, "chat:done")[0];
    assert_eq!(done["provider"], "local");
    assert_eq!(done["model"], LOCAL_MODEL_ALIAS);
    assert!(done["usage"]["inputTokens"].as_u64().unwrap() > 0, "{done}");
    assert!(done["usage"]["outputTokens"].as_u64().unwrap() > 0, "{done}");

    // Stored: the reply with its provider, and one local call in the cost records.
    let (_, stored) = s.get_json(&format!("/api/chat/sessions/{session}"), &token).await;
    let reply = stored["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(reply["role"], "assistant");
    assert_eq!(reply["provider"], "local");
    assert_eq!(reply["content"].as_str().unwrap(), text);
    let (_, summary) = s.get_json("/api/cost/summary?period=daily", &token).await;
    assert_eq!(summary["localMessages"], 1, "{summary}");
    assert_eq!(summary["totalUsd"], 0.0, "local calls are free");
}
