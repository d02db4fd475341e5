//! What each webhook service receives for a [`Message`]: pure functions from a message to
//! headers and a body, so every service's format is tested without a network.
//!
//! Limits are the services' documented ones (ntfy keeps bodies up to 4 KiB as text; Discord:
//! content 2,000, embed title 256, description 4,096, 10 embeds, 6,000 characters in all; Slack:
//! 3,000 per text section, 50 blocks). Text from the cluster is data: Discord mentions are
//! disabled and Slack's control characters `&<>` escaped, so a VM named `@everyone` pings nobody.

use base64::Engine;
use serde::Serialize;
use serde_json::{Value, json};

use super::render::{label, rank, truncate};
use super::{Message, NotificationKind, Severity};

/// ntfy turns longer bodies into attachments.
const NTFY_MAX_BODY_BYTES: usize = 4000;

/// The ntfy request: headers (`Title`, `Priority`, `Tags`, `Click`) and the text body.
pub(crate) fn ntfy(msg: &Message) -> (Vec<(&'static str, String)>, String) {
    let priority = match msg.severity {
        Severity::Critical => 5,
        Severity::Error => 4,
        Severity::Warning => 3,
        Severity::Info => 2,
    };
    let all_resolved = msg.items.iter().all(|i| i.kind == NotificationKind::Resolved);
    let icon = if all_resolved {
        "white_check_mark"
    } else {
        match msg.severity {
            Severity::Critical => "rotating_light",
            Severity::Error => "x",
            Severity::Warning => "warning",
            Severity::Info => "information_source",
        }
    };
    let mut headers = vec![
        ("Title", header_text(&msg.title)),
        ("Priority", priority.to_string()),
        ("Tags", format!("{icon},jarvis,{}", msg.severity.as_str())),
    ];
    if let Some(link) = &msg.link {
        headers.push(("Click", link.clone()));
    }
    (headers, truncate_bytes(&msg.body, NTFY_MAX_BODY_BYTES))
}

/// Header values must be visible ASCII; anything else goes as an RFC 2047 encoded word, which
/// ntfy decodes.
fn header_text(text: &str) -> String {
    let one_line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if one_line.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        one_line
    } else {
        let b64 = base64::engine::general_purpose::STANDARD.encode(one_line.as_bytes());
        format!("=?UTF-8?B?{b64}?=")
    }
}

/// Cuts at a character boundary at most `max` bytes in, ending with `…` when cut.
fn truncate_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The Gotify `POST /message` JSON.
pub(crate) fn gotify(msg: &Message) -> Value {
    let priority = match msg.severity {
        Severity::Critical => 10,
        Severity::Error => 8,
        Severity::Warning => 5,
        Severity::Info => 2,
    };
    let mut extras = json!({"client::display": {"contentType": "text/plain"}});
    if let Some(link) = &msg.link {
        extras["client::notification"] = json!({"click": {"url": link}});
    }
    json!({"title": msg.title, "message": msg.body, "priority": priority, "extras": extras})
}

fn discord_color(s: Severity) -> u32 {
    match s {
        Severity::Critical => 0xD3_2F2F,
        Severity::Error => 0xF5_7C00,
        Severity::Warning => 0xFB_C02D,
        Severity::Info => 0x19_76D2,
    }
}

