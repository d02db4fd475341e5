//! Operator settings that must survive a restart (the kill switch, the routing rules; later the
//! autonomy level).

use chrono::Utc;
use jarvis_domain::routing::RoutingRules;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::{Db, DbError, timestamp};

/// Settings key of the stored [`RoutingConfig`].
const ROUTING_KEY: &str = "routing";

/// The routing rules in force plus the daily budget cap (`GET/PUT /api/routing`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingConfig {
    /// Keywords, small-talk patterns, local context limit, per-tool preferences.
    #[serde(flatten)]
    pub rules: RoutingRules,
    /// USD per operator day; 0 disables the cap.
    pub daily_budget_usd: f64,
}

impl RoutingConfig {
    /// The default rules with `daily_budget_usd` (the configured `DAILY_COST_LIMIT`).
    pub fn defaults(daily_budget_usd: f64) -> RoutingConfig {
        RoutingConfig { rules: RoutingRules::default(), daily_budget_usd }
    }
}

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

impl Db {
    /// The stored routing settings; `None` when never set (or unreadable, which is logged).
    pub async fn routing_config(&self) -> Result<Option<RoutingConfig>, DbError> {
        let Some(text) = self.setting(ROUTING_KEY).await? else { return Ok(None) };
        match serde_json::from_str(&text) {
            Ok(config) => Ok(Some(config)),
            Err(e) => {
                tracing::warn!(error = %e, "stored routing settings are unreadable; using defaults");
                Ok(None)
            }
        }
    }

    /// Stores the routing settings (the caller validated them).
    pub async fn set_routing_config(&self, config: &RoutingConfig) -> Result<(), DbError> {
        let text = serde_json::to_string(config)
            .map_err(|e| DbError::Query(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        self.set_setting(ROUTING_KEY, text).await
    }

    /// The routing settings in force: the stored ones, else the defaults with
    /// `default_daily_budget_usd` (the configured `DAILY_COST_LIMIT`).
    pub async fn effective_routing(
        &self,
        default_daily_budget_usd: f64,
    ) -> Result<RoutingConfig, DbError> {
        Ok(self
            .routing_config()
            .await?
            .unwrap_or_else(|| RoutingConfig::defaults(default_daily_budget_usd)))
    }
}

#[cfg(test)]
mod tests {
    use super::RoutingConfig;
    use crate::db::Db;

    #[tokio::test]
    async fn routing_config_round_trips_and_defaults_when_absent_or_broken() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("r.db")).await.unwrap();
        assert_eq!(db.routing_config().await.unwrap(), None);
        assert_eq!(db.effective_routing(5.0).await.unwrap(), RoutingConfig::defaults(5.0));
        let mut config = RoutingConfig::defaults(2.5);
        config.rules.tool_keywords = vec!["reboot*".into()];
        db.set_routing_config(&config).await.unwrap();
        assert_eq!(db.routing_config().await.unwrap(), Some(config.clone()));
        assert_eq!(db.effective_routing(5.0).await.unwrap(), config);
        let stored = db.setting("routing").await.unwrap().unwrap();
        assert!(stored.contains("\"toolKeywords\"") && stored.contains("\"dailyBudgetUsd\""));
        db.set_setting("routing", "{not json".into()).await.unwrap();
        assert_eq!(db.effective_routing(1.0).await.unwrap(), RoutingConfig::defaults(1.0));
    }

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
