//! Turning queued notifications into one [`Message`]: a single item is sent as itself; a group
//! becomes "3 alerts: a, b, c" with every item listed in the body, the worst severity and a link
//! to the dashboard's incident list.

use super::{Message, MessageItem, NotificationKind, Severity};

/// Longest title we produce (the services cut shorter ones themselves; see `payload`).
const MAX_TITLE_CHARS: usize = 200;

/// Orders severities: info < warning < error < critical.
pub(crate) fn rank(s: Severity) -> u8 {
    match s {
        Severity::Info => 0,
        Severity::Warning => 1,
        Severity::Error => 2,
        Severity::Critical => 3,
    }
}

/// `CRITICAL`, `WARNING`, …
pub(crate) fn label(s: Severity) -> String {
    s.as_str().to_uppercase()
}

/// A short tag for an item's kind in lists (`resolved`, `escalated`, …); opened says nothing.
fn kind_tag(kind: NotificationKind) -> Option<&'static str> {
    match kind {
        NotificationKind::Opened => None,
        other => Some(other.as_str()),
    }
}

/// Cuts `text` to `max` characters, ending with `…` when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The message for `items` (oldest first, at least one). `dashboard` is `PUBLIC_URL`.
pub(crate) fn render(items: Vec<MessageItem>, dashboard: Option<&str>) -> Message {
    let severity =
        items.iter().map(|i| i.severity).max_by_key(|s| rank(*s)).unwrap_or(Severity::Info);
    if let [one] = items.as_slice() {
        return Message {
            title: truncate(&one.title, MAX_TITLE_CHARS),
            body: one.body.clone(),
            severity,
            link: one.link.clone(),
            items,
        };
    }
    let titles: Vec<&str> = items.iter().map(|i| i.title.as_str()).collect();
    let noun = if items.iter().all(|i| i.kind == NotificationKind::Resolved) {
        "resolved"
    } else {
        "alerts"
    };
    let title =
        truncate(&format!("{} {noun}: {}", items.len(), titles.join(", ")), MAX_TITLE_CHARS);
    let mut body = String::new();
    for item in &items {
        let tag = kind_tag(item.kind).map(|t| format!(" ({t})")).unwrap_or_default();
        body.push_str(&format!("• [{}] {}{tag}\n", label(item.severity), item.title));
        for line in item.body.lines().filter(|l| !l.trim().is_empty()) {
            body.push_str(&format!("  {line}\n"));
        }
        if let Some(link) = &item.link {
            body.push_str(&format!("  {link}\n"));
        }
    }
    let first_link = items[0].link.clone();
    let same_link = items.iter().all(|i| i.link == first_link);
    let link = if same_link && first_link.is_some() {
        first_link
    } else {
        dashboard.map(|d| format!("{d}/incidents"))
    };
    Message { title, body: body.trim_end().to_string(), severity, link, items }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn item(
        kind: NotificationKind,
        severity: Severity,
        title: &str,
        link: Option<&str>,
    ) -> MessageItem {
        MessageItem {
            kind,
            severity,
            title: title.into(),
            body: format!("{title} details\nsecond line"),
            link: link.map(str::to_string),
            incident_id: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn one_item_is_sent_as_itself() {
        let m = render(
            vec![item(NotificationKind::Opened, Severity::Error, "vm 101 down", Some("L"))],
            None,
        );
        assert_eq!(
            (m.title.as_str(), m.severity, m.link.as_deref()),
            ("vm 101 down", Severity::Error, Some("L"))
        );
        assert_eq!(m.body, "vm 101 down details\nsecond line");
    }

    #[test]
    fn a_group_lists_every_item_with_the_worst_severity_and_the_dashboard_link() {
        let m = render(
            vec![
                item(
                    NotificationKind::Opened,
                    Severity::Warning,
                    "disk 91%",
                    Some("https://j/incidents/a"),
                ),
                item(
                    NotificationKind::Escalated,
                    Severity::Critical,
                    "node pve2 offline",
                    Some("https://j/incidents/b"),
                ),
                item(NotificationKind::Resolved, Severity::Info, "vm 101 up", None),
            ],
            Some("https://j"),
        );
        assert_eq!(m.title, "3 alerts: disk 91%, node pve2 offline, vm 101 up");
        assert_eq!(m.severity, Severity::Critical);
        assert_eq!(m.link.as_deref(), Some("https://j/incidents"));
        for needle in [
            "• [WARNING] disk 91%",
            "• [CRITICAL] node pve2 offline (escalated)",
            "(resolved)",
            "https://j/incidents/b",
            "  second line",
        ] {
            assert!(m.body.contains(needle), "missing {needle:?} in {}", m.body);
        }
        assert_eq!(m.items.len(), 3);
    }

    #[test]
    fn long_titles_are_cut_on_characters_not_bytes() {
        let t = "é".repeat(300);
        let m = render(vec![item(NotificationKind::Opened, Severity::Info, &t, None)], None);
        assert_eq!(m.title.chars().count(), MAX_TITLE_CHARS);
        assert!(m.title.ends_with('…'));
    }
}