/// The Discord webhook JSON: one embed per item (at most 10), within every length limit.
pub(crate) fn discord(msg: &Message) -> Value {
    let items = &msg.items;
    let shown = if items.len() > 10 { 9 } else { items.len() };
    let mut embeds: Vec<(String, String, Option<String>, Severity)> = items[..shown]
        .iter()
        .map(|i| {
            let title = format!("[{}] {}", label(i.severity), i.title);
            (truncate(&title, 256), i.body.clone(), i.link.clone(), i.severity)
        })
        .collect();
    if items.len() > shown {
        let rest = &items[shown..];
        let worst =
            rest.iter().map(|i| i.severity).max_by_key(|s| rank(*s)).unwrap_or(Severity::Info);
        let names: Vec<&str> = rest.iter().map(|i| i.title.as_str()).collect();
        embeds.push((
            format!("…and {} more", rest.len()),
            names.join("\n"),
            msg.link.clone(),
            worst,
        ));
    }
    // 6,000 characters across all embeds: share what the titles leave among the descriptions.
    let titles: usize = embeds.iter().map(|e| e.0.chars().count()).sum();
    let per_description = (5900usize.saturating_sub(titles) / embeds.len().max(1)).min(4096);
    let embeds: Vec<Value> = embeds
        .into_iter()
        .map(|(title, description, url, severity)| {
            let mut e = json!({
                "title": title,
                "description": truncate(&description, per_description),
                "color": discord_color(severity),
            });
            if let Some(url) = url {
                e["url"] = json!(url);
            }
            e
        })
        .collect();
    let mut body =
        json!({"username": "Jarvis", "embeds": embeds, "allowed_mentions": {"parse": []}});
    if items.len() > 1 {
        body["content"] = json!(truncate(&msg.title, 2000));
    }
    body
}

/// Escapes the three characters Slack's mrkdwn treats as control.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A Slack `<url|text>` link (the URL is ours: `PUBLIC_URL` based; `|` and `>` cannot occur in
/// it after escaping).
fn slack_link(url: &str, text: &str) -> String {
    format!("<{}|{}>", url.replace('>', "%3E").replace('|', "%7C"), text)
}

/// The Slack incoming-webhook JSON: fallback `text` plus `blocks`.
pub(crate) fn slack(msg: &Message) -> Value {
    let headline = format!("[{}] {}", label(msg.severity), msg.title);
    let mut blocks = vec![json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(&format!("*{}*", slack_escape(&headline)), 3000)},
    })];
    let section = |text: String| json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&text, 3000)}});
    if msg.items.len() == 1 {
        if !msg.body.trim().is_empty() {
            blocks.push(section(slack_escape(&msg.body)));
        }
    } else {
        for item in msg.items.iter().take(40) {
            let mut text = format!("*[{}] {}*", label(item.severity), slack_escape(&item.title));
            if !item.body.trim().is_empty() {
                text.push('\n');
                text.push_str(&slack_escape(&item.body));
            }
            if let Some(link) = &item.link {
                text.push('\n');
                text.push_str(&slack_link(link, "Open in Jarvis"));
            }
            blocks.push(section(text));
        }
        if msg.items.len() > 40 {
            blocks.push(section(format!("…and {} more", msg.items.len() - 40)));
        }
    }
    if let Some(link) = &msg.link {
        blocks.push(section(slack_link(link, "Open in Jarvis")));
    }
    let mut text = slack_escape(&headline);
    if let Some(link) = &msg.link {
        text.push(' ');
        text.push_str(&slack_link(link, "open"));
    }
    json!({"text": text, "blocks": blocks})
}

/// Jarvis's own webhook JSON (schema version 1; documented in `docs/protocol.md`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JsonPayload<'a> {
    version: u8,
    source: &'static str,
    title: &'a str,
    body: &'a str,
    severity: Severity,
    link: Option<&'a str>,
    items: Vec<JsonItem<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonItem<'a> {
    kind: NotificationKind,
    severity: Severity,
    title: &'a str,
    body: &'a str,
    link: Option<&'a str>,
    incident_id: Option<&'a str>,
    created_at: String,
}

