//! Operator settings that must survive a restart (the kill switch; later the autonomy level).

use chrono::Utc;
use rusqlite::OptionalExtension;

use super::{Db, DbError, timestamp};

impl Db {
    /// Reads a setting.
    pub async fn setting(&self, key: &'static str) -> Result<Option<String>, DbError> {
        self.call(move |c| {
            c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()
        })
        .await
    }

    /// Writes a setting.
    pub async fn set_setting(&self, key: &'static str, value: String) -> Result<(), DbError> {
        let now = timestamp(Utc::now());
        self.call(move |c| {
            c.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (key, value, now),
            )
            .map(|_| ())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::db::Db;

    #[tokio::test]
    async fn settings_round_trip_and_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("s.db")).await.unwrap();
        assert_eq!(db.setting("kill_switch").await.unwrap(), None);
        db.set_setting("kill_switch", "true".into()).await.unwrap();
        db.set_setting("kill_switch", "false".into()).await.unwrap();
        assert_eq!(db.setting("kill_switch").await.unwrap().as_deref(), Some("false"));
    }
}
