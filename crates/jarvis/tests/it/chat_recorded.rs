//! Recorded Anthropic transcripts (`fixtures/anthropic`, published by Anthropic) replayed
//! byte for byte by a server at `ANTHROPIC_BASE_URL`: the text that reaches the chat client is
//! exactly the recorded text, and recorded tool calls arrive with complete, correct arguments.
//! The expectations are computed from the recordings here, independently of `jarvis-llm`.

use std::path::PathBuf;

use axum::Router;
use axum::http::header;
use axum::routing::post;
use jarvis::config::{ClaudeSettings, LlmSettings, Secret};
use serde_json::{Map, Value, json};

use crate::harness::{Options, TestServer};
use crate::sio::{SioClient, named};

fn fixture(name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/anthropic");
    std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("fixture {name} in {}: {e}", dir.display()))
}

/// The text and the tool calls (name → arguments) a recording contains.
fn expected(sse: &str) -> (String, Vec<(String, Value)>) {
    let mut text = String::new();
    let mut tools: Map<String, Value> = Map::new();
    let mut names: Vec<(u64, String)> = Vec::new();
    for line in sse.lines() {
        let Some(data) = line.strip_prefix("data:") else { continue };
        let Ok(v) = serde_json::from_str::<Value>(data.trim()) else { continue };
        let index = v["index"].as_u64().unwrap_or(0);
        match v["type"].as_str() {
            Some("content_block_start") if v["content_block"]["type"] == "tool_use" => {
                names.push((index, v["content_block"]["name"].as_str().unwrap().to_owned()));
                tools.insert(index.to_string(), json!(""));
            }
            Some("content_block_delta") => match v["delta"]["type"].as_str() {
                Some("text_delta") => text.push_str(v["delta"]["text"].as_str().unwrap()),
                Some("input_json_delta") => {
                    let so_far = tools[&index.to_string()].as_str().unwrap().to_owned();
                    tools[&index.to_string()] =
                        json!(so_far + v["delta"]["partial_json"].as_str().unwrap());
                }
                _ => {}
            },
            _ => {}
        }
    }
    let calls = names
        .into_iter()
        .map(|(i, name)| {
            let raw = tools[&i.to_string()].as_str().unwrap().to_owned();
            (name, if raw.is_empty() { json!({}) } else { serde_json::from_str(&raw).unwrap() })
        })
        .collect();
    (text, calls)
}

/// Serves `body` for every `POST /v1/messages`.
async fn replay(body: String) -> String {
    let app = Router::new().route(
        "/v1/messages",
        post(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "text/event-stream")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn run(name: &str) -> (Vec<crate::sio::SioEvent>, String, Vec<(String, Value)>) {
    let body = fixture(name);
    let (text, calls) = expected(&body);
    let llm = LlmSettings {
        claude: Some(ClaudeSettings {
            api_key: Secret::new("sk-recorded".into()),
            base_url: replay(body).await,
            model: "claude-sonnet-4-5".into(),
            max_tokens: 1024,
        }),
        // One model call: a recorded tool call is shown but the recording cannot continue.
        max_loop: 1,
        ..LlmSettings::default()
    };
    let s = TestServer::start_opts(Options { llm: Some(llm), ..Options::default() }).await;
    let token = s.login().await;
    let c = SioClient::connect(&s, "/chat", &token).await;
    c.call("chat:send", json!({"message": "what is the weather and the status of vm 101"})).await;
    let events = c.collect_until("chat:done", 20).await;
    (events, text, calls)
}

fn streamed(events: &[crate::sio::SioEvent]) -> String {
    named(events, "chat:token").iter().map(|t| t["text"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn recorded_text_streams_intact() {
    for name in ["docs-basic.sse", "py-basic_response.sse", "ts-basic_response.sse"] {
        let (events, text, _) = run(name).await;
        assert!(!text.is_empty(), "{name} has text");
        assert_eq!(streamed(&events), text, "{name}");
        assert!(named(&events, "chat:token").len() > 1, "{name}: streamed in pieces");
        let done = named(&events, "chat:done")[0];
        assert_eq!(done["stopReason"], "end_turn", "{name}");
        assert!(done["usage"]["outputTokens"].as_u64().unwrap() > 0, "{name}: recorded usage");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn recorded_tool_calls_arrive_with_complete_arguments() {
    for name in ["docs-tool_use.sse", "py-tool_use_response.sse", "ts-tool_use_response.sse"] {
        let (events, text, calls) = run(name).await;
        assert!(!calls.is_empty(), "{name} has a tool call");
        assert_eq!(streamed(&events), text, "{name}");
        let uses = named(&events, "chat:tool_use");
        assert_eq!(uses.len(), calls.len(), "{name}");
        for (seen, (tool, input)) in uses.iter().zip(&calls) {
            assert_eq!(seen["toolName"], tool.as_str(), "{name}");
            assert_eq!(&seen["toolInput"], input, "{name}");
        }
        // The recorded tools are not ours and the turn had no tool budget left: nothing ran.
        assert_eq!(named(&events, "chat:done")[0]["stopReason"], "max_iterations", "{name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_overloaded_error_is_reported() {
    let (events, _, _) = run("py-error_overloaded.sse").await;
    let error = named(&events, "chat:error")[0];
    assert_eq!(error["code"], "llm_error");
    assert!(error["message"].as_str().unwrap().contains("overloaded"), "{error}");
    assert_eq!(named(&events, "chat:done")[0]["stopReason"], "error");
}
