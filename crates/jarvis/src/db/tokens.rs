//! Persistence of revoked session tokens (logout), so a revoked token stays revoked after restart.

use super::{Db, DbError};

impl Db {
    /// Records that the token `jti` is revoked until `expires_at` (unix seconds).
    pub async fn revoke_token(&self, jti: String, expires_at: i64) -> Result<(), DbError> {
        self.call(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?1, ?2)",
                (jti, expires_at),
            )
            .map(|_| ())
        })
        .await
    }

    /// The revoked tokens that have not expired yet (`now` in unix seconds); older rows are
    /// deleted, which keeps the table bounded.
    pub async fn live_revoked_tokens(&self, now: i64) -> Result<Vec<(String, i64)>, DbError> {
        self.call(move |c| {
            c.execute("DELETE FROM revoked_tokens WHERE expires_at <= ?1", [now])?;
            let mut stmt = c.prepare("SELECT jti, expires_at FROM revoked_tokens")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::db::Db;

    #[tokio::test]
    async fn revocations_persist_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let db = Db::open(&path).await.unwrap();
        db.revoke_token("a".into(), 100).await.unwrap();
        db.revoke_token("b".into(), 300).await.unwrap();
        db.revoke_token("b".into(), 300).await.unwrap();
        db.close().await.unwrap();

        let db = Db::open(&path).await.unwrap();
        let live = db.live_revoked_tokens(200).await.unwrap();
        assert_eq!(live, vec![("b".to_string(), 300)]);
        let n: i64 = db
            .call(|c| c.query_row("SELECT COUNT(*) FROM revoked_tokens", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(n, 1, "expired revocations are pruned");
    }
}
