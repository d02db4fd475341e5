//! Shared helpers: starting a simulator, an HTTP client, fixture loading, shape comparison
//! and raw HTTP/1.1 for reading status lines.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use jarvis_sim::{SimConfig, SimHandle, SimServer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A config for tests: no background ticking (metrics move only on `tick()`), short tasks.
pub fn test_config() -> SimConfig {
    SimConfig {
        tls: false,
        tick: Duration::ZERO,
        task_duration: Duration::from_millis(300),
        ..SimConfig::default()
    }
}

/// Starts a simulator with `cfg`.
pub async fn start(cfg: SimConfig) -> SimHandle {
    SimServer::start(cfg).await.expect("simulator starts")
}

/// A reqwest client that accepts the simulator's self-signed certificate and ignores proxies.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// `GET /api2/json{path}` with the right token: (status, parsed body or Null).
pub async fn get(sim: &SimHandle, path: &str) -> (u16, Value) {
    let res = client()
        .get(format!("{}/api2/json{path}", sim.base_url()))
        .header("Authorization", sim.auth_header())
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let bytes = res.bytes().await.expect("body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// `GET` that must succeed; returns `data`.
pub async fn data(sim: &SimHandle, path: &str) -> Value {
    let (status, body) = get(sim, path).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body["data"].clone()
}

/// Form-encoded `POST /api2/json{path}`: (status, parsed body or Null).
pub async fn post(sim: &SimHandle, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let res = client()
        .post(format!("{}/api2/json{path}", sim.base_url()))
        .header("Authorization", sim.auth_header())
        .form(form)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let bytes = res.bytes().await.expect("body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Polls a task until it stops; returns its final status object.
pub async fn wait_task(sim: &SimHandle, node: &str, upid: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let st = data(sim, &format!("/nodes/{node}/tasks/{upid}/status")).await;
        if st["status"] == "stopped" {
            return st;
        }
        assert!(Instant::now() < deadline, "task {upid} never finished: {st}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `fixtures` at the repository root (copied from the shared reference set; see
/// `fixtures/README.md`), or a clear failure.
pub fn fixtures_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    assert!(
        dir.join("pve/go-proxmox").is_dir(),
        "PVE fixtures not found at {} (fixtures/pve at the repository root)",
        dir.display()
    );
    dir
}

/// `data` of a recorded go-proxmox response.
pub fn fixture(name: &str) -> Value {
    let path = fixtures_dir().join("pve/go-proxmox").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text).expect("fixture is JSON");
    v["data"].clone()
}

/// JSON type name (integers and floats are both "number", as JSON knows no difference).
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Maps whose keys are device names (they differ between machines): their values are compared,
/// not their keys.
const DYNAMIC_KEY_MAPS: [&str; 2] = ["blockstat", "nics"];

/// Asserts that `actual` has every key of `expected` with the same JSON type, recursively
/// (arrays: first elements compared). `skip` lists top-level keys that are legitimately absent.
pub fn assert_shape(actual: &Value, expected: &Value, ctx: &str, skip: &[&str]) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, ev) in e {
                if skip.contains(&k.as_str()) {
                    continue;
                }
                let av = a.get(k).unwrap_or_else(|| panic!("{ctx}: key '{k}' missing in {actual}"));
                assert_eq!(
                    json_type(av),
                    json_type(ev),
                    "{ctx}.{k}: type differs (sim {av}, fixture {ev})"
                );
                if DYNAMIC_KEY_MAPS.contains(&k.as_str()) {
                    let proto = ev.as_object().and_then(|m| m.values().next());
                    if let (Some(proto), Some(map)) = (proto, av.as_object()) {
                        assert!(!map.is_empty(), "{ctx}.{k} is empty");
                        for (dev, v) in map {
                            assert_shape(v, proto, &format!("{ctx}.{k}.{dev}"), &[]);
                        }
                    }
                } else {
                    assert_shape(av, ev, &format!("{ctx}.{k}"), &[]);
                }
            }
        }
        (Value::Array(a), Value::Array(e)) => {
            if let (Some(a0), Some(e0)) = (a.first(), e.first()) {
                assert_shape(a0, e0, &format!("{ctx}[0]"), &[]);
            }
        }
        _ => assert_eq!(json_type(actual), json_type(expected), "{ctx}: type differs"),
    }
}

