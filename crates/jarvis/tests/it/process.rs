//! The real `jarvis` executable: start-up refusal, the demo honouring its settings, the helper
//! commands, and a `kill -9` in the middle of polling followed by a clean restart.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_jarvis");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `jarvis` command with a clean environment (no stray .env or PVE settings from the host).
fn jarvis(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .current_dir(dir);
    c
}

struct Demo {
    child: Child,
    base: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `jarvis demo` in `dir`; the password and JWT secret come from `dir/.env`, the rest
/// from the environment, so both sources are exercised.
fn start_demo(dir: &Path, port: u16, db: &Path) -> Demo {
    std::fs::write(
        dir.join(".env"),
        "# read by jarvis at start\nJARVIS_PASSWORD=process-test-password\n\
         JWT_SECRET=\"process-test-jwt-secret-process-test-jwt-secret\"\n",
    )
    .unwrap();
    let child = jarvis(dir)
        .args(["demo"])
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("DB_PATH", db)
        .env("CLUSTER_POLL_INTERVAL", "1")
        .env("JARVIS_SIM_TICK_MS", "300")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Demo { child, base: format!("http://127.0.0.1:{port}") }
}

async fn wait_health(http: &reqwest::Client, base: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{base}/api/health")).send().await
            && let Ok(v) = r.json::<Value>().await
            && v["components"]["proxmox"]["status"] == "ok"
        {
            return v;
        }
        assert!(Instant::now() < deadline, "demo did not become healthy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn login(http: &reqwest::Client, base: &str, password: &str) -> reqwest::Response {
    http.post(format!("{base}/api/auth/login"))
        .json(&json!({ "password": password }))
        .send()
        .await
        .unwrap()
}

#[test]
fn serve_refuses_to_start_without_secrets_and_lists_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let out = jarvis(dir.path()).args(["serve"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in ["JWT_SECRET", "JARVIS_PASSWORD", "PVE_URL", "PVE_TOKEN_ID", "PVE_TOKEN_SECRET"] {
        assert!(err.contains(needle), "stderr should name {needle}: {err}");
    }
    let out = jarvis(dir.path())
        .args(["serve"])
        .env("JWT_SECRET", "jarvis-dev-secret")
        .env("JARVIS_PASSWORD", "jarvis")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at least 32"), "{err}");
    assert!(!err.contains("jarvis-dev-secret"), "secrets are never echoed: {err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_honours_settings_and_survives_kill_9_during_polling() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state/jarvis.db");
    let port = free_port();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();

    let mut demo = start_demo(dir.path(), port, &db);
    let health = wait_health(&http, &demo.base).await;
    assert_eq!(health["demo"], true);
    assert!(db.exists(), "DB_PATH is honoured");
    assert_eq!(login(&http, &demo.base, "wrong-password-here").await.status(), 401);
    let r = login(&http, &demo.base, "process-test-password").await;
    assert_eq!(r.status(), 200, "JARVIS_PASSWORD from .env is honoured");
    let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    let revoked = login(&http, &demo.base, "process-test-password")
        .await
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = http
        .post(format!("{}/api/auth/logout", demo.base))
        .bearer_auth(&revoked)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    // Kill -9 while the poller runs every second.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    demo.child.kill().unwrap();
    demo.child.wait().unwrap();

    let out = jarvis(dir.path()).args(["migrate", "--db-path"]).arg(&db).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
    }

    let demo = start_demo(dir.path(), port, &db);
    wait_health(&http, &demo.base).await;
    let cluster = |t: String| {
        let http = http.clone();
        let url = format!("{}/api/cluster", demo.base);
        async move { http.get(url).bearer_auth(t).send().await.unwrap().status() }
    };
    assert_eq!(cluster(token).await, 200, "the session survives a restart");
    assert_eq!(cluster(revoked).await, 401, "a logout survives kill -9 and restart");

    let hc =
        jarvis(dir.path()).args(["healthcheck", "--port", &port.to_string()]).output().unwrap();
    assert!(hc.status.success(), "{}", String::from_utf8_lossy(&hc.stdout));
    assert_eq!(String::from_utf8_lossy(&hc.stdout).trim(), "ok");
    drop(demo);
    let hc =
        jarvis(dir.path()).args(["healthcheck", "--port", &port.to_string()]).output().unwrap();
    assert!(!hc.status.success(), "healthcheck fails when nothing is listening");
}

#[test]
fn hash_password_prints_a_verifiable_argon2id_hash() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = jarvis(dir.path())
        .args(["hash-password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a long enough password\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let hash = String::from_utf8(out.stdout).unwrap();
    assert!(hash.trim().starts_with("$argon2id$"), "{hash}");
    assert!(jarvis::auth::password::verify("a long enough password", hash.trim()));
    assert!(!jarvis::auth::password::verify("a long enough passworD", hash.trim()));
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_shuts_down_cleanly_and_checkpoints_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jarvis.db");
    let port = free_port();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut demo = start_demo(dir.path(), port, &db);
    wait_health(&http, &demo.base).await;
    let r = login(&http, &demo.base, "process-test-password").await;
    let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    // A logout writes to the database, so there is WAL content to checkpoint.
    http.post(format!("{}/api/auth/logout", demo.base)).bearer_auth(&token).send().await.unwrap();

    let pid = demo.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = demo.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "jarvis did not exit within 15 s of SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "clean exit code after SIGTERM: {status:?}");
    let wal = std::fs::metadata(db.with_extension("db-wal")).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal, 0, "the WAL was checkpointed into the database");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM revoked_tokens", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1, "the write made before shutdown is in the database file");
}
