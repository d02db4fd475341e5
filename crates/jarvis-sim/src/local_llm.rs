//! A real local OpenAI-compatible LLM server for tests: llama-cpp-python serving
//! SmolLM2-135M-Instruct on 127.0.0.1, started as a child process on a free port.
//!
//! Unlike everything else in this crate it is not a simulation: tests that must run against a
//! real server (ROUTE-01's "real local server" acceptance) use it. `scripts/install-test-deps.sh`
//! builds the venv and fetches the model into `${JARVIS_TEST_CACHE:-$HOME/.cache/jarvis-test}/llm/`;
//! `JARVIS_LLM_PYTHON` and `JARVIS_LLM_MODEL` override the interpreter and the GGUF. Missing
//! pieces are a panic naming the install script — tests using this are never skipped.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The alias the server is started with; it answers with it as `model`.
pub const LOCAL_MODEL_ALIAS: &str = "smollm2";

/// The server's context window (`--n_ctx`).
pub const LOCAL_CONTEXT_WINDOW: u32 = 2048;

/// How long the server may take to answer `GET /v1/models` after start (it takes ~1 s).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The interpreter and model to use: the env overrides, else the install script's cache.
/// Panics with instructions when either is missing.
pub fn local_llm_paths() -> (PathBuf, PathBuf) {
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
pub struct LocalLlmServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl LocalLlmServer {
    /// Starts the server on a free port, logging to a file in `log_dir`, and waits until
    /// `GET /v1/models` answers 200. A port taken between choosing and binding it gets
    /// another try.
    pub async fn start(log_dir: &Path) -> Self {
        let (python, model) = local_llm_paths();
        for _ in 0..3 {
            let mut server = Self::spawn(&python, &model, log_dir);
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

    fn spawn(python: &Path, model: &Path, log_dir: &Path) -> Self {
        let port = free_port();
        let log = log_dir.join(format!("llama-server-{port}.log"));
        let out = File::create(&log).expect("create the server log");
        // One thread: tests run in parallel on shared CPUs, and llama.cpp's OpenMP workers spin
        // while they wait, so more threads than free cores make every step slower.
        let child = Command::new(python)
            .args(["-m", "llama_cpp.server", "--host", "127.0.0.1"])
            .args(["--n_ctx", &LOCAL_CONTEXT_WINDOW.to_string(), "--n_threads", "1"])
            .args(["--port", &port.to_string(), "--model_alias", LOCAL_MODEL_ALIAS])
            .arg("--model")
            .arg(model)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", python.display()));
        Self { child, port, log }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits for `GET /v1/models` to answer 200; Err when the server exits first.
    async fn wait_ready(&mut self) -> Result<(), ExitStatus> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the server") {
                return Err(status);
            }
            if models_ok(self.port).await {
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

    /// The last 30 lines of the server's log (for failure messages).
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for LocalLlmServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `GET /v1/models` on `port` answers 200 (plain HTTP/1.0, no client library).
async fn models_ok(port: u16) -> bool {
    let probe = async {
        let mut s = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await.ok()?;
        s.write_all(b"GET /v1/models HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").await.ok()?;
        let mut head = [0u8; 12];
        s.read_exact(&mut head).await.ok()?;
        Some(head.ends_with(b" 200"))
    };
    matches!(tokio::time::timeout(Duration::from_secs(2), probe).await, Ok(Some(true)))
}

/// A port nobody listens on right now (the server binds it a moment later).
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}