/// For a list of fixture entries of one kind and the simulator's entries of that kind:
/// keys every fixture entry has must be in every simulator entry with the same type; keys only
/// some fixture entries have must appear in at least one simulator entry, with the same type
/// wherever they appear.
pub fn assert_entries_shape(sim: &[&Value], fixture: &[&Value], ctx: &str) {
    assert!(!sim.is_empty(), "{ctx}: simulator has no entries");
    assert!(!fixture.is_empty(), "{ctx}: fixture has no entries");
    let mut keys: Vec<(&String, &Value, bool)> = Vec::new();
    for f in fixture {
        for (k, v) in f.as_object().expect("fixture entry is an object") {
            if keys.iter().any(|(kk, _, _)| *kk == k) {
                continue;
            }
            let everywhere = fixture.iter().all(|f| f.get(k).is_some());
            keys.push((k, v, everywhere));
        }
    }
    for (k, fv, everywhere) in keys {
        let mut seen = false;
        for s in sim {
            match s.get(k.as_str()) {
                Some(sv) => {
                    seen = true;
                    assert_eq!(json_type(sv), json_type(fv), "{ctx}.{k}: type differs in {s}");
                }
                None => assert!(!everywhere, "{ctx}: key '{k}' missing in {s}"),
            }
        }
        assert!(seen, "{ctx}: no simulator entry has the optional key '{k}'");
    }
}

/// A raw HTTP/1.1 exchange over plain TCP: (status line, headers, body).
pub async fn raw_http(base_url: &str, request: &str) -> (String, String, String) {
    let addr = base_url.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_string(), headers.to_string(), body.to_string())
}

/// A GET request with `Connection: close` and optional extra header lines.
pub fn raw_get(path: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{extra}\r\n")
}

/// Strict check of PVE's UPID layout: `UPID:node:PID8:PSTART8:STARTTIME8:type:id:user:`.
pub fn assert_upid_layout(upid: &str) -> Vec<String> {
    let parts: Vec<&str> = upid.split(':').collect();
    assert_eq!(parts.len(), 9, "UPID {upid} has {} fields", parts.len());
    assert_eq!(parts[0], "UPID");
    assert!(!parts[1].is_empty(), "UPID node");
    for (i, name) in [(2, "pid"), (3, "pstart"), (4, "starttime")] {
        assert!(
            parts[i].len() == 8
                && parts[i].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()),
            "UPID {name} '{}' is not 8 upper-case hex digits",
            parts[i]
        );
    }
    assert!(!parts[5].is_empty(), "UPID type");
    assert!(parts[7].contains('@'), "UPID user '{}'", parts[7]);
    assert_eq!(parts[8], "", "UPID must end with ':'");
    parts.iter().map(|s| s.to_string()).collect()
}

/// [`assert_upid_layout`] plus the expected node, type, id and a start time of now.
pub fn assert_upid(upid: &str, node: &str, kind: &str, id: &str) {
    let parts = assert_upid_layout(upid);
    assert_eq!(
        (parts[1].as_str(), parts[5].as_str(), parts[6].as_str()),
        (node, kind, id),
        "{upid}"
    );
    let start = i64::from_str_radix(&parts[4], 16).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
        as i64;
    assert!((now - start).abs() < 120, "UPID start time {start} is not now");
}

/// The first `/cluster/resources` entry matching `pred`.
pub async fn find_resource(sim: &SimHandle, pred: impl Fn(&Value) -> bool) -> Value {
    let all = data(sim, "/cluster/resources").await;
    all.as_array().unwrap().iter().find(|e| pred(e)).cloned().expect("matching resource")
}
