//! Storage of the monitor: incidents (timeline and the machine's bookkeeping as JSON), runbook
//! attempts, silences, the lifecycle actions Jarvis ran (read from the audit log), and the
//! retention rules of these tables and of the events table.

use chrono::{DateTime, Utc};
use jarvis_domain::events::Severity;
use jarvis_domain::monitor::{
    ActionResult, Incident, IncidentKind, IncidentState, IncidentTracking, JarvisAction, Matcher,
    MonitorAction, Silence, TimelineEntry,
};
use rusqlite::{OptionalExtension, Row};
use serde_json::Value;

use super::{Db, DbError, parse_time, timestamp};
use crate::events::Event;

/// Tools whose audited runs explain a guest stopping or a node going down.
const LIFECYCLE_TOOLS: &str = "'stop_vm','shutdown_vm','restart_vm','stop_container',\
                               'shutdown_container','restart_container','reboot_node','shutdown_node'";

fn json_err(e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

fn bad_word(i: usize) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(i, "word".into(), rusqlite::types::Type::Text)
}

fn opt_time(s: Option<String>) -> Option<DateTime<Utc>> {
    s.as_deref().map(parse_time)
}

const INCIDENT_COLUMNS: &str = "id, key, kind, severity, state, node, vmid, title, opened_at, \
     acknowledged_at, resolved_at, occurrences, suppressed_by, timeline, tracking";

fn row_to_incident(r: &Row<'_>) -> rusqlite::Result<Incident> {
    let timeline: Vec<TimelineEntry> =
        serde_json::from_str(&r.get::<_, String>(13)?).map_err(json_err)?;
    // Bookkeeping written by another version may not parse; the incident itself still shows.
    let tracking: IncidentTracking =
        serde_json::from_str(&r.get::<_, String>(14)?).unwrap_or_default();
    Ok(Incident {
        id: r.get(0)?,
        key: r.get(1)?,
        kind: IncidentKind::parse(&r.get::<_, String>(2)?).ok_or_else(|| bad_word(2))?,
        severity: Severity::parse(&r.get::<_, String>(3)?).ok_or_else(|| bad_word(3))?,
        state: IncidentState::parse(&r.get::<_, String>(4)?).ok_or_else(|| bad_word(4))?,
        node: r.get(5)?,
        vmid: r.get(6)?,
        title: r.get(7)?,
        opened_at: parse_time(&r.get::<_, String>(8)?),
        acknowledged_at: opt_time(r.get(9)?),
        resolved_at: opt_time(r.get(10)?),
        occurrences: r.get(11)?,
        suppressed_by: r.get(12)?,
        flapping: tracking.flapping,
        escalated: tracking.escalated,
        timeline,
        tracking,
    })
}

const ACTION_COLUMNS: &str = "id, at, incident_id, incident_key, runbook_id, tool, args, result, \
     verification, detail, autonomy_level, node, attempt, verify_at, audit_id, confirmation_id, \
     finished_at";

fn row_to_action(r: &Row<'_>) -> rusqlite::Result<MonitorAction> {
    Ok(MonitorAction {
        id: r.get(0)?,
        timestamp: parse_time(&r.get::<_, String>(1)?),
        incident_id: r.get(2)?,
        incident_key: r.get(3)?,
        runbook_id: r.get(4)?,
        action: r.get(5)?,
        args: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or(Value::Null),
        result: ActionResult::parse(&r.get::<_, String>(7)?).ok_or_else(|| bad_word(7))?,
        verification: r.get(8)?,
        detail: r.get(9)?,
        autonomy_level: r.get(10)?,
        node: r.get(11)?,
        attempt: r.get(12)?,
        verify_at: opt_time(r.get(13)?),
        audit_id: r.get(14)?,
        confirmation_id: r.get(15)?,
        finished_at: opt_time(r.get(16)?),
    })
}

fn row_to_silence(r: &Row<'_>) -> rusqlite::Result<Silence> {
    let kind: Option<String> = r.get(3)?;
    Ok(Silence {
        id: r.get(0)?,
        matcher: Matcher {
            node: r.get(1)?,
            vmid: r.get(2)?,
            kind: match kind {
                Some(k) => Some(IncidentKind::parse(&k).ok_or_else(|| bad_word(3))?),
                None => None,
            },
        },
        reason: r.get(4)?,
        created_by: r.get(5)?,
        created_at: parse_time(&r.get::<_, String>(6)?),
        expires_at: parse_time(&r.get::<_, String>(7)?),
    })
}

/// Whether an event ack/resolve found its event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventUpdate {
    /// The event after the change.
    Updated(Event),
    /// No such event.
    NotFound,
}

