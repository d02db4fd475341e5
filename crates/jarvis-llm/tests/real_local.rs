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

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use jarvis_llm::{ChatMessage, ChatRequest, LlmEvent, OpenAiClient, StopReason, ToolSpec};
use serde_json::json;

/// The alias the server is started with; it answers with it as `model`.
const MODEL_ALIAS: &str = "smollm2";

/// How long the server may take to answer `GET /v1/models` after start (it takes ~1 s).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A guard against a hung stream, far above the few seconds an answer takes.
const STREAM_TIMEOUT: Duration = Duration::from_secs(180);

/// The interpreter and model to use: the env overrides, else the install script's cache.
fn python_and_model() -> (PathBuf, PathBuf) {
    let cache = std::env::var_os("JARVIS_TEST_CACHE").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/jarvis-test"),
        PathBuf::from,
    );
    let python = std::env::var_os("JARVIS_LLM_PYTHON")
        .map_or_else(|| cache.join("llm/venv/bin/python"), PathBuf::from);
    let model = std::env::var_os("JARVIS_LLM_MODEL")
        .map_or_else(|| cache.join("llm/SmolLM2-135M-Instruct.Q4_1.gguf"), PathBuf::from);
    for (what, path, var) in
        [("python", &python, "JARVIS_LLM_PYTHON"), ("model", &model, "JARVIS_LLM_MODEL")]
    {
        assert!(
            path.is_file(),
            "the local LLM {what} {} is missing: run scripts/install-test-deps.sh (it builds \
             llama-cpp-python and fetches SmolLM2 into the test cache), or set {var}",
            path.display()
        );
    }
    (python, model)
}

/// A running `llama_cpp.server`; dropping it (also while a test panics) kills it.
struct LocalServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl LocalServer {
    /// Starts the server on a free port and waits until `GET /v1/models` answers 200. A port
    /// taken between choosing and binding it gets another try.
    async fn start() -> Self {
        let (python, model) = python_and_model();
        for _ in 0..3 {
            let mut server = Self::spawn(&python, &model);
            match server.wait_ready().await {
                Ok(()) => return server,
                Err(status) if server.log_tail().contains("address already in use") => {
                    eprintln!("port {} was taken ({status}); trying another", server.port);
                }
                Err(status) => {
                    panic!("the local LLM server exited ({status}):\n{}", server.log_tail())
                }
            }
        }
        panic!("the local LLM server found no free port in 3 tries");
    }

    fn spawn(python: &Path, model: &Path) -> Self {
        let port = free_port();
        let log =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("llama-server-{port}.log"));
        let out = File::create(&log).expect("create the server log");
        // One thread: tests run in parallel on shared CPUs, and llama.cpp's OpenMP workers spin
        // while they wait, so more threads than free cores make every step slower.
        let child = Command::new(python)
            .args(["-m", "llama_cpp.server", "--host", "127.0.0.1", "--n_ctx", "2048"])
            .args(["--n_threads", "1"])
            .args(["--port", &port.to_string(), "--model_alias", MODEL_ALIAS])
            .arg("--model")
            .arg(model)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", python.display()));
        Self { child, port, log }
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits for `GET /v1/models` to answer 200; Err when the server exits first.
    async fn wait_ready(&mut self) -> Result<(), ExitStatus> {
        let url = format!("{}/v1/models", self.base_url());
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the server") {
                return Err(status);
            }
            let ready = http.get(&url).timeout(Duration::from_secs(2)).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return Ok(());
            }
            assert!(
                started.elapsed() < READY_TIMEOUT,
                "the local LLM server did not answer GET /v1/models within {READY_TIMEOUT:?}:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now (the server binds it a moment later).
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// Streams `req` to the server and returns every event; an error item fails the test.
async fn chat(server: &LocalServer, req: ChatRequest) -> Vec<LlmEvent> {
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
    let server = LocalServer::start().await;
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
    let server = LocalServer::start().await;
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
