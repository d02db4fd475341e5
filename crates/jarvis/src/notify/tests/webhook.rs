//! Each webhook preset against a real HTTP receiver: the exact request each service expects,
//! how refusals are classified, and that tokens never show.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;

use super::support::{Receiver, refused_addr};
use crate::config::notify::WebhookSettings;
use crate::http_client::HttpClient;
use crate::notify::render::render;
use crate::notify::{
    Message, MessageItem, NotificationKind, Notifier, NotifyError, Severity, WebhookNotifier,
};

fn hook(spec: &str) -> WebhookNotifier {
    let settings = WebhookSettings::parse(spec).unwrap();
    WebhookNotifier::new(&settings, HttpClient::new(Duration::from_secs(5)).unwrap())
}

fn message() -> Message {
    render(
        vec![MessageItem {
            kind: NotificationKind::Opened,
            severity: Severity::Error,
            title: "vm 101 (web) stopped".into(),
            body: "It was running 5 minutes ago.".into(),
            link: Some("https://jarvis.lan/incidents/i-7".into()),
            incident_id: Some("i-7".into()),
            created_at: Utc::now(),
        }],
        None,
    )
}

#[tokio::test]
async fn ntfy_gets_text_with_title_priority_tags_click_and_basic_auth() {
    let rx = Receiver::start().await;
    let n = hook(&format!("ntfy:http://bob:hunter2-pass@{}/jarvis-alerts", rx.addr));
    n.send(&message()).await.unwrap();
    let req = &rx.requests()[0];
    assert_eq!((req.method.as_str(), req.uri.path()), ("POST", "/jarvis-alerts"));
    assert_eq!(req.header("title").unwrap(), "vm 101 (web) stopped");
    assert_eq!(req.header("priority").unwrap(), "4");
    assert_eq!(req.header("tags").unwrap(), "x,jarvis,error");
    assert_eq!(req.header("click").unwrap(), "https://jarvis.lan/incidents/i-7");
    // base64("bob:hunter2-pass")
    assert_eq!(req.header("authorization").unwrap(), "Basic Ym9iOmh1bnRlcjItcGFzcw==");
    assert_eq!(req.text(), "It was running 5 minutes ago.");
    assert_eq!(n.name(), format!("ntfy http://{}/***", rx.addr));
    assert!(!n.id().contains("jarvis-alerts") && !n.id().contains("hunter2"), "{}", n.id());
}

#[tokio::test]
async fn ntfy_access_tokens_go_as_bearer() {
    let rx = Receiver::start().await;
    hook(&format!("ntfy:http://:tk_abcdef123@{}/t", rx.addr)).send(&message()).await.unwrap();
    assert_eq!(rx.requests()[0].header("authorization").unwrap(), "Bearer tk_abcdef123");
}

#[tokio::test]
async fn gotify_gets_message_json_with_priority_and_click() {
    let rx = Receiver::start().await;
    hook(&format!("gotify:http://{}/?token=AppTok3n", rx.addr)).send(&message()).await.unwrap();
    let req = &rx.requests()[0];
    assert_eq!(req.uri.path(), "/message");
    assert_eq!(req.uri.query(), Some("token=AppTok3n"));
    assert_eq!(req.header("content-type").unwrap(), "application/json");
    assert_eq!(
        req.json(),
        json!({
            "title": "vm 101 (web) stopped",
            "message": "It was running 5 minutes ago.",
            "priority": 8,
            "extras": {
                "client::display": {"contentType": "text/plain"},
                "client::notification": {"click": {"url": "https://jarvis.lan/incidents/i-7"}},
            },
        })
    );
}

#[tokio::test]
async fn discord_gets_an_embed_and_no_mentions() {
    let rx = Receiver::start().await;
    rx.respond(204, "");
    hook(&format!("discord:http://{}/api/webhooks/123/secret", rx.addr))
        .send(&message())
        .await
        .unwrap();
    let req = &rx.requests()[0];
    assert_eq!(req.uri.path(), "/api/webhooks/123/secret");
    assert_eq!(
        req.json(),
        json!({
            "username": "Jarvis",
            "allowed_mentions": {"parse": []},
            "embeds": [{
                "title": "[ERROR] vm 101 (web) stopped",
                "description": "It was running 5 minutes ago.",
                "url": "https://jarvis.lan/incidents/i-7",
                "color": 0xF57C00,
            }],
        })
    );
}

#[tokio::test]
async fn slack_gets_text_and_blocks_with_slack_links() {
    let rx = Receiver::start().await;
    rx.respond(200, "ok");
    hook(&format!("slack:http://{}/services/T/B/X", rx.addr)).send(&message()).await.unwrap();
    let body = rx.requests()[0].json();
    assert_eq!(
        body["text"],
        "[ERROR] vm 101 (web) stopped <https://jarvis.lan/incidents/i-7|open>"
    );
    assert_eq!(body["blocks"][0]["text"]["text"], "*[ERROR] vm 101 (web) stopped*");
    assert_eq!(body["blocks"][1]["text"]["text"], "It was running 5 minutes ago.");
    assert_eq!(
        body["blocks"][2]["text"]["text"],
        "<https://jarvis.lan/incidents/i-7|Open in Jarvis>"
    );
}

#[tokio::test]
async fn json_gets_the_documented_schema() {
    let rx = Receiver::start().await;
    let msg = message();
    hook(&format!("json:http://{}/hook", rx.addr)).send(&msg).await.unwrap();
    let body = rx.requests()[0].json();
    assert_eq!(
        body,
        json!({
            "version": 1,
            "source": "jarvis",
            "title": "vm 101 (web) stopped",
            "body": "It was running 5 minutes ago.",
            "severity": "error",
            "link": "https://jarvis.lan/incidents/i-7",
            "items": [{
                "kind": "opened",
                "severity": "error",
                "title": "vm 101 (web) stopped",
                "body": "It was running 5 minutes ago.",
                "link": "https://jarvis.lan/incidents/i-7",
                "incidentId": "i-7",
                "createdAt": crate::db::timestamp(msg.items[0].created_at),
            }],
        })
    );
}

#[tokio::test]
async fn refusals_are_classified_and_scrubbed_of_the_token() {
    let rx = Receiver::start().await;
    let n = hook(&format!("json:http://{}/hook/tok-1234567890?key=sekrit-value", rx.addr));
    for (status, permanent) in
        [(500, false), (503, false), (429, false), (408, false), (404, true), (401, true)]
    {
        rx.respond(status, "bad token tok-1234567890 key=sekrit-value\n\u{7}");
        let err = n.send(&message()).await.unwrap_err();
        let NotifyError::Rejected { code, detail, permanent: p } = &err else { panic!("{err}") };
        assert_eq!((*code, *p), (status, permanent));
        assert_eq!(detail, "bad token *** key=***", "{err}");
    }
    let dead = hook(&format!("json:http://{}/hook/tok-1234567890", refused_addr()));
    let err = dead.send(&message()).await.unwrap_err();
    assert!(matches!(err, NotifyError::Unreachable(_)), "{err}");
    assert!(!err.to_string().contains("tok-1234567890"), "{err}");
}
