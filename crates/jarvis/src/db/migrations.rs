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
    // 2: the safety pipeline's state. Operator settings (kill switch) survive restarts;
    // confirmations are server-side records (single use, bound to tool + args digest); the audit
    // log is hash-chained; events feed the activity feed and the `get_events` tool.
    M::up(
        "CREATE TABLE settings (
            key        TEXT PRIMARY KEY NOT NULL,
            value      TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE confirmations (
            id          TEXT PRIMARY KEY NOT NULL,
            tool        TEXT NOT NULL,
            args        TEXT NOT NULL,
            args_digest TEXT NOT NULL,
            summary     TEXT NOT NULL,
            tier        TEXT NOT NULL,
            actor       TEXT NOT NULL,
            source      TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            expires_at  TEXT NOT NULL,
            status      TEXT NOT NULL CHECK (status IN
                          ('pending', 'approved', 'denied', 'expired', 'executed', 'failed')),
            decided_at  TEXT,
            result      TEXT
        ) STRICT;
        CREATE INDEX confirmations_status ON confirmations(status, expires_at);
        CREATE TABLE audit_log (
            id        INTEGER PRIMARY KEY,
            at        TEXT NOT NULL,
            actor     TEXT NOT NULL,
            source    TEXT NOT NULL,
            tool      TEXT,
            args      TEXT,
            tier      TEXT,
            decision  TEXT NOT NULL,
            outcome   TEXT NOT NULL,
            detail    TEXT,
            prev_hash TEXT NOT NULL,
            hash      TEXT NOT NULL
        ) STRICT;
        CREATE INDEX audit_log_at ON audit_log(at);
        CREATE TABLE events (
            id              TEXT PRIMARY KEY NOT NULL,
            type            TEXT NOT NULL,
            severity        TEXT NOT NULL,
            title           TEXT NOT NULL,
            message         TEXT NOT NULL,
            node            TEXT,
            source          TEXT NOT NULL,
            timestamp       TEXT NOT NULL,
            resolved        INTEGER NOT NULL DEFAULT 0,
            acknowledged_at TEXT
        ) STRICT;
        CREATE INDEX events_timestamp ON events(timestamp);",
    ),
    // 3: the chat. Sessions and their transcript (content blocks as JSON, the joined text for
    // display, the driver's per-message `meta` such as confirmation ids), and one `llm_usage`
    // row per model call: the source of every cost figure and of the daily budget. Usage rows
    // outlive their session (SET NULL) so spend is never forgotten.
    M::up(
        "CREATE TABLE chat_sessions (
            id         TEXT PRIMARY KEY NOT NULL,
            title      TEXT NOT NULL,
            actor      TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX chat_sessions_updated ON chat_sessions(updated_at);
        CREATE TABLE chat_messages (
            id            INTEGER PRIMARY KEY,
            session_id    TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
            role          TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            blocks        TEXT NOT NULL,
            content       TEXT NOT NULL,
            provider      TEXT,
            model         TEXT,
            input_tokens  INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd      REAL NOT NULL DEFAULT 0,
            meta          TEXT,
            created_at    TEXT NOT NULL
        ) STRICT;
        CREATE INDEX chat_messages_session ON chat_messages(session_id, id);
        CREATE TABLE llm_usage (
            id                 INTEGER PRIMARY KEY,
            session_id         TEXT REFERENCES chat_sessions(id) ON DELETE SET NULL,
            at                 TEXT NOT NULL,
            provider           TEXT NOT NULL CHECK (provider IN ('claude', 'local')),
            model              TEXT NOT NULL,
            input_tokens       INTEGER NOT NULL,
            output_tokens      INTEGER NOT NULL,
            cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
            cache_write_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd           REAL NOT NULL,
            estimated          INTEGER NOT NULL DEFAULT 0
        ) STRICT;
        CREATE INDEX llm_usage_at ON llm_usage(at);
        CREATE INDEX llm_usage_session ON llm_usage(session_id);",
    ),
    // 4: the monitor. One row per incident (at most one unresolved per key; a recurrence within
    // the reopen window reopens the latest), its timeline and the machine's bookkeeping as JSON;
    // every runbook attempt (its verification, audit row and confirmation); silences; and the
    // notification outbox, one row per message and target, retried with backoff. Retention:
    // resolved incidents, actions and sent/failed notifications are pruned after 90/90/30 days.
    M::up(
        "CREATE TABLE incidents (
            id              TEXT PRIMARY KEY NOT NULL,
            key             TEXT NOT NULL,
            kind            TEXT NOT NULL,
            severity        TEXT NOT NULL,
            state           TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
            node            TEXT,
            vmid            INTEGER,
            title           TEXT NOT NULL,
            opened_at       TEXT NOT NULL,
            acknowledged_at TEXT,
            resolved_at     TEXT,
            occurrences     INTEGER NOT NULL DEFAULT 1,
            suppressed_by   TEXT,
            timeline        TEXT NOT NULL,
            tracking        TEXT NOT NULL,
            updated_at      TEXT NOT NULL
        ) STRICT;
        CREATE INDEX incidents_state ON incidents(state, opened_at);
        CREATE INDEX incidents_key ON incidents(key, opened_at);
        CREATE UNIQUE INDEX incidents_one_unresolved_per_key ON incidents(key)
            WHERE state != 'resolved';
        CREATE TABLE monitor_actions (
            id              TEXT PRIMARY KEY NOT NULL,
            incident_id     TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
            incident_key    TEXT NOT NULL,
            runbook_id      TEXT NOT NULL,
            at              TEXT NOT NULL,
            tool            TEXT NOT NULL,
            args            TEXT NOT NULL,
            node            TEXT,
            attempt         INTEGER NOT NULL,
            autonomy_level  INTEGER NOT NULL,
            result          TEXT NOT NULL CHECK (result IN
                              ('pending', 'recommended', 'success', 'failure', 'blocked', 'escalated')),
            detail          TEXT,
            verification    TEXT,
            verify_at       TEXT,
            audit_id        INTEGER,
            confirmation_id TEXT,
            finished_at     TEXT
        ) STRICT;
        CREATE INDEX monitor_actions_at ON monitor_actions(at);
        CREATE INDEX monitor_actions_incident ON monitor_actions(incident_key, at);
        CREATE TABLE silences (
            id         TEXT PRIMARY KEY NOT NULL,
            node       TEXT,
            vmid       INTEGER,
            kind       TEXT,
            reason     TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX silences_expiry ON silences(expires_at);
        CREATE TABLE notifications (
            id              INTEGER PRIMARY KEY,
            incident_id     TEXT REFERENCES incidents(id) ON DELETE SET NULL,
            kind            TEXT NOT NULL CHECK (kind IN
                              ('opened', 'reopened', 'resolved', 'escalated', 'reminder', 'test')),
            target          TEXT NOT NULL,
            severity        TEXT NOT NULL,
            title           TEXT NOT NULL,
            body            TEXT NOT NULL,
            link            TEXT,
            created_at      TEXT NOT NULL,
            status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error      TEXT,
            sent_at         TEXT,
            delivery        TEXT
        ) STRICT;
        CREATE INDEX notifications_due ON notifications(status, next_attempt_at);
        CREATE INDEX notifications_created ON notifications(created_at);
        CREATE INDEX notifications_incident ON notifications(incident_id);",
    ),
    // 5: retention (MEM-09). `llm_usage` rows past the usage retention
    // fold into one row per hour, provider, model and session, so cost history and per-session
    // spend stay exact (`calls` keeps the message count). Old audit rows move to `audit_archive`
    // unchanged (same columns, same hashes) and `audit_checkpoint` records the last archived id
    // and hash, so the chain verifies across both tables.
    M::up(
        "CREATE TABLE llm_usage_hourly (
            hour               TEXT NOT NULL,
            provider           TEXT NOT NULL,
            model              TEXT NOT NULL,
            session_id         TEXT NOT NULL DEFAULT '',
            calls              INTEGER NOT NULL,
            input_tokens       INTEGER NOT NULL,
            output_tokens      INTEGER NOT NULL,
            cache_read_tokens  INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL,
            cost_usd           REAL NOT NULL,
            PRIMARY KEY (hour, provider, model, session_id)
        ) STRICT;
        CREATE INDEX llm_usage_hourly_session ON llm_usage_hourly(session_id);
        CREATE TABLE audit_archive (
            id        INTEGER PRIMARY KEY,
            at        TEXT NOT NULL,
            actor     TEXT NOT NULL,
            source    TEXT NOT NULL,
            tool      TEXT,
            args      TEXT,
            tier      TEXT,
            decision  TEXT NOT NULL,
            outcome   TEXT NOT NULL,
            detail    TEXT,
            prev_hash TEXT NOT NULL,
            hash      TEXT NOT NULL
        ) STRICT;
        CREATE TABLE audit_checkpoint (
            one         INTEGER PRIMARY KEY CHECK (one = 1),
            through_id  INTEGER NOT NULL,
            hash        TEXT NOT NULL,
            archived_at TEXT NOT NULL
        ) STRICT;",
    ),
];

/// The migration set.
pub static MIGRATIONS: Migrations<'static> = Migrations::from_slice(STEPS);
