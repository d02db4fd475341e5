//! Server-side confirmations (SAFE-05): a RED (or elevated BLACK) action becomes a record bound to
//! the tool and a digest of its canonical arguments; only approving that record executes it.
//!
//! [`Db::claim_confirmation`] moves a record out of `pending` inside one IMMEDIATE transaction,
//! so two concurrent approvals can never both win (single use), and an expired record can never
//! be approved. Records live in SQLite, so they survive a page reload and a server restart.

use chrono::{DateTime, Utc};
use jarvis_domain::tools::Tier;
use rusqlite::{OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use super::{Db, DbError, timestamp};

/// Lifecycle of a confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum ConfirmationStatus {
    /// Waiting for the operator.
    Pending,
    /// Approved; executing.
    Approved,
    /// Denied by the operator.
    Denied,
    /// Not decided in time.
    Expired,
    /// Approved and executed successfully.
    Executed,
    /// Approved but the execution failed or was blocked at execution time.
    Failed,
}

impl ConfirmationStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::Executed => "executed",
            Self::Failed => "failed",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "denied" => Self::Denied,
            "expired" => Self::Expired,
            "executed" => Self::Executed,
            _ => Self::Failed,
        }
    }
}

/// A confirmation as the API and the UI see it.
#[derive(Debug, Clone, PartialEq, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Confirmation {
    /// Unguessable id (UUID v4).
    pub id: String,
    /// Tool to run.
    pub tool: String,
    /// Canonical arguments it will run with — exactly these, nothing else.
    #[ts(type = "Record<string, unknown>")]
    #[schema(value_type = Object)]
    pub args: serde_json::Value,
    /// Human summary ("Stop VM 101 on node pve1 (hard power-off)").
    pub summary: String,
    /// Tool tier.
    #[ts(type = "\"green\" | \"yellow\" | \"red\" | \"black\"")]
    #[schema(value_type = String)]
    pub tier: Tier,
    /// Current status.
    pub status: ConfirmationStatus,
    /// Who asked.
    pub actor: String,
    /// Path it came from.
    pub source: String,
    /// When it was created.
    #[ts(type = "string")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it stops being approvable.
    #[ts(type = "string")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
}

/// Why a confirmation cannot be decided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    /// No such id.
    #[error("no such confirmation")]
    NotFound,
    /// Its time ran out.
    #[error("the confirmation expired; ask again")]
    Expired,
    /// Already approved, denied or executed (single use).
    #[error("the confirmation was already decided")]
    AlreadyDecided,
}

fn parse_time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

const COLUMNS: &str =
    "id, tool, args, summary, tier, status, actor, source, created_at, expires_at, args_digest";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Confirmation, String)> {
    let args: String = r.get(2)?;
    let tier: String = r.get(4)?;
    let status: String = r.get(5)?;
    Ok((
        Confirmation {
            id: r.get(0)?,
            tool: r.get(1)?,
            args: serde_json::from_str(&args).unwrap_or(serde_json::Value::Null),
            summary: r.get(3)?,
            tier: serde_json::from_value(serde_json::Value::String(tier)).unwrap_or(Tier::Black),
            status: ConfirmationStatus::parse(&status),
            actor: r.get(6)?,
            source: r.get(7)?,
            created_at: parse_time(&r.get::<_, String>(8)?),
            expires_at: parse_time(&r.get::<_, String>(9)?),
        },
        r.get(10)?,
    ))
}

impl Db {
    /// Stores a new pending confirmation with the digest of its canonical arguments.
    pub async fn insert_confirmation(
        &self,
        c: &Confirmation,
        digest: String,
    ) -> Result<(), DbError> {
        let tier = serde_json::to_value(c.tier)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let values = (
            c.id.clone(),
            c.tool.clone(),
            c.args.to_string(),
            digest,
            c.summary.clone(),
            tier,
            c.actor.clone(),
            c.source.clone(),
            timestamp(c.created_at),
            timestamp(c.expires_at),
        );
        self.call(move |conn| {
            conn.execute(
                "INSERT INTO confirmations (id, tool, args, args_digest, summary, tier, actor, source,
                                            created_at, expires_at, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending')",
                values,
            )
            .map(|_| ())
        })
        .await
    }