impl Db {
    /// Inserts or updates an incident (by id).
    pub async fn save_incident(&self, inc: &Incident) -> Result<(), DbError> {
        let mut tracking = inc.tracking.clone();
        tracking.flapping = inc.flapping;
        tracking.escalated = inc.escalated;
        let timeline =
            serde_json::to_string(&inc.timeline).map_err(|e| DbError::Query(json_err(e)))?;
        let tracking = serde_json::to_string(&tracking).map_err(|e| DbError::Query(json_err(e)))?;
        let inc = inc.clone();
        let now = timestamp(Utc::now());
        self.call(move |c| {
            c.execute(
                "INSERT INTO incidents (id, key, kind, severity, state, node, vmid, title, opened_at,
                   acknowledged_at, resolved_at, occurrences, suppressed_by, timeline, tracking, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                 ON CONFLICT(id) DO UPDATE SET severity = excluded.severity, state = excluded.state,
                   node = excluded.node, vmid = excluded.vmid, title = excluded.title,
                   acknowledged_at = excluded.acknowledged_at, resolved_at = excluded.resolved_at,
                   occurrences = excluded.occurrences, suppressed_by = excluded.suppressed_by,
                   timeline = excluded.timeline, tracking = excluded.tracking,
                   updated_at = excluded.updated_at",
                rusqlite::params![
                    inc.id,
                    inc.key,
                    inc.kind.as_str(),
                    inc.severity.as_str(),
                    inc.state.as_str(),
                    inc.node,
                    inc.vmid,
                    inc.title,
                    timestamp(inc.opened_at),
                    inc.acknowledged_at.map(timestamp),
                    inc.resolved_at.map(timestamp),
                    inc.occurrences,
                    inc.suppressed_by,
                    timeline,
                    tracking,
                    now,
                ],
            )
            .map(|_| ())
        })
        .await
    }

