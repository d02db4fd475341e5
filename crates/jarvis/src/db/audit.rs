//! The hash-chained audit log (SAFE-08): every mutation, blocked attempt, confirmation decision
//! and terminal session.
//!
//! Appends are serialised by an IMMEDIATE transaction that reads the last hash and inserts the
//! new row in one step, so concurrent writers can never fork the chain. Hashing and verification
//! rules live in `jarvis_domain::audit`; this module only stores and reads rows.

use chrono::{DateTime, Utc};
use jarvis_domain::audit::{AuditEntry, Decision, GENESIS_HASH, Outcome, entry_hash};
use jarvis_domain::tools::Tier;
use rusqlite::{OptionalExtension, TransactionBehavior};

use super::{Db, DbError, timestamp};

/// What to record; id, time and hashes are filled in by [`Db::append_audit`].
#[derive(Debug, Clone)]
pub struct NewAudit {
    /// Who (operator, `jarvis`, `monitor`, an MCP client).
    pub actor: String,
    /// Which path (`chat`, `api`, `mcp`, `monitor`, `terminal`, `ui`).
    pub source: String,
    /// Tool name, if a tool was involved.
    pub tool: Option<String>,
    /// Canonical arguments.
    pub args: Option<serde_json::Value>,
    /// Tool tier.
    pub tier: Option<Tier>,
    /// What was decided (stored as its word).
    pub decision: Decision,
    /// What happened (stored as its word).
    pub outcome: Outcome,
    /// Free text: the block reason, the error, the result summary.
    pub detail: Option<String>,
}

fn tier_str(t: Tier) -> String {
    serde_json::to_value(t).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

pub(super) fn row_to_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    let args: Option<String> = r.get(5)?;
    let tier: Option<String> = r.get(6)?;
    Ok(AuditEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        source: r.get(3)?,
        tool: r.get(4)?,
        // A row whose JSON no longer parses was tampered with; keep the raw text so the hash
        // check (not a parse error) reports it.
        args: args.map(|a| serde_json::from_str(&a).unwrap_or(serde_json::Value::String(a))),
        tier: tier.and_then(|t| serde_json::from_value(serde_json::Value::String(t)).ok()),
        decision: r.get(7)?,
        outcome: r.get(8)?,
        detail: r.get(9)?,
        prev_hash: r.get(10)?,
        hash: r.get(11)?,
    })
}

pub(super) const COLUMNS: &str =
    "id, at, actor, source, tool, args, tier, decision, outcome, detail, prev_hash, hash";

impl Db {
    /// Appends a record to the chain and returns it.
    pub async fn append_audit(&self, new: NewAudit) -> Result<AuditEntry, DbError> {
        self.append_audit_at(new, Utc::now()).await
    }

    /// [`Db::append_audit`] with an explicit time: for importers, benchmarks and retention tests
    /// that need entries in the past. The chain rules are the same.
    pub async fn append_audit_at(
        &self,
        new: NewAudit,
        at: DateTime<Utc>,
    ) -> Result<AuditEntry, DbError> {
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let last: Option<(i64, String)> = tx
                .query_row("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            // With every live row archived, the chain continues from the checkpoint.
            let last = match last {
                Some(l) => Some(l),
                None => super::audit_archive::checkpoint(&tx)?,
            };
            let (last_id, prev_hash) = last.unwrap_or((0, GENESIS_HASH.to_string()));
            let mut entry = AuditEntry {
                id: last_id + 1,
                at: timestamp(at),
                actor: new.actor,
                source: new.source,
                tool: new.tool,
                args: new.args,
                tier: new.tier,
                decision: new.decision.as_str().to_owned(),
                outcome: new.outcome.as_str().to_owned(),
                detail: new.detail,
                prev_hash,
                hash: String::new(),
            };
            entry.hash = entry_hash(&entry.prev_hash, &entry);
            tx.execute(
                &format!("INSERT INTO audit_log ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
                rusqlite::params![
                    entry.id,
                    entry.at,
                    entry.actor,
                    entry.source,
                    entry.tool,
                    entry.args.as_ref().map(|a| a.to_string()),
                    entry.tier.map(tier_str),
                    entry.decision,
                    entry.outcome,
                    entry.detail,
                    entry.prev_hash,
                    entry.hash,
                ],
            )?;
            tx.commit()?;
            Ok(entry)
        })
        .await
    }

