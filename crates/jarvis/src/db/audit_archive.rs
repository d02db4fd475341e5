//! Archiving the audit chain (MEM-09) without losing its ability to verify.
//!
//! Old rows move from `audit_log` to `audit_archive` unchanged — same ids, fields and hashes —
//! and `audit_checkpoint` records the last archived id and its hash. Verification walks the
//! archive and then the live log as one chain, so an edit anywhere (either table, or the
//! checkpoint) still breaks it at that row. Archiving first verifies the segment it moves and
//! refuses if it is broken: moving rows can never launder a tampered chain into a valid one.
//! The newest row always stays live, so appends keep reading their predecessor from the log.

use chrono::{DateTime, Utc};
use jarvis_domain::audit::{AuditEntry, GENESIS_HASH, entry_hash};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::audit::{COLUMNS, row_to_entry};
use super::{Db, DbError, timestamp};

/// The result of walking the whole chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCheck {
    /// Entries verified before the first break (all of them when valid), archive included.
    pub entries: u64,
    /// The first id that does not verify.
    pub first_broken_id: Option<i64>,
    /// The last archived id, when anything was archived.
    pub archived_through: Option<i64>,
    /// How many of `entries` were in the archive.
    pub archived_entries: u64,
}

/// What one archiving step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveOutcome {
    /// `moved` rows were archived; the checkpoint is now `through`.
    Archived {
        /// Rows moved.
        moved: usize,
        /// The new checkpoint id.
        through: i64,
    },
    /// Nothing was old enough.
    Nothing,
    /// The segment to archive does not verify (first broken id); nothing was moved.
    Refused(i64),
}

/// The checkpoint (last archived id and hash), if any.
pub(super) fn checkpoint(c: &Connection) -> rusqlite::Result<Option<(i64, String)>> {
    c.query_row("SELECT through_id, hash FROM audit_checkpoint WHERE one = 1", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()
}

/// Walks entries against the expected next id and previous hash; returns the first broken id.
fn walk(entries: &[AuditEntry], next_id: &mut i64, prev: &mut String) -> Option<i64> {
    for e in entries {
        // A gap (deleted row), a broken link or a wrong hash all break here.
        if e.id != *next_id || e.prev_hash != *prev || entry_hash(&e.prev_hash, e) != e.hash {
            return Some(e.id);
        }
        *prev = e.hash.clone();
        *next_id = e.id + 1;
    }
    None
}

fn page(c: &Connection, table: &str, after: i64, limit: i64) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut stmt =
        c.prepare(&format!("SELECT {COLUMNS} FROM {table} WHERE id > ?1 ORDER BY id LIMIT ?2"))?;
    let rows = stmt.query_map((after, limit), row_to_entry)?;
    rows.collect()
}

impl Db {
    /// Verifies the chain across the archive and the live log, a page at a time. The checkpoint
    /// must match the archive's last row, and the live log must continue from it.
    pub async fn verify_audit_chain(&self) -> Result<AuditCheck, DbError> {
        const PAGE: i64 = 1000;
        let cp = self.call(|c| checkpoint(c)).await?;
        let mut next_id = 1i64;
        let mut prev = GENESIS_HASH.to_string();
        let mut check = AuditCheck {
            entries: 0,
            first_broken_id: None,
            archived_through: cp.as_ref().map(|(id, _)| *id),
            archived_entries: 0,
        };
        for table in ["audit_archive", "audit_log"] {
            let mut after = 0i64;
            loop {
                let rows = self.call(move |c| page(c, table, after, PAGE)).await?;
                let Some(last) = rows.last() else { break };
                after = last.id;
                let before = next_id;
                let broken = walk(&rows, &mut next_id, &mut prev);
                let ok = u64::try_from(next_id - before).unwrap_or(0);
                check.entries += ok;
                if table == "audit_archive" {
                    check.archived_entries += ok;
                }
                if broken.is_some() {
                    check.first_broken_id = broken;
                    return Ok(check);
                }
            }
            if table == "audit_archive" {
                let archived_tip = (next_id > 1).then(|| (next_id - 1, prev.clone()));
                if archived_tip != cp {
                    // The archive and its checkpoint disagree: rows were removed from the
                    // archive's end, or the checkpoint was edited.
                    check.first_broken_id = Some(cp.as_ref().map_or(next_id, |(id, _)| *id));
                    return Ok(check);
                }
            }
        }
        Ok(check)
    }

    /// Moves audit rows written before `before` into the archive (never the newest row), in one
    /// transaction, after verifying them from the current checkpoint.
    pub async fn archive_audit(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<ArchiveOutcome, DbError> {
        let (before, now) = (timestamp(before), timestamp(now));
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let cut: Option<i64> = tx.query_row(
                "SELECT MAX(id) FROM audit_log
                 WHERE at < ?1 AND id < (SELECT MAX(id) FROM audit_log)",
                [&before],
                |r| r.get(0),
            )?;
            let Some(cut) = cut else { return Ok(ArchiveOutcome::Nothing) };
            let (mut next_id, mut prev) = checkpoint(&tx)?
                .map_or((1, GENESIS_HASH.to_string()), |(id, hash)| (id + 1, hash));
            let segment = {
                let mut stmt = tx.prepare(&format!(
                    "SELECT {COLUMNS} FROM audit_log WHERE id <= ?1 ORDER BY id"
                ))?;
                let rows = stmt.query_map([cut], row_to_entry)?;
                rows.collect::<Result<Vec<_>, _>>()?
            };
            if let Some(broken) = walk(&segment, &mut next_id, &mut prev) {
                return Ok(ArchiveOutcome::Refused(broken));
            }
            let moved = tx.execute(
                &format!(
                    "INSERT INTO audit_archive ({COLUMNS}) SELECT {COLUMNS} FROM audit_log WHERE id <= ?1"
                ),
                [cut],
            )?;
            tx.execute("DELETE FROM audit_log WHERE id <= ?1", [cut])?;
            tx.execute(
                "INSERT INTO audit_checkpoint (one, through_id, hash, archived_at) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (one) DO UPDATE SET through_id = ?1, hash = ?2, archived_at = ?3",
                (cut, &prev, &now),
            )?;
            tx.commit()?;
            Ok(ArchiveOutcome::Archived { moved, through: cut })
        })
        .await
    }
}
