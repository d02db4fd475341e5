//! REST contract: error shapes for every kind of client mistake, health, OpenAPI, metrics and
//! the web UI fallback.

use serde_json::Value;

use crate::harness::TestServer;

async fn post_raw(s: &TestServer, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let r = s
        .http
        .post(s.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_bodies_get_clear_4xx_errors_never_500() {
    let s = TestServer::start().await;
    let json = "application/json";
    let cases: Vec<(&str, Vec<u8>, u16, &str, &str)> = vec![
        ("syntax", b"{\"password\": ".to_vec(), 400, "invalid_json", ""),
        ("not json", b"hello".to_vec(), 400, "invalid_json", ""),
        ("wrong type", br#"{"password": 42}"#.to_vec(), 400, "invalid_body", "invalid type"),
        (
            "unknown field",
            br#"{"password": "x", "admin": true}"#.to_vec(),
            400,
            "invalid_body",
            "unknown field",
        ),
        ("missing field", b"{}".to_vec(), 400, "invalid_body", "missing field"),
        ("array", b"[]".to_vec(), 400, "invalid_body", ""),
        ("null", b"null".to_vec(), 400, "invalid_body", ""),
    ];
    for (name, body, status, code, needle) in cases {
        let (got, body) = post_raw(&s, "/api/auth/login", json, body).await;
        assert_eq!(got, status, "{name}: {body}");
        assert_eq!(body["error"]["code"], code, "{name}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{name}: message {message:?} should mention {needle:?}");
    }
    let (got, body) = post_raw(&s, "/api/auth/login", "text/plain", b"{}".to_vec()).await;
    assert_eq!(got, 415, "{body}");
    assert_eq!(body["error"]["code"], "unsupported_media_type");
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_are_refused_with_413() {
    let s = TestServer::start().await;
    let mut big = b"{\"password\": \"".to_vec();
    big.extend(std::iter::repeat_n(b'a', 1024 * 1024 + 10));
    big.extend(b"\"}");
    let (status, body) = post_raw(&s, "/api/auth/login", "application/json", big).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");
    // The server is still fine afterwards.
    let token = s.login().await;
    assert_eq!(s.get_json("/api/cluster", &token).await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_and_methods_answer_json_errors() {
    let s = TestServer::start().await;
    let token = s.login().await;
    let (status, body) = s.get_json("/api/nope", &token).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let r = s.http.delete(s.url("/api/cluster")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test(flavor = "multi_thread")]
async fn health_is_public_and_reports_components() {
    let s = TestServer::start().await;
    let token = s.login().await;
    s.wait_cluster(&token, 10, |c| c["nodes"].as_array().is_some_and(|n| !n.is_empty())).await;
    let r = s.http.get(s.url("/api/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h: Value = r.json().await.unwrap();
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
    assert!(h["uptimeSeconds"].is_u64());
    for c in ["database", "proxmox", "ssh", "claude", "local"] {
        assert!(h["components"][c]["status"].is_string(), "component {c}: {h}");
    }
    assert_eq!(h["components"]["database"]["status"], "ok");
    assert_eq!(h["components"]["proxmox"]["status"], "ok");
    // Security headers are on every response.
    let r = s.http.get(s.url("/api/health")).send().await.unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(
        r.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_and_metrics() {
    let s = TestServer::start().await;
    let doc: Value =
        s.http.get(s.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'));
    assert!(doc["paths"]["/api/cluster"]["get"].is_object());
    let token = s.login().await;
    s.wait_cluster(&token, 10, |c| c["updatedAt"].is_string()).await;
    let r = s.http.get(s.url("/metrics")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("jarvis_poll_duration_seconds_count"), "{text}");
    assert!(text.contains("jarvis_cluster_nodes 4"), "{text}");
    assert!(text.contains("jarvis_logins_total{outcome=\"success\"}"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn spa_fallback_serves_html_but_missing_assets_are_404() {
    let s = TestServer::start().await;
    let r = s.http.get(s.url("/some/client/route")).send().await.unwrap();
    // index.html when the UI is built, or the "not built" page; HTML either way.
    assert!(matches!(r.status().as_u16(), 200 | 503));
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let r = s.http.get(s.url("/assets/definitely-missing.js")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