    /// Newest entries first, filtered.
    pub async fn audit_entries(
        &self,
        limit: u32,
        since: Option<DateTime<Utc>>,
        tool: Option<String>,
    ) -> Result<Vec<AuditEntry>, DbError> {
        let since = since.map(timestamp);
        self.call(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM audit_log
                 WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR tool = ?2)
                 ORDER BY id DESC LIMIT ?3"
            ))?;
            let rows = stmt.query_map((since, tool, limit.clamp(1, 1000)), row_to_entry)?;
            rows.collect()
        })
        .await
    }

    /// Verifies the whole chain — the archive, then the live log — and returns the number of
    /// entries checked and the first broken id, if any. See [`Db::verify_audit_chain`].
    pub async fn verify_audit(&self) -> Result<(u64, Option<i64>), DbError> {
        let check = self.verify_audit_chain().await?;
        Ok((check.entries, check.first_broken_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(decision: Decision) -> NewAudit {
        NewAudit {
            actor: "operator".into(),
            source: "api".into(),
            tool: Some("stop_vm".into()),
            args: Some(serde_json::json!({"node": "pve1", "vmid": 101})),
            tier: Some(Tier::Red),
            decision,
            outcome: Outcome::Success,
            detail: None,
        }
    }

    const WRITES: [Decision; 5] = [
        Decision::Executed,
        Decision::Blocked,
        Decision::Approved,
        Decision::Denied,
        Decision::Executed,
    ];

    #[tokio::test]
    async fn words_are_stored_as_written_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("a.db")).await.unwrap();
        for (d, o) in [
            (Decision::ConfirmationRequested, Outcome::Pending),
            (Decision::KillSwitchOn, Outcome::Success),
            (Decision::Elevate, Outcome::Denied),
        ] {
            db.append_audit(NewAudit { decision: d, outcome: o, ..new(d) }).await.unwrap();
        }
        let stored: Vec<(String, String)> = db
            .call(|c| {
                let mut stmt = c.prepare("SELECT decision, outcome FROM audit_log ORDER BY id")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect()
            })
            .await
            .unwrap();
        let words = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(d, o)| ((*d).to_owned(), (*o).to_owned())).collect()
        };
        assert_eq!(
            stored,
            words(&[
                ("confirmation_requested", "pending"),
                ("kill_switch_on", "success"),
                ("elevate", "denied")
            ])
        );
        let read = db.audit_entries(10, None, None).await.unwrap();
        assert_eq!(read[0].decision_kind(), Some(Decision::Elevate));
        assert_eq!(read[0].outcome_kind(), Some(Outcome::Denied));
        assert_eq!(db.verify_audit().await.unwrap(), (3, None));
    }

    #[tokio::test]
    async fn chain_verifies_and_any_edit_breaks_it_at_that_row() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("a.db")).await.unwrap();
        for d in WRITES {
            db.append_audit(new(d)).await.unwrap();
        }
        assert_eq!(db.verify_audit().await.unwrap(), (5, None));
        for (column, value) in [
            ("actor", "'mallory'"),
            ("args", "'{\"node\":\"pve1\",\"vmid\":102}'"),
            ("outcome", "'failure'"),
            ("at", "'2020-01-01T00:00:00.000Z'"),
            ("tier", "'green'"),
            ("detail", "'x'"),
        ] {
            db.call(move |c| {
                c.execute(&format!("UPDATE audit_log SET {column} = {value} WHERE id = 3"), [])
            })
            .await
            .unwrap();
            assert_eq!(db.verify_audit().await.unwrap().1, Some(3), "editing {column}");
            // Start a fresh, valid log for the next column.
            db.call(|c| c.execute("DELETE FROM audit_log", [])).await.unwrap();
            for d in WRITES {
                db.append_audit(new(d)).await.unwrap();
            }
        }
        db.call(|c| c.execute("DELETE FROM audit_log WHERE id = 2", [])).await.unwrap();
        assert_eq!(
            db.verify_audit().await.unwrap().1,
            Some(3),
            "a deleted row breaks the next one"
        );
    }

    #[tokio::test]
    async fn concurrent_appends_never_fork_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("a.db")).await.unwrap();
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                tokio::spawn({
                    let db = db.clone();
                    async move { db.append_audit(new(Decision::Executed)).await.unwrap() }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(db.verify_audit().await.unwrap(), (40, None));
        let newest = db.audit_entries(5, None, Some("stop_vm".into())).await.unwrap();
        assert_eq!(newest.len(), 5);
        assert_eq!(newest[0].id, 40);
    }
}
