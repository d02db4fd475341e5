//! Operator-controlled safety state: the kill switch (persisted) and passkey elevations.
//!
//! Both are read by the tool pipeline at *execution* time. The kill switch lives in an atomic so
//! every check sees a throw immediately; it is written to the database first, so a restart never
//! silently turns it off. Elevation is per session token (the JWT id) and expires after five
//! minutes; the passkey itself is never stored, logged or shown to a model.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jarvis_domain::safety::Protected;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use crate::config::Secret;
use crate::db::{Db, DbError};

/// How long an elevation lasts.
pub const ELEVATION: Duration = Duration::from_secs(5 * 60);

const KILL_SWITCH_KEY: &str = "kill_switch";

/// Kill switch, elevations and the protected-resource lists.
#[derive(Debug)]
pub struct Guard {
    kill_switch: AtomicBool,
    /// Serialises [`Guard::set_kill_switch`] and [`Guard::refresh`], so a refresh can never
    /// store a value older than a concurrent throw.
    kill_switch_write: tokio::sync::Mutex<()>,
    elevations: Mutex<HashMap<String, DateTime<Utc>>>,
    /// Resources no tool may act on, whatever the elevation.
    pub protected: Protected,
    override_key: Option<Secret<String>>,
    db: Db,
}

impl Guard {
    /// Loads the persisted kill switch.
    pub async fn load(
        db: Db,
        protected: Protected,
        override_key: Option<Secret<String>>,
    ) -> Result<Guard, DbError> {
        let on = db.setting(KILL_SWITCH_KEY).await?.as_deref() == Some("true");
        Ok(Guard {
            kill_switch: AtomicBool::new(on),
            kill_switch_write: tokio::sync::Mutex::new(()),
            elevations: Mutex::new(HashMap::new()),
            protected,
            override_key,
            db,
        })
    }

    /// Whether the kill switch is on.
    pub fn kill_switch(&self) -> bool {
        self.kill_switch.load(Ordering::SeqCst)
    }

    /// Throws or releases the kill switch: persisted first, then effective.
    pub async fn set_kill_switch(&self, on: bool) -> Result<(), DbError> {
        let _write = self.kill_switch_write.lock().await;
        self.db.set_setting(KILL_SWITCH_KEY, on.to_string()).await?;
        self.kill_switch.store(on, Ordering::SeqCst);
        Ok(())
    }

    /// Throws or releases the kill switch on behalf of `actor` via `source` — the one way REST,
    /// MCP and the UI change it: persisted first, then audited, then announced on the feed.
    pub async fn set_kill_switch_by(
        &self,
        on: bool,
        actor: &str,
        source: &str,
        bus: &crate::bus::Bus,
    ) -> Result<(), DbError> {
        use crate::events::{EventSource, EventType, Severity, new_event};
        use jarvis_domain::audit::{Decision, Outcome};
        self.set_kill_switch(on).await?;
        self.db
            .append_audit(crate::db::audit::NewAudit {
                actor: actor.into(),
                source: source.into(),
                tool: None,
                args: Some(serde_json::json!({"active": on})),
                tier: None,
                decision: if on { Decision::KillSwitchOn } else { Decision::KillSwitchOff },
                outcome: Outcome::Success,
                detail: None,
            })
            .await?;
        let (severity, title, message) = if on {
            (
                Severity::Critical,
                "KILL SWITCH ACTIVATED",
                "No action will run until the operator releases it.",
            )
        } else {
            (Severity::Info, "Kill switch released", "Actions may run again.")
        };
        let event = new_event(EventType::Status, severity, EventSource::User, title, message);
        crate::events::record(&self.db, bus, event).await;
        tracing::warn!(active = on, %actor, %source, "kill switch changed");
        Ok(())
    }

    /// Re-reads the kill switch from the database, makes it effective here and returns it.
    /// Another process sharing the database (`jarvis mcp` next to `jarvis serve`) may have
    /// thrown it; the tool pipeline calls this before every safety decision. An unreadable
    /// database is an error, so the caller refuses rather than guesses.
    pub async fn refresh(&self) -> Result<bool, DbError> {
        let _write = self.kill_switch_write.lock().await;
        let on = self.db.setting(KILL_SWITCH_KEY).await?.as_deref() == Some("true");
        self.kill_switch.store(on, Ordering::SeqCst);
        Ok(on)
    }

    /// Whether an override passkey is configured at all.
    pub fn override_configured(&self) -> bool {
        self.override_key.is_some()
    }

    /// Checks the passkey (constant-time over digests) and elevates the session `jti` on success.
    pub fn elevate(&self, jti: &str, passkey: &str) -> Option<DateTime<Utc>> {
        let key = self.override_key.as_ref()?;
        let a = Sha256::digest(passkey.as_bytes());
        let b = Sha256::digest(key.expose().as_bytes());
        // Compare digests byte by byte without early exit.
        let same = a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
        if !same {
            return None;
        }
        let until = Utc::now() + chrono::Duration::from_std(ELEVATION).unwrap_or_default();
        let mut map = self.elevations.lock();
        let now = Utc::now();
        map.retain(|_, t| *t > now);
        map.insert(jti.to_string(), until);
        Some(until)
    }

    /// Whether the session `jti` is elevated right now.
    pub fn is_elevated(&self, jti: Option<&str>) -> bool {
        let Some(jti) = jti else { return false };
        self.elevations.lock().get(jti).is_some_and(|t| *t > Utc::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn guard(key: Option<&str>) -> (Guard, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("g.db")).await.unwrap();
        let g = Guard::load(db, Protected::default(), key.map(|k| Secret::new(k.to_string())))
            .await
            .unwrap();
        (g, dir)
    }

    #[tokio::test]
    async fn kill_switch_persists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        let db = Db::open(&path).await.unwrap();
        let g = Guard::load(db.clone(), Protected::default(), None).await.unwrap();
        assert!(!g.kill_switch());
        g.set_kill_switch(true).await.unwrap();
        assert!(g.kill_switch());
        let again = Guard::load(db, Protected::default(), None).await.unwrap();
        assert!(again.kill_switch(), "a restart never silently releases the kill switch");
    }

    #[tokio::test]
    async fn refresh_sees_a_throw_by_another_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        let here =
            Guard::load(Db::open(&path).await.unwrap(), Protected::default(), None).await.unwrap();
        // A second handle on the same file stands in for the other process.
        let there =
            Guard::load(Db::open(&path).await.unwrap(), Protected::default(), None).await.unwrap();
        there.set_kill_switch(true).await.unwrap();
        assert!(!here.kill_switch(), "not seen before a refresh");
        assert!(here.refresh().await.unwrap());
        assert!(here.kill_switch());
        there.set_kill_switch(false).await.unwrap();
        assert!(!here.refresh().await.unwrap());
        assert!(!here.kill_switch());
    }

    #[tokio::test]
    async fn elevation_needs_the_right_key_and_is_per_session() {
        let (g, _d) = guard(Some("override alpha")).await;
        assert!(g.elevate("s1", "override beta").is_none());
        assert!(g.elevate("s1", "").is_none());
        assert!(!g.is_elevated(Some("s1")));
        assert!(g.elevate("s1", "override alpha").is_some());
        assert!(g.is_elevated(Some("s1")));
        assert!(!g.is_elevated(Some("s2")));
        assert!(!g.is_elevated(None));
        let (none, _d) = guard(None).await;
        assert!(none.elevate("s1", "anything").is_none(), "no key configured: never elevates");
    }
}
