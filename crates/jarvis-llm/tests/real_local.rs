//! [`OpenAiClient`] against a real OpenAI-compatible server: llama-cpp-python serving
//! SmolLM2-135M-Instruct on 127.0.0.1, started per test as a child process.
//!
//! `scripts/install-test-deps.sh` builds the server's venv and fetches the model into
//! `${JARVIS_TEST_CACHE:-$HOME/.cache/jarvis-test}/llm/`; `JARVIS_LLM_PYTHON` and
//! `JARVIS_LLM_MODEL` override the interpreter and the GGUF. Missing pieces fail the tests (they
//! are never skipped).
//!
//! What this server does, and the tests pin down:
//! - it streams `chat.completion.chunk`s ending in `data: [DONE]`, with the model alias as
//!   `model`;
//! - it sends no usage in streaming mode, even though the client asks with
//!   `stream_options.include_usage`, so the client reports no `Usage` event (never a made-up
//!   one);
//! - with its default chat format (the GGUF's template) it ignores `tools` under the implicit
//!   `tool_choice: "auto"` and answers in plain text, the "server that answers tools in text"
//!   case the agent must handle.

use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use jarvis_llm::{ChatMessage, ChatRequest, LlmEvent, OpenAiClient, StopReason, ToolSpec};
use jarvis_sim::{LOCAL_MODEL_ALIAS, LocalLlmServer};
use serde_json::json;

const MODEL_ALIAS: &str = LOCAL_MODEL_ALIAS;

/// A guard against a hung stream, far above the few seconds an answer takes.
const STREAM_TIMEOUT: Duration = Duration::from_secs(180);

/// Streams `req` to the server and returns every event; an error item fails the test.
async fn chat(server: &LocalLlmServer, req: ChatRequest) -> Vec<LlmEvent> {
    let client = OpenAiClient::new(server.base_url(), MODEL_ALIAS);
    let collect = async {
        let stream = client.stream(req).await.expect("the server accepts the request");
        stream.collect::<Vec<_>>().await
    };
    let items = tokio::time::timeout(STREAM_TIMEOUT, collect)
        .await
        .unwrap_or_else(|_| panic!("no end of stream within {STREAM_TIMEOUT:?}"));
    items
        .into_iter()
        .map(|item| item.unwrap_or_else(|e| panic!("stream error: {e}\n{}", server.log_tail())))
        .collect()
}

/// The checks every answer passes: starts with the alias, some text, no usage, no tool calls,
/// and `Done` last (the answer ends naturally or at `max_tokens`).
fn assert_plain_text_answer(events: &[LlmEvent]) {
    assert!(
        matches!(events.first(), Some(LlmEvent::MessageStart { model, .. }) if model == MODEL_ALIAS),
        "starts with MessageStart for {MODEL_ALIAS}: {events:?}"
    );
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            LlmEvent::TextDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        events.iter().any(|e| matches!(e, LlmEvent::TextDelta(t) if !t.is_empty())),
        "at least one non-empty text delta: {events:?}"
    );
    assert!(!text.trim().is_empty(), "some visible text: {text:?}");
    assert!(
        !events.iter().any(|e| matches!(e, LlmEvent::Usage { .. })),
        "llama-cpp-python streams no usage, so the client reports none: {events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, LlmEvent::ToolCallStart { .. } | LlmEvent::ToolCallEnd { .. })),
        "no tool calls: {events:?}"
    );
    let done = events.iter().filter(|e| matches!(e, LlmEvent::Done { .. })).count();
    assert_eq!(done, 1, "exactly one Done: {events:?}");
    assert!(
        matches!(
            events.last(),
            Some(LlmEvent::Done { stop_reason: StopReason::EndTurn | StopReason::MaxTokens })
        ),
        "ends with Done (end of turn or max_tokens): {events:?}"
    );
}

#[tokio::test]
async fn streams_a_short_chat_answer() {
    let server = LocalLlmServer::start(Path::new(env!("CARGO_TARGET_TMPDIR"))).await;
    let req = ChatRequest {
        system: "You are a helpful assistant.".into(),
        messages: vec![ChatMessage::user("Say hello to the operator.")],
        max_tokens: Some(24),
        ..Default::default()
    };
    let events = chat(&server, req).await;
    assert_plain_text_answer(&events);
}

#[tokio::test]
async fn tools_are_ignored_and_answered_in_plain_text() {
    let server = LocalLlmServer::start(Path::new(env!("CARGO_TARGET_TMPDIR"))).await;
    let req = ChatRequest {
        system: "You are Jarvis, a Proxmox assistant.".into(),
        messages: vec![ChatMessage::user("What is the status of VM 100?")],
        tools: vec![ToolSpec {
            name: "get_vm_status".into(),
            description: "Current status of one VM.".into(),
            input_schema: json!({
                "type": "object",
                "properties": {"vmid": {"type": "integer", "description": "The VM id."}},
                "required": ["vmid"],
                "additionalProperties": false,
            }),
        }],
        max_tokens: Some(24),
    };
    let events = chat(&server, req).await;
    assert_plain_text_answer(&events);
}