/// The plain JSON payload: the message and every item, all keys always present.
pub(crate) fn json_payload(msg: &Message) -> JsonPayload<'_> {
    JsonPayload {
        version: 1,
        source: "jarvis",
        title: &msg.title,
        body: &msg.body,
        severity: msg.severity,
        link: msg.link.as_deref(),
        items: msg
            .items
            .iter()
            .map(|i| JsonItem {
                kind: i.kind,
                severity: i.severity,
                title: &i.title,
                body: &i.body,
                link: i.link.as_deref(),
                incident_id: i.incident_id.as_deref(),
                created_at: crate::db::timestamp(i.created_at),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::MessageItem;
    use chrono::{TimeZone, Utc};

    fn item(n: usize, severity: Severity) -> MessageItem {
        MessageItem {
            kind: NotificationKind::Opened,
            severity,
            title: format!("alert {n} @everyone <b>"),
            body: "x".repeat(1000),
            link: Some(format!("https://jarvis.lan/incidents/{n}")),
            incident_id: Some(n.to_string()),
            created_at: Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap(),
        }
    }

    fn group(n: usize) -> Message {
        crate::notify::render::render(
            (0..n).map(|i| item(i, Severity::Warning)).collect(),
            Some("https://jarvis.lan"),
        )
    }

    #[test]
    fn ntfy_headers_are_ascii_and_unicode_titles_are_encoded_words() {
        let mut m = group(1);
        m.title = "Überhitzung 🔥 pve1".into();
        m.severity = Severity::Critical;
        let (headers, body) = ntfy(&m);
        let get = |k: &str| headers.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).unwrap();
        let title = get("Title");
        assert!(title.starts_with("=?UTF-8?B?") && title.is_ascii(), "{title}");
        let b64 = title.trim_start_matches("=?UTF-8?B?").trim_end_matches("?=");
        let decoded = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), "Überhitzung 🔥 pve1");
        assert_eq!(get("Priority"), "5");
        assert_eq!(get("Tags"), "rotating_light,jarvis,critical");
        assert_eq!(get("Click"), "https://jarvis.lan/incidents/0");
        assert_eq!(body, m.body);
        let long = truncate_bytes(&"é".repeat(5000), NTFY_MAX_BODY_BYTES);
        assert!(long.len() <= NTFY_MAX_BODY_BYTES && long.ends_with('…'));
    }

    #[test]
    fn discord_respects_every_limit_and_disables_mentions() {
        let m = group(14);
        let v = discord(&m);
        let embeds = v["embeds"].as_array().unwrap();
        assert_eq!(embeds.len(), 10);
        assert_eq!(embeds[9]["title"], "…and 5 more");
        let total: usize = embeds
            .iter()
            .map(|e| {
                e["title"].as_str().unwrap().chars().count()
                    + e["description"].as_str().unwrap().chars().count()
            })
            .sum();
        assert!(total <= 6000, "{total}");
        assert!(embeds.iter().all(|e| e["title"].as_str().unwrap().chars().count() <= 256));
        assert_eq!(v["allowed_mentions"], json!({"parse": []}));
        assert!(v["content"].as_str().unwrap().starts_with("14 alerts"));
        assert_eq!(embeds[0]["color"], 0xFBC02D);
        assert_eq!(embeds[0]["url"], "https://jarvis.lan/incidents/0");
        let single = discord(&group(1));
        assert!(single.get("content").is_none());
    }

    #[test]
    fn slack_escapes_control_characters_and_links_in_its_own_form() {
        let v = slack(&group(2));
        let text = v["text"].as_str().unwrap();
        assert!(text.contains("&lt;b&gt;") && !text.contains("<b>"), "{text}");
        assert!(text.ends_with("<https://jarvis.lan/incidents|open>"), "{text}");
        let blocks = v["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 4);
        assert!(
            blocks[1]["text"]["text"]
                .as_str()
                .unwrap()
                .contains("<https://jarvis.lan/incidents/0|Open in Jarvis>")
        );
    }

    #[test]
    fn gotify_and_json_carry_priority_click_and_every_item() {
        let m = group(2);
        let g = gotify(&m);
        assert_eq!(g["priority"], 5);
        assert_eq!(
            g["extras"]["client::notification"]["click"]["url"],
            "https://jarvis.lan/incidents"
        );
        let j = serde_json::to_value(json_payload(&m)).unwrap();
        assert_eq!(j["version"], 1);
        assert_eq!(j["items"].as_array().unwrap().len(), 2);
        assert_eq!(j["items"][1]["incidentId"], "1");
        assert_eq!(j["items"][0]["createdAt"], "2026-12-03T10:00:00.000Z");
        assert_eq!(j["severity"], "warning");
    }
}
