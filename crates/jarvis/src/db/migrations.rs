//! The schema, as an append-only list of migrations (never edit a released one; add a new one).
//! The version lives in SQLite's `user_version`.

use rusqlite_migration::{M, Migrations};

/// Every migration, oldest first.
const STEPS: &[M<'static>] = &[
    // 1: revoked session tokens. A logout writes the token's id here so it stays revoked across
    // restarts until it would have expired anyway.
    M::up(
        "CREATE TABLE revoked_tokens (
            jti        TEXT PRIMARY KEY NOT NULL,
            expires_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);",
    ),
];

/// The migration set.
pub static MIGRATIONS: Migrations<'static> = Migrations::from_slice(STEPS);
