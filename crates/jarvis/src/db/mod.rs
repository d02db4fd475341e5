//! The SQLite database: one file, WAL, a small async pool, versioned migrations.
//!
//! Opening runs the migrations on a dedicated connection *before* the pool serves anything; a
//! failed migration stops start-up (the migration runs in a transaction, so nothing half-applied
//! remains). Per-connection settings (`busy_timeout`, `foreign_keys`) are applied to every pooled
//! connection when it is created, because SQLite does not persist them. `journal_mode=WAL` is
//! persistent and makes a `kill -9` at any moment safe: the next open replays or discards the WAL.
//! `auto_vacuum = INCREMENTAL` is set before the first table exists; a database created before
//! that gets one full `VACUUM` at start-up (logged), so retention can return free pages to the
//! file system with `PRAGMA incremental_vacuum` (see `db::retention`).
//!
//! Queries run on blocking threads through [`Db::call`]; nothing here blocks the async runtime.

pub mod audit;
pub mod audit_archive;
pub mod chat;
mod chat_view;
pub mod confirmations;
pub mod events;
mod migrations;
pub mod monitor;
pub mod notifications;
pub mod retention;
pub mod settings;
pub mod tokens;
pub mod usage;

use std::path::{Path, PathBuf};

use deadpool_sqlite::{Hook, HookError, Pool, Runtime};
use rusqlite::Connection;

pub use migrations::MIGRATIONS;

/// Errors opening or using the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database file or its directory could not be opened or created.
    #[error("cannot open database {path}: {detail}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// A migration failed; the database is unchanged.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// A query failed.
    #[error("database error: {0}")]
    Query(#[from] rusqlite::Error),
    /// The pool could not provide a connection.
    #[error("database unavailable: {0}")]
    Pool(String),
}

/// The one timestamp format stored: RFC 3339, UTC, millisecond precision, `Z` suffix. Fixed width,
/// so text comparison in SQL orders correctly (the original compared `T` against space and its
/// daily budget never tripped).
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Parses a stored [`timestamp`] (any RFC 3339 text); an unreadable one reads as the epoch
/// rather than failing the whole query.
pub(crate) fn parse_time(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default()
}

/// Per-connection settings SQLite does not persist.
const CONNECTION_PRAGMAS: &str =
    "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: Pool,
    path: PathBuf,
}

impl Db {
    /// Opens (creating if needed) the database at `path`, enables WAL and migrates it to the
    /// latest version.
    pub async fn open(path: &Path) -> Result<Db, DbError> {
        let open_err = |detail: String| DbError::Open { path: path.to_path_buf(), detail };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let owned = path.to_path_buf();
        tokio::task::spawn_blocking(move || migrate_file(&owned))
            .await
            .map_err(|e| DbError::Migration(e.to_string()))??;

        let pool = deadpool_sqlite::Config::new(path)
            .builder(Runtime::Tokio1)
            .map_err(|e| open_err(e.to_string()))?
            .max_size(4)
            .post_create(Hook::async_fn(|conn, _| {
                Box::pin(async move {
                    conn.interact(|c| c.execute_batch(CONNECTION_PRAGMAS))
                        .await
                        .map_err(|e| HookError::message(e.to_string()))?
                        .map_err(HookError::Backend)
                })
            }))
            .build()
            .map_err(|e| open_err(e.to_string()))?;
        let db = Db { pool, path: path.to_path_buf() };
        db.call(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))).await?;
        Ok(db)
    }

    /// Runs `f` with a pooled connection on a blocking thread.
    pub async fn call<R, F>(&self, f: F) -> Result<R, DbError>
    where
        F: FnOnce(&mut Connection) -> Result<R, rusqlite::Error> + Send + 'static,
        R: Send + 'static,
    {
        let conn = self.pool.get().await.map_err(|e| DbError::Pool(e.to_string()))?;
        conn.interact(f).await.map_err(|e| DbError::Pool(e.to_string()))?.map_err(DbError::from)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Health probe: a trivial query through the pool.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.call(|c| c.query_row("SELECT 1", [], |_| Ok(()))).await
    }

    /// Flushes the WAL into the main file and closes the pool: the last step of shutdown.
    pub async fn close(&self) -> Result<(), DbError> {
        let res =
            self.call(|c| c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))).await;
        self.pool.close();
        res
    }
}