    /// Incidents, newest first, optionally in one state.
    pub async fn incidents(
        &self,
        state: Option<IncidentState>,
        limit: u32,
    ) -> Result<Vec<Incident>, DbError> {
        self.call(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE (?1 IS NULL OR state = ?1)
                 ORDER BY opened_at DESC, id LIMIT ?2"
            ))?;
            let rows =
                stmt.query_map((state.map(|s| s.as_str()), limit.clamp(1, 1000)), row_to_incident)?;
            rows.collect()
        })
        .await
    }

    /// One incident.
    pub async fn incident(&self, id: String) -> Result<Option<Incident>, DbError> {
        self.call(move |c| {
            c.query_row(
                &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1"),
                [id],
                row_to_incident,
            )
            .optional()
        })
        .await
    }

    /// What the monitor needs back after a restart: unresolved incidents, and resolved ones
    /// still inside the reopen window (or accepted by the operator while still holding).
    pub async fn incidents_to_restore(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<Incident>, DbError> {
        let since = timestamp(since);
        self.call(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {INCIDENT_COLUMNS} FROM incidents
                 WHERE state != 'resolved' OR resolved_at >= ?1 OR tracking LIKE '%\"accepted\":true%'
                 ORDER BY opened_at"
            ))?;
            let rows = stmt.query_map([since], row_to_incident)?;
            rows.collect()
        })
        .await
    }

    /// Inserts or updates an action (by id).
    pub async fn save_action(&self, a: &MonitorAction) -> Result<(), DbError> {
        let a = a.clone();
        let args = serde_json::to_string(&a.args).map_err(|e| DbError::Query(json_err(e)))?;
        self.call(move |c| {
            c.execute(
                "INSERT INTO monitor_actions (id, at, incident_id, incident_key, runbook_id, tool, args,
                   result, verification, detail, autonomy_level, node, attempt, verify_at, audit_id,
                   confirmation_id, finished_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
                 ON CONFLICT(id) DO UPDATE SET result = excluded.result,
                   verification = excluded.verification, detail = excluded.detail,
                   verify_at = excluded.verify_at, audit_id = excluded.audit_id,
                   confirmation_id = excluded.confirmation_id, finished_at = excluded.finished_at",
                rusqlite::params![
                    a.id,
                    timestamp(a.timestamp),
                    a.incident_id,
                    a.incident_key,
                    a.runbook_id,
                    a.action,
                    args,
                    a.result.as_str(),
                    a.verification,
                    a.detail,
                    a.autonomy_level,
                    a.node,
                    a.attempt,
                    a.verify_at.map(timestamp),
                    a.audit_id,
                    a.confirmation_id,
                    a.finished_at.map(timestamp),
                ],
            )
            .map(|_| ())
        })
        .await
    }

    /// Actions, newest first.
    pub async fn monitor_actions(
        &self,
        limit: u32,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<MonitorAction>, DbError> {
        let since = since.map(timestamp);
        self.call(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {ACTION_COLUMNS} FROM monitor_actions WHERE (?1 IS NULL OR at >= ?1)
                 ORDER BY at DESC, id DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map((since, limit.clamp(1, 1000)), row_to_action)?;
            rows.collect()
        })
        .await
    }

    /// Actions the monitor needs back after a restart: everything still in progress and every
    /// attempt since `since` (the runbook window).
    pub async fn actions_to_restore(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<MonitorAction>, DbError> {
        let since = timestamp(since);
        self.call(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {ACTION_COLUMNS} FROM monitor_actions
                 WHERE result IN ('pending', 'recommended') OR at >= ?1 ORDER BY at, id"
            ))?;
            let rows = stmt.query_map([since], row_to_action)?;
            rows.collect()
        })
        .await
    }

    /// Stores a silence.
    pub async fn insert_silence(&self, s: &Silence) -> Result<(), DbError> {
        let s = s.clone();
        self.call(move |c| {
            c.execute(
                "INSERT INTO silences (id, node, vmid, kind, reason, created_by, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                rusqlite::params![
                    s.id,
                    s.matcher.node,
                    s.matcher.vmid,
                    s.matcher.kind.map(|k| k.as_str()),
                    s.reason,
                    s.created_by,
                    timestamp(s.created_at),
                    timestamp(s.expires_at),
                ],
            )
            .map(|_| ())
        })
        .await
    }

    /// Silences that have not expired at `now`, soonest to expire first.
    pub async fn active_silences(&self, now: DateTime<Utc>) -> Result<Vec<Silence>, DbError> {
        let now = timestamp(now);
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, node, vmid, kind, reason, created_by, created_at, expires_at
                 FROM silences WHERE expires_at > ?1 ORDER BY expires_at",
            )?;
            let rows = stmt.query_map([now], row_to_silence)?;
            rows.collect()
        })
        .await
    }

    /// Deletes a silence; false when there was none.
    pub async fn delete_silence(&self, id: String) -> Result<bool, DbError> {
        self.call(move |c| c.execute("DELETE FROM silences WHERE id = ?1", [id]).map(|n| n > 0))
            .await
    }

    /// Lifecycle actions Jarvis ran since `since`, from the audit log (any source): what explains
    /// a guest stopping or a node going down.
    pub async fn jarvis_lifecycle_actions(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<JarvisAction>, DbError> {
        let since = timestamp(since);
        self.call(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT at, tool, args, actor FROM audit_log
                 WHERE at >= ?1 AND tool IN ({LIFECYCLE_TOOLS})
                   AND decision = 'executed' AND outcome = 'success'
                 ORDER BY id"
            ))?;
            let rows = stmt.query_map([since], |r| {
                let args: Option<String> = r.get(2)?;
                let args: Value =
                    args.and_then(|a| serde_json::from_str(&a).ok()).unwrap_or(Value::Null);
                Ok(JarvisAction {
                    at: parse_time(&r.get::<_, String>(0)?),
                    tool: r.get(1)?,
                    node: args.get("node").and_then(Value::as_str).map(str::to_owned),
                    vmid: args
                        .get("vmid")
                        .and_then(Value::as_u64)
                        .and_then(|v| u32::try_from(v).ok()),
                    actor: r.get(3)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Acknowledges an event (idempotent: the first time stays).
    pub async fn ack_event(&self, id: String, at: DateTime<Utc>) -> Result<EventUpdate, DbError> {
        let at = timestamp(at);
        let key = id.clone();
        let n = self
            .call(move |c| {
                c.execute(
                    "UPDATE events SET acknowledged_at = COALESCE(acknowledged_at, ?2) WHERE id = ?1",
                    (key, at),
                )
            })
            .await?;
        self.event_after_update(id, n).await
    }

    /// Marks an event resolved.
    pub async fn resolve_event(&self, id: String) -> Result<EventUpdate, DbError> {
        let key = id.clone();
        let n = self
            .call(move |c| c.execute("UPDATE events SET resolved = 1 WHERE id = ?1", [key]))
            .await?;
        self.event_after_update(id, n).await
    }

    async fn event_after_update(&self, id: String, changed: usize) -> Result<EventUpdate, DbError> {
        if changed == 0 {
            return Ok(EventUpdate::NotFound);
        }
        Ok(self.event(id).await?.map_or(EventUpdate::NotFound, EventUpdate::Updated))
    }
}
