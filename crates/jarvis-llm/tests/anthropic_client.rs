//! [`AnthropicClient`] against a wiremock server: headers, body, SSE decoding, HTTP error
//! mapping and truncated streams.

use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt;
use jarvis_llm::{AnthropicClient, ChatMessage, ChatRequest, LlmError, LlmEvent, StopReason};
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fixture(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/anthropic");
    assert!(dir.is_dir(), "Anthropic fixtures directory missing: {}", dir.display());
    std::fs::read(dir.join(name)).expect("fixture readable")
}

fn client(server: &MockServer) -> AnthropicClient {
    AnthropicClient::new("sk-test", "claude-test").with_base_url(format!("{}/", server.uri()))
}

fn request() -> ChatRequest {
    ChatRequest {
        system: "You are Jarvis.".into(),
        messages: vec![ChatMessage::user("weather?")],
        ..Default::default()
    }
}

fn sse(body: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")
}

#[tokio::test]
async fn streams_tool_use_with_headers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", "sk-test"))
        .and(header("anthropic-version", "2023-06-01"))
        .and(body_partial_json(json!({
            "model": "claude-test", "stream": true, "max_tokens": 4096,
            "system": "You are Jarvis.",
        })))
        .respond_with(sse(fixture("docs-tool_use.sse")))
        .expect(1)
        .mount(&server)
        .await;

    let items: Vec<_> = client(&server).stream(request()).await.unwrap().collect().await;
    let events: Vec<LlmEvent> = items.into_iter().map(Result::unwrap).collect();
    assert!(matches!(&events[0], LlmEvent::MessageStart { input_tokens: Some(472), .. }));
    assert!(events.contains(&LlmEvent::ToolCallEnd {
        index: 0,
        id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6".into(),
        name: "get_weather".into(),
        input: json!({"location": "San Francisco, CA", "unit": "fahrenheit"}),
    }));
    assert_eq!(events.last(), Some(&LlmEvent::Done { stop_reason: StopReason::ToolUse }));
}

#[tokio::test]
async fn final_event_without_blank_line_is_flushed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(sse(fixture("py-basic_response.sse")))
        .mount(&server)
        .await;
    let items: Vec<_> = client(&server).stream(request()).await.unwrap().collect().await;
    assert_eq!(items.last(), Some(&Ok(LlmEvent::Done { stop_reason: StopReason::EndTurn })));
}

#[tokio::test]
async fn cut_off_stream_yields_error_item() {
    let server = MockServer::start().await;
    let mut body = fixture("docs-tool_use.sse");
    body.truncate(body.len() / 2);
    Mock::given(method("POST")).respond_with(sse(body)).mount(&server).await;
    let items: Vec<_> = client(&server).stream(request()).await.unwrap().collect().await;
    assert!(items[..items.len() - 1].iter().all(Result::is_ok));
    assert!(matches!(items.last(), Some(Err(LlmError::Stream(_)))), "{items:?}");
}

#[tokio::test]
async fn overloaded_event_in_stream() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(sse(fixture("ts-error_overloaded.sse")))
        .mount(&server)
        .await;
    let items: Vec<_> = client(&server).stream(request()).await.unwrap().collect().await;
    assert_eq!(items, vec![Err(LlmError::Overloaded { retry_after: None })]);
}

async fn http_error(status: u16, kind: &str, retry_after: Option<&str>) -> LlmError {
    let server = MockServer::start().await;
    let mut resp = ResponseTemplate::new(status).set_body_json(json!({
        "type": "error", "error": {"type": kind, "message": format!("{kind} message")}
    }));
    if let Some(secs) = retry_after {
        resp = resp.insert_header("retry-after", secs);
    }
    Mock::given(method("POST")).respond_with(resp).mount(&server).await;
    match client(&server).stream(request()).await {
        Ok(_) => panic!("HTTP {status} must fail before streaming"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn http_errors_are_mapped() {
    assert_eq!(
        http_error(429, "rate_limit_error", Some("7")).await,
        LlmError::RateLimited { retry_after: Some(Duration::from_secs(7)) }
    );
    assert_eq!(
        http_error(529, "overloaded_error", None).await,
        LlmError::Overloaded { retry_after: None }
    );
    assert_eq!(
        http_error(401, "authentication_error", None).await,
        LlmError::Auth("authentication_error message".into())
    );
    assert_eq!(
        http_error(400, "invalid_request_error", None).await,
        LlmError::Http { status: 400, message: "invalid_request_error message".into() }
    );
    assert!(http_error(500, "api_error", None).await.should_fall_back());
}

#[tokio::test]
async fn missing_key_and_unreachable_server() {
    let no_key = AnthropicClient::new("", "m").with_base_url("http://127.0.0.1:9");
    assert!(matches!(no_key.stream(request()).await, Err(LlmError::Auth(_))));

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let down = AnthropicClient::new("k", "m").with_base_url(format!("http://127.0.0.1:{port}"));
    match down.stream(request()).await {
        Err(e @ LlmError::Connect(_)) => assert!(e.should_fall_back()),
        Err(other) => panic!("expected Connect, got {other:?}"),
        Ok(_) => panic!("expected Connect error"),
    }
}

/// A raw server that promises a long body, sends half a transcript, then closes: the
/// transport error must surface as an error item, never as a silent end.
#[tokio::test]
async fn connection_dropped_mid_body_yields_error_item() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut body = fixture("docs-tool_use.sse");
    body.truncate(body.len() / 2);
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = sock.read(&mut buf).await.unwrap();
            req.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&req).to_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let len: usize = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                if req.len() >= end + 4 + len {
                    break;
                }
            }
            assert!(n > 0, "client closed early");
        }
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                    content-length: 100000\r\n\r\n";
        sock.write_all(head.as_bytes()).await.unwrap();
        sock.write_all(&body).await.unwrap();
        sock.flush().await.unwrap();
    });
    let client = AnthropicClient::new("k", "m").with_base_url(format!("http://{addr}"));
    let items: Vec<_> = client.stream(request()).await.unwrap().collect().await;
    server.await.unwrap();
    assert!(items[..items.len() - 1].iter().all(Result::is_ok), "{items:?}");
    match items.last() {
        Some(Err(e @ LlmError::Stream(m))) => {
            assert!(m.contains("response body"), "{m}");
            assert!(e.should_fall_back());
        }
        other => panic!("expected a transport error item, got {other:?}"),
    }
}