/// Applies WAL mode and all pending migrations on a dedicated connection; returns the version.
pub fn migrate_file(path: &Path) -> Result<usize, DbError> {
    let mut conn = Connection::open(path)
        .map_err(|e| DbError::Open { path: path.to_path_buf(), detail: e.to_string() })?;
    conn.execute_batch(CONNECTION_PRAGMAS)?;
    ensure_incremental_vacuum(&conn, path)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(%mode, "SQLite refused WAL mode; continuing with {mode}");
    }
    MIGRATIONS.to_latest(&mut conn).map_err(|e| DbError::Migration(e.to_string()))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok(usize::try_from(version).unwrap_or(0))
}

/// SQLite's `auto_vacuum` value for INCREMENTAL.
const AUTO_VACUUM_INCREMENTAL: i64 = 2;

/// Makes the file use incremental auto-vacuum. On an empty file the pragma alone is enough; an
/// existing database needs one full `VACUUM` to rebuild in the new mode, which takes a while on
/// a large file, so it is logged.
fn ensure_incremental_vacuum(conn: &Connection, path: &Path) -> Result<(), DbError> {
    let mode: i64 = conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?;
    if mode == AUTO_VACUUM_INCREMENTAL {
        return Ok(());
    }
    let tables: i64 = conn.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")?;
    if tables > 0 {
        let started = std::time::Instant::now();
        tracing::info!(path = %path.display(), "one-time VACUUM to enable incremental auto-vacuum");
        conn.execute_batch("VACUUM;")?;
        tracing::info!(seconds = started.elapsed().as_secs_f64(), "VACUUM done");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }

    #[tokio::test]
    async fn open_creates_file_in_wal_mode_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/jarvis.db");
        let db = Db::open(&path).await.unwrap();
        let mode: String =
            db.call(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0))).await.unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 =
            db.call(|c| c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))).await.unwrap();
        assert_eq!(fk, 1, "foreign_keys must be on for pooled connections");
        let av: i64 =
            db.call(|c| c.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))).await.unwrap();
        assert_eq!(av, AUTO_VACUUM_INCREMENTAL, "a new database uses incremental auto-vacuum");
        db.close().await.unwrap();
        // Reopening an up-to-date database is a no-op.
        let v = migrate_file(&path).unwrap();
        assert!(v >= 1);
    }

    #[tokio::test]
    async fn an_old_database_is_vacuumed_into_incremental_mode_keeping_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            // A database as earlier versions created it: auto_vacuum off, tables present.
            let c = Connection::open(&path).unwrap();
            c.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('kept');").unwrap();
            let av: i64 = c.query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).unwrap();
            assert_eq!(av, 0);
        }
        let db = Db::open(&path).await.unwrap();
        let (av, x): (i64, String) = db
            .call(|c| {
                let av = c.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?;
                Ok((av, c.query_row("SELECT x FROM t", [], |r| r.get(0))?))
            })
            .await
            .unwrap();
        assert_eq!((av, x.as_str()), (AUTO_VACUUM_INCREMENTAL, "kept"));
    }

    #[tokio::test]
    async fn unwritable_location_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        // A path *under* a regular file cannot be created.
        let err = Db::open(&file.join("jarvis.db")).await.unwrap_err();
        assert!(err.to_string().contains("cannot open database"), "{err}");
    }

    #[tokio::test]
    async fn a_newer_database_is_refused_not_downgraded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch("PRAGMA user_version = 999;").unwrap();
        }
        let err = Db::open(&path).await.unwrap_err();
        assert!(matches!(err, DbError::Migration(_)), "{err}");
    }
}
