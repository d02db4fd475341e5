//! [`OpenAiClient`] against a wiremock server (llama.cpp-style streams, HTTP error mapping,
//! truncated streams) and both clients behind `Arc<dyn LlmProvider>`.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jarvis_llm::{
    AnthropicClient, ChatMessage, ChatRequest, LlmError, LlmEvent, LlmProvider, OpenAiClient,
    StopReason, ToolSpec,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn request() -> ChatRequest {
    ChatRequest {
        system: "You are Jarvis.".into(),
        messages: vec![ChatMessage::user("weather?")],
        tools: vec![ToolSpec {
            name: "get_weather".into(),
            description: "Weather".into(),
            input_schema: json!({"type": "object"}),
        }],
        ..Default::default()
    }
}

fn sse(chunks: &[Value], done: bool) -> ResponseTemplate {
    let mut body: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    if done {
        body.push_str("data: [DONE]\n\n");
    }
    ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")
}

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "qwen-local",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
    })
}

/// A llama.cpp-style transcript: text, one tool call whose id/name arrive only in the first
/// chunk and whose arguments are split, `finish_reason`, then a usage-only chunk.
fn llama_transcript() -> Vec<Value> {
    vec![
        chunk(json!({"role": "assistant", "content": null}), None),
        chunk(json!({"content": "Let me "}), None),
        chunk(json!({"content": "check."}), None),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_abc", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"loc"}}]}),
            None,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "ation\": \"Par"}}]}),
            None,
        ),
        chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "is\"}"}}]}), None),
        chunk(json!({}), Some("tool_calls")),
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "qwen-local",
               "choices": [], "usage": {"prompt_tokens": 42, "completion_tokens": 17,
               "total_tokens": 59}}),
    ]
}

#[tokio::test]
async fn streams_text_and_split_tool_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-local"))
        .and(body_partial_json(json!({
            "model": "qwen-local", "stream": true, "max_tokens": 4096,
            "stream_options": {"include_usage": true},
            "messages": [{"role": "system", "content": "You are Jarvis."},
                         {"role": "user", "content": "weather?"}],
            "tools": [{"type": "function", "function": {"name": "get_weather"}}],
        })))
        .respond_with(sse(&llama_transcript(), true))
        .expect(1)
        .mount(&server)
        .await;

    // Base URL given with a trailing `/v1/`, as LOCAL_LLM_ENDPOINT often is.
    let client =
        OpenAiClient::new(format!("{}/v1/", server.uri()), "qwen-local").with_api_key("sk-local");
    let items: Vec<_> = client.stream(request()).await.unwrap().collect().await;
    let events: Vec<LlmEvent> = items.into_iter().map(Result::unwrap).collect();
    assert!(matches!(&events[0], LlmEvent::MessageStart { model, .. } if model == "qwen-local"));
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            LlmEvent::TextDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "Let me check.");
    assert!(events.contains(&LlmEvent::ToolCallStart {
        index: 0,
        id: "call_abc".into(),
        name: "get_weather".into(),
    }));
    assert!(events.contains(&LlmEvent::ToolCallEnd {
        index: 0,
        id: "call_abc".into(),
        name: "get_weather".into(),
        input: json!({"location": "Paris"}),
    }));
    assert!(events.contains(&LlmEvent::Usage { input_tokens: 42, output_tokens: 17 }));
    assert_eq!(events.last(), Some(&LlmEvent::Done { stop_reason: StopReason::ToolUse }));
}

#[tokio::test]
async fn no_api_key_sends_no_authorization() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer x"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(sse(&[chunk(json!({"content": "hi"}), Some("stop"))], true))
        .mount(&server)
        .await;
    let items: Vec<_> =
        OpenAiClient::new(server.uri(), "m").stream(request()).await.unwrap().collect().await;
    assert_eq!(items.last(), Some(&Ok(LlmEvent::Done { stop_reason: StopReason::EndTurn })));
    let reqs = server.received_requests().await.unwrap();
    assert!(reqs.iter().all(|r| !r.headers.contains_key("authorization")));
}

#[tokio::test]
async fn cut_off_stream_yields_error_item() {
    let server = MockServer::start().await;
    let mut transcript = llama_transcript();
    transcript.truncate(5);
    Mock::given(method("POST")).respond_with(sse(&transcript, false)).mount(&server).await;
    let client = OpenAiClient::new(server.uri(), "m");
    let items: Vec<_> = client.stream(request()).await.unwrap().collect().await;
    assert!(items[..items.len() - 1].iter().all(Result::is_ok), "{items:?}");
    assert!(matches!(items.last(), Some(Err(LlmError::Stream(_)))), "{items:?}");
}

