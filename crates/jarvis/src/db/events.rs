//! Storage of activity events.

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;

use super::{Db, DbError, parse_time, timestamp};
use crate::events::{Event, EventSource, EventType, Severity};

/// Filters of `GET /api/events` and the `get_events` tool.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// At most this many, newest first.
    pub limit: u32,
    /// Only this type (`alert`, `action`, …).
    pub kind: Option<String>,
    /// Only this severity.
    pub severity: Option<String>,
    /// Only this node.
    pub node: Option<String>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only unresolved events.
    pub unresolved: bool,
    /// Only events whose title or message contains this text (literally, ignoring case).
    pub text: Option<String>,
}

impl Db {
    /// Stores an event.
    pub async fn insert_event(&self, e: &Event) -> Result<(), DbError> {
        let row = (
            e.id.clone(),
            e.kind.as_str(),
            e.severity.as_str(),
            e.title.clone(),
            e.message.clone(),
            e.node.clone(),
            e.source.as_str(),
            timestamp(e.timestamp),
            e.resolved,
        );
        self.call(move |c| {
            c.execute(
                "INSERT INTO events (id, type, severity, title, message, node, source, timestamp, resolved)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                row,
            )
            .map(|_| ())
        })
        .await
    }

    /// One event.
    pub async fn event(&self, id: String) -> Result<Option<Event>, DbError> {
        self.call(move |c| {
            c.query_row(
                "SELECT id, type, severity, title, message, node, source, timestamp, resolved, acknowledged_at
                 FROM events WHERE id = ?1",
                [id],
                row_to_event,
            )
            .optional()
        })
        .await
    }

    /// Events matching `q`, newest first.
    pub async fn events(&self, q: EventQuery) -> Result<Vec<Event>, DbError> {
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, type, severity, title, message, node, source, timestamp, resolved, acknowledged_at
                 FROM events
                 WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR severity = ?2)
                   AND (?3 IS NULL OR node = ?3) AND (?4 IS NULL OR timestamp >= ?4)
                   AND (?5 = 0 OR resolved = 0)
                   AND (?7 IS NULL OR title LIKE ?7 ESCAPE '\\' OR message LIKE ?7 ESCAPE '\\')
                 ORDER BY timestamp DESC LIMIT ?6",
            )?;
            let since = q.since.map(timestamp);
            let rows = stmt.query_map(
                (
                    q.kind,
                    q.severity,
                    q.node,
                    since,
                    q.unresolved,
                    q.limit.clamp(1, 1000),
                    q.text.as_deref().map(like_pattern),
                ),
                row_to_event,
            )?;
            rows.collect()
        })
        .await
    }
}

fn row_to_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
    let text = |i: usize| -> rusqlite::Result<String> { r.get(i) };
    let bad = |i: usize| {
        rusqlite::Error::InvalidColumnType(i, "enum".into(), rusqlite::types::Type::Text)
    };
    Ok(Event {
        id: text(0)?,
        kind: EventType::parse(&text(1)?).ok_or_else(|| bad(1))?,
        severity: Severity::parse(&text(2)?).ok_or_else(|| bad(2))?,
        title: text(3)?,
        message: text(4)?,
        node: r.get(5)?,
        source: EventSource::parse(&text(6)?).ok_or_else(|| bad(6))?,
        timestamp: parse_time(&text(7)?),
        resolved: r.get(8)?,
        acknowledged_at: r.get::<_, Option<String>>(9)?.as_deref().map(parse_time),
    })
}

/// Escapes `%`, `_` and `\` so user text matches literally in a LIKE pattern.
fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

impl Db {
    /// Events whose title or message contains `text`, newest first. The memory issue replaces
    /// this with FTS over memories.
    pub async fn search_events(&self, text: String, limit: u32) -> Result<Vec<Event>, DbError> {
        self.events(EventQuery { limit, text: Some(text), ..Default::default() }).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{EventSource, EventType, Severity, new_event};
    use chrono::SubsecRound;

    #[tokio::test]
    async fn events_filter_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("e.db")).await.unwrap();
        let mut a = new_event(EventType::Alert, Severity::Critical, EventSource::Monitor, "a", "x");
        a.timestamp = (Utc::now() - chrono::Duration::minutes(5)).trunc_subsecs(3);
        let b = new_event(EventType::Action, Severity::Info, EventSource::User, "b", "y")
            .on_node("pve1");
        db.insert_event(&a).await.unwrap();
        db.insert_event(&b).await.unwrap();
        let all = db.events(EventQuery { limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(all.iter().map(|e| e.title.as_str()).collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(all[1], a, "round trip keeps every field");
        let alerts = db
            .events(EventQuery { limit: 10, kind: Some("alert".into()), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(alerts.len(), 1);
        let recent = db
            .events(EventQuery {
                limit: 10,
                since: Some(Utc::now() - chrono::Duration::minutes(1)),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(recent.len(), 1);
        let on_node = db
            .events(EventQuery { limit: 10, node: Some("pve1".into()), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(on_node[0].node.as_deref(), Some("pve1"));
    }

    #[tokio::test]
    async fn search_matches_literally() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("e.db")).await.unwrap();
        for (t, m) in [("disk 95% full", "pve1 rootfs"), ("CPU high", "load 12"), ("a_b", "x")] {
            db.insert_event(&new_event(
                EventType::Alert,
                Severity::Warning,
                EventSource::Monitor,
                t,
                m,
            ))
            .await
            .unwrap();
        }
        let titles = |v: Vec<Event>| v.into_iter().map(|e| e.title).collect::<Vec<_>>();
        assert_eq!(titles(db.search_events("95%".into(), 10).await.unwrap()), ["disk 95% full"]);
        assert_eq!(titles(db.search_events("ROOTFS".into(), 10).await.unwrap()), ["disk 95% full"]);
        assert!(db.search_events("%".into(), 10).await.unwrap().len() == 1, "% is literal");
        assert_eq!(titles(db.search_events("_".into(), 10).await.unwrap()), ["a_b"]);
    }
}
