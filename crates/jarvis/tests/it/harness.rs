//! Test harness: a simulated PVE cluster, a temp SQLite file and the real server on port 0,
//! talked to over real HTTP.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jarvis::config::Config;
use jarvis_proxmox::{PveConfig, TlsMode};
use jarvis_sim::{SimConfig, SimHandle, SimServer};
use serde_json::Value;
use tokio::sync::oneshot;

pub const PASSWORD: &str = "integration-test-password";
pub const JWT_SECRET: &str = "integration-test-secret-integration-test-secret";

/// A running server plus the simulator behind it.
pub struct TestServer {
    pub base: String,
    pub http: reqwest::Client,
    pub sim: Option<SimHandle>,
    pub db_path: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// A PVE client config pinned to the simulator's certificate.
pub fn pve_for(sim: &SimHandle) -> PveConfig {
    let cfg = SimConfig::default();
    let mut pve = PveConfig::new(
        vec![url::Url::parse(&sim.base_url()).unwrap()],
        cfg.token_id,
        cfg.token_secret,
    );
    pve.tls = TlsMode::Fingerprints(
        jarvis_proxmox::parse_fingerprints(&sim.fingerprint().expect("sim serves TLS")).unwrap(),
    );
    pve.discover_endpoints = false;
    pve.timeout = Duration::from_secs(3);
    pve.connect_timeout = Duration::from_secs(1);
    pve
}

/// The tests' configuration: `Config::for_tests` with this harness's password and secret (the
/// monitor's tiers are off unless a test turns them on: it would otherwise act on what other
/// tests do to the simulator behind Jarvis's back).
pub fn config(pve: PveConfig, db_path: PathBuf) -> Config {
    Config::for_tests(pve, db_path, PASSWORD, JWT_SECRET)
}

/// Extra settings for [`TestServer::start_opts`].
#[derive(Default)]
pub struct Options {
    /// `JARVIS_OVERRIDE_KEY`.
    pub override_key: Option<&'static str>,
    /// `PROTECTED_VMIDS`, `PROTECTED_NODES`, `PROTECTED_SERVICES`.
    pub protected: (&'static str, &'static str, &'static str),
    /// Give the server SSH to the simulator's nodes.
    pub ssh: bool,
    /// Read temperatures over SSH this often (needs `ssh`).
    pub temperature_interval: Option<Duration>,
    /// LLM providers and chat limits.
    pub llm: Option<jarvis::config::LlmSettings>,
    /// `TRUST_PROXY`: take the client address from `X-Forwarded-For`.
    pub trust_proxy: bool,
    /// Notification targets and outbox timing.
    pub notify: Option<jarvis::config::notify::NotifyConfig>,
}

impl TestServer {
    /// Server + default simulated cluster (fast ticks and tasks).
    pub async fn start() -> TestServer {
        Self::start_opts(Options::default()).await
    }

    /// Server + simulated cluster with options.
    pub async fn start_opts(opts: Options) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let (key_path, public_key) =
            jarvis::commands::demo::demo_ssh_key(&dir.path().join("ssh")).unwrap();
        let sim = SimServer::start(SimConfig {
            tick: Duration::from_millis(200),
            task_duration: Duration::from_millis(300),
            ssh: opts.ssh,
            ssh_authorized_keys: vec![public_key],
            ..SimConfig::default()
        })
        .await
        .expect("simulator starts");
        let pve = pve_for(&sim);
        let mut cfg = config(pve, dir.path().join("jarvis.db"));
        cfg.safety = jarvis::config::SafetyConfig {
            protected: jarvis_domain::safety::Protected::from_lists(
                opts.protected.0,
                opts.protected.1,
                opts.protected.2,
            )
            .unwrap(),
            override_key: opts.override_key.map(|k| jarvis::config::Secret::new(k.to_string())),
        };
        cfg.temperature_interval = opts.temperature_interval;
        cfg.trust_proxy = opts.trust_proxy;
        if let Some(llm) = opts.llm {
            cfg.llm = llm;
        }
        if let Some(notify) = opts.notify {
            cfg.notify = notify;
        }
        if opts.ssh {
            let known_hosts = dir.path().join("known_hosts");
            std::fs::write(&known_hosts, sim.ssh_known_hosts().unwrap()).unwrap();
            cfg.ssh = Some(jarvis::config::SshSettings {
                client: jarvis_ssh::SshConfig::new(
                    key_path,
                    jarvis_ssh::HostKeyPolicy::KnownHosts(known_hosts),
                ),
                port: sim.ssh_port().unwrap(),
            });
        }
        Self::start_config(cfg, Some(sim), dir).await
    }

    /// Server against any PVE config.
    pub async fn start_with(pve: PveConfig, sim: Option<SimHandle>) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(pve, dir.path().join("jarvis.db"));
        Self::start_config(cfg, sim, dir).await
    }

    /// Server for a fully built config (tests that need special settings).
    pub async fn start_config(
        cfg: Config,
        sim: Option<SimHandle>,
        dir: tempfile::TempDir,
    ) -> TestServer {
        let db_path = cfg.db_path.clone();
        let client = jarvis::PveHandles::new(Arc::new(
            jarvis_proxmox::PveClient::new(cfg.pve.clone()).expect("client builds"),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(jarvis::run(cfg, client, listener, async {
            let _ = rx.await;
        }));
        let server = TestServer {
            base: format!("http://{addr}"),
            http: reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap(),
            sim,
            db_path,
            stop: Some(tx),
            task: Some(task),
            _dir: dir,
        };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&self) {
        for _ in 0..200 {
            if let Ok(r) = self.http.get(self.url("/api/health")).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("server did not become reachable");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn sim(&self) -> &SimHandle {
        self.sim.as_ref().expect("this server has a simulator")
    }

    /// Logs in and returns the token.
    pub async fn login(&self) -> String {
        let r = self
            .http
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({ "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login failed");
        let body: Value = r.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn post_json(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let r = self.http.post(self.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn put_json(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let r = self.http.put(self.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// `POST /api/tools/execute`.
    pub async fn tool(&self, token: &str, tool: &str, args: Value) -> (u16, Value) {
        self.post_json(
            "/api/tools/execute",
            token,
            serde_json::json!({ "tool": tool, "args": args }),
        )
        .await
    }

    pub async fn get_json(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).bearer_auth(token).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Polls `/api/cluster` until `pred` holds (or panics after `secs`).
    pub async fn wait_cluster(
        &self,
        token: &str,
        secs: u64,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let (status, body) = self.get_json("/api/cluster", token).await;
            assert_eq!(status, 200);
            if pred(&body) {
                return body;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("condition not reached in {secs}s; last snapshot: {body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Graceful shutdown; returns the server's result.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let task = self.task.take().unwrap();
        tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .expect("shutdown in time")
            .unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}