async fn http_error(status: u16, body: Value, retry_after: Option<&str>) -> LlmError {
    let server = MockServer::start().await;
    let mut resp = ResponseTemplate::new(status).set_body_json(body);
    if let Some(secs) = retry_after {
        resp = resp.insert_header("retry-after", secs);
    }
    Mock::given(method("POST")).respond_with(resp).mount(&server).await;
    match OpenAiClient::new(server.uri(), "m").stream(request()).await {
        Ok(_) => panic!("HTTP {status} must fail before streaming"),
        Err(e) => e,
    }
}

fn oai_error(message: &str, kind: &str) -> Value {
    json!({"error": {"message": message, "type": kind, "code": null}})
}

#[tokio::test]
async fn http_errors_are_mapped() {
    assert_eq!(
        http_error(429, oai_error("slow down", "rate_limit_exceeded"), Some("7")).await,
        LlmError::RateLimited { retry_after: Some(Duration::from_secs(7)) }
    );
    let loading = json!({"error": {"code": 503, "message": "Loading model",
                                   "type": "unavailable_error"}});
    assert_eq!(http_error(503, loading, None).await, LlmError::Overloaded { retry_after: None });
    assert_eq!(
        http_error(529, json!({}), Some("2")).await,
        LlmError::Overloaded { retry_after: Some(Duration::from_secs(2)) }
    );
    assert_eq!(
        http_error(401, oai_error("Invalid API Key", "authentication_error"), None).await,
        LlmError::Auth("Invalid API Key".into())
    );
    assert_eq!(
        http_error(400, oai_error("context too long", "invalid_request_error"), None).await,
        LlmError::Http { status: 400, message: "context too long".into() }
    );
    let e = http_error(500, json!({"detail": "x"}), None).await;
    assert!(matches!(&e, LlmError::Http { status: 500, message } if message.contains("detail")));
    assert!(e.should_fall_back());
}

#[tokio::test]
async fn unreachable_server_is_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let down = OpenAiClient::new(format!("http://127.0.0.1:{port}"), "m");
    match down.stream(request()).await {
        Err(e @ LlmError::Connect(_)) => assert!(e.should_fall_back()),
        Err(other) => panic!("expected Connect, got {other:?}"),
        Ok(_) => panic!("expected Connect error"),
    }
}

#[tokio::test]
async fn both_clients_work_as_dyn_provider() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(sse(&[chunk(json!({"content": "local"}), Some("stop"))], true))
        .mount(&server)
        .await;
    let anthropic_sse = concat!(
        "event: message_start\n",
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",",
        "\"role\":\"assistant\",\"model\":\"claude-test\",\"content\":[],\"stop_reason\":null,",
        "\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\n",
        "data: {\"type\":\"content_block_start\",\"index\":0,",
        "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,",
        "\"delta\":{\"type\":\"text_delta\",\"text\":\"claude\"}}\n\n",
        "event: content_block_stop\n",
        "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_delta\n",
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},",
        "\"usage\":{\"output_tokens\":2}}\n\n",
        "event: message_stop\n",
        "data: {\"type\":\"message_stop\"}\n\n",
    );
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(anthropic_sse, "text/event-stream"))
        .mount(&server)
        .await;

    let providers: Vec<Arc<dyn LlmProvider>> = vec![
        Arc::new(AnthropicClient::new("k", "claude-test").with_base_url(server.uri())),
        Arc::new(OpenAiClient::new(server.uri(), "qwen-local")),
    ];
    let mut seen = Vec::new();
    for p in &providers {
        let events: Vec<LlmEvent> =
            p.stream(request()).await.unwrap().map(Result::unwrap).collect().await;
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                LlmEvent::TextDelta(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(events.last(), Some(&LlmEvent::Done { stop_reason: StopReason::EndTurn }));
        seen.push((p.name(), p.model().to_owned(), text));
    }
    assert_eq!(
        seen,
        vec![
            ("claude", "claude-test".to_owned(), "claude".to_owned()),
            ("local", "qwen-local".to_owned(), "local".to_owned()),
        ]
    );
}
