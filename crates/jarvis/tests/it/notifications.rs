//! `POST /api/notifications/test` and `GET /api/notifications` over real HTTP, with a real
//! webhook receiver on loopback and a target that is down.

use std::sync::Arc;

use axum::body::Bytes;
use jarvis::config::notify::{NotifyConfig, WebhookSettings};
use parking_lot::Mutex;
use serde_json::Value;

use crate::harness::{Options, TestServer};

/// A JSON webhook receiver that records bodies.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let store = seen.clone();
    let app = axum::Router::new().fallback(move |body: Bytes| {
        let store = store.clone();
        async move {
            store.lock().push(serde_json::from_slice(&body).unwrap_or(Value::Null));
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook/s3cr3t-path"), seen)
}

fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}/topic-secret")
}

#[tokio::test(flavor = "multi_thread")]
async fn notification_routes_need_a_token() {
    let s = TestServer::start().await;
    for (method, path) in [("POST", "/api/notifications/test"), ("GET", "/api/notifications")] {
        let req = if method == "POST" { s.http.post(s.url(path)) } else { s.http.get(s.url(path)) };
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn test_endpoint_reports_each_target_and_the_list_shows_the_deliveries() {
    let (hook, seen) = receiver().await;
    let notify = NotifyConfig {
        webhooks: vec![
            WebhookSettings::parse(&format!("json:{hook}")).unwrap(),
            WebhookSettings::parse(&format!("ntfy:{}", dead_url())).unwrap(),
        ],
        public_url: Some("https://jarvis.lan".into()),
        ..NotifyConfig::default()
    };
    let s = TestServer::start_opts(Options { notify: Some(notify), ..Options::default() }).await;
    let token = s.login().await;

    let (status, body) = s.post_json("/api/notifications/test", &token, Value::Null).await;
    assert_eq!(status, 200, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{body}");
    assert_eq!(results[0]["channel"], "json");
    assert_eq!(results[0]["ok"], true);
    assert!(results[0].get("error").is_none());
    assert_eq!(results[1]["channel"], "ntfy");
    assert_eq!(results[1]["ok"], false);
    assert!(results[1]["error"].as_str().unwrap().starts_with("unreachable"), "{body}");
    let text = body.to_string();
    assert!(!text.contains("s3cr3t-path") && !text.contains("topic-secret"), "{text}");
    assert!(results[0]["target"].as_str().unwrap().ends_with("/***"), "{body}");

    let got = seen.lock().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["items"][0]["kind"], "test");
    assert_eq!(got[0]["link"], "https://jarvis.lan");

    let (status, list) = s.get_json("/api/notifications?limit=10", &token).await;
    assert_eq!(status, 200, "{list}");
    let rows = list["notifications"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{list}");
    let by_channel = |c: &str| rows.iter().find(|r| r["channel"] == c).unwrap().clone();
    let sent = by_channel("json");
    assert_eq!(
        (sent["status"].as_str(), sent["kind"].as_str(), sent["attempts"].as_u64()),
        (Some("sent"), Some("test"), Some(1))
    );
    assert!(sent["sentAt"].as_str().unwrap().ends_with('Z') && sent["delivery"].is_string());
    let failed = by_channel("ntfy");
    assert_eq!(failed["status"], "failed");
    assert!(failed["lastError"].as_str().unwrap().starts_with("unreachable"));
    assert!(failed.get("nextAttemptAt").is_none(), "only pending rows have a next attempt");
    assert!(!list.to_string().contains("topic-secret"));

    let (status, body) = s.get_json("/api/notifications?limit=many", &token).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = s.get_json("/api/notifications?bogus=1", &token).await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_targets_the_test_reports_nothing() {
    let s = TestServer::start().await;
    let token = s.login().await;
    let (status, body) = s.post_json("/api/notifications/test", &token, Value::Null).await;
    assert_eq!((status, body), (200, serde_json::json!({"results": []})));
    let (status, body) = s.get_json("/api/notifications", &token).await;
    assert_eq!((status, body), (200, serde_json::json!({"notifications": []})));
}