    /// Pending confirmations, oldest first. Records past their expiry are marked `expired` on the
    /// way and returned separately so the caller can announce them.
    pub async fn pending_confirmations(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Confirmation>, Vec<Confirmation>), DbError> {
        let now = timestamp(now);
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let all: Vec<Confirmation> = {
                let mut stmt = tx.prepare(&format!(
                    "SELECT {COLUMNS} FROM confirmations WHERE status = 'pending' ORDER BY created_at"
                ))?;
                stmt.query_map([], row)?.map(|r| r.map(|(c, _)| c)).collect::<Result<_, _>>()?
            };
            tx.execute(
                "UPDATE confirmations SET status = 'expired', decided_at = ?1
                 WHERE status = 'pending' AND expires_at <= ?1",
                [&now],
            )?;
            tx.commit()?;
            let (expired, pending): (Vec<_>, Vec<_>) =
                all.into_iter().partition(|c| timestamp(c.expires_at) <= now);
            let expired = expired.into_iter().map(|mut c| {
                c.status = ConfirmationStatus::Expired;
                c
            });
            Ok((pending, expired.collect()))
        })
        .await
    }

    /// Takes a pending confirmation out of `pending` (to `approved` or `denied`) exactly once.
    /// Returns the record and its stored argument digest.
    pub async fn claim_confirmation(
        &self,
        id: String,
        approve: bool,
        now: DateTime<Utc>,
    ) -> Result<Result<(Confirmation, String), ClaimError>, DbError> {
        let now_s = timestamp(now);
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found = tx
                .query_row(&format!("SELECT {COLUMNS} FROM confirmations WHERE id = ?1"), [&id], row)
                .optional()?;
            let Some((mut conf, digest)) = found else { return Ok(Err(ClaimError::NotFound)) };
            if conf.status != ConfirmationStatus::Pending {
                return Ok(Err(if conf.status == ConfirmationStatus::Expired {
                    ClaimError::Expired
                } else {
                    ClaimError::AlreadyDecided
                }));
            }
            if conf.expires_at <= now {
                tx.execute(
                    "UPDATE confirmations SET status = 'expired', decided_at = ?2 WHERE id = ?1",
                    [&id, &now_s],
                )?;
                tx.commit()?;
                return Ok(Err(ClaimError::Expired));
            }
            conf.status = if approve { ConfirmationStatus::Approved } else { ConfirmationStatus::Denied };
            tx.execute(
                "UPDATE confirmations SET status = ?2, decided_at = ?3 WHERE id = ?1 AND status = 'pending'",
                [&id, conf.status.as_str(), &now_s],
            )?;
            tx.commit()?;
            Ok(Ok((conf, digest)))
        })
        .await
    }

    /// A confirmation and, once it ran, its stored result (the chat turn waiting for it reads
    /// the result here when the bus announces the final status).
    pub async fn confirmation_with_result(
        &self,
        id: String,
    ) -> Result<Option<(Confirmation, Option<serde_json::Value>)>, DbError> {
        self.call(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS}, result FROM confirmations WHERE id = ?1"),
                [&id],
                |r| {
                    let (conf, _) = row(r)?;
                    let result: Option<String> = r.get(11)?;
                    Ok((conf, result.and_then(|s| serde_json::from_str(&s).ok())))
                },
            )
            .optional()
        })
        .await
    }

    /// Records how an approved confirmation ended.
    pub async fn finish_confirmation(
        &self,
        id: String,
        status: ConfirmationStatus,
        result: serde_json::Value,
    ) -> Result<(), DbError> {
        self.call(move |c| {
            c.execute(
                "UPDATE confirmations SET status = ?2, result = ?3 WHERE id = ?1",
                (id, status.as_str(), result.to_string()),
            )
            .map(|_| ())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(expires_in: i64) -> Confirmation {
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 3);
        Confirmation {
            id: uuid::Uuid::new_v4().to_string(),
            tool: "stop_vm".into(),
            args: serde_json::json!({"node": "pve1", "vmid": 101}),
            summary: "Stop VM 101".into(),
            tier: Tier::Red,
            status: ConfirmationStatus::Pending,
            actor: "operator".into(),
            source: "api".into(),
            created_at: now,
            expires_at: now + chrono::Duration::seconds(expires_in),
        }
    }

    #[tokio::test]
    async fn single_use_expiry_and_persistence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let db = Db::open(&path).await.unwrap();
        let live = conf(300);
        let stale = conf(-1);
        db.insert_confirmation(&live, "d1".into()).await.unwrap();
        db.insert_confirmation(&stale, "d2".into()).await.unwrap();
        db.close().await.unwrap();

        let db = Db::open(&path).await.unwrap();
        let (pending, expired) = db.pending_confirmations(Utc::now()).await.unwrap();
        assert_eq!(pending, vec![live.clone()], "survives a restart");
        assert_eq!(expired.len(), 1);
        assert_eq!(
            db.claim_confirmation(stale.id.clone(), true, Utc::now()).await.unwrap(),
            Err(ClaimError::Expired)
        );

        let (got, digest) =
            db.claim_confirmation(live.id.clone(), true, Utc::now()).await.unwrap().unwrap();
        assert_eq!((got.status, digest.as_str()), (ConfirmationStatus::Approved, "d1"));
        assert_eq!(
            db.claim_confirmation(live.id.clone(), true, Utc::now()).await.unwrap(),
            Err(ClaimError::AlreadyDecided),
            "cannot be replayed"
        );
        assert_eq!(
            db.claim_confirmation("nope".into(), true, Utc::now()).await.unwrap(),
            Err(ClaimError::NotFound)
        );
    }

    #[tokio::test]
    async fn concurrent_approvals_have_exactly_one_winner() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("c.db")).await.unwrap();
        let c = conf(300);
        db.insert_confirmation(&c, "d".into()).await.unwrap();
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (db, id) = (db.clone(), c.id.clone());
                tokio::spawn(
                    async move { db.claim_confirmation(id, true, Utc::now()).await.unwrap() },
                )
            })
            .collect();
        let mut wins = 0;
        for t in tasks {
            if t.await.unwrap().is_ok() {
                wins += 1;
            }
        }
        assert_eq!(wins, 1);
    }
}
