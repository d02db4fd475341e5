//! Chat sessions and their transcript.
//!
//! A stored message is one [`Message`] of the provider-neutral transcript: its blocks as JSON
//! (`blocks`), the joined text for display (`content`), who answered and what it cost, and a
//! driver-written `meta` object ([`ChatMessageMeta`]: confirmation ids, tiers and answer statuses
//! per tool call).
//! Tool results are stored as user-side blocks, exactly as the model saw them; the UI view
//! ([`chat_message_views`]) folds them back into the call that made them.

use chrono::{DateTime, Utc};
use jarvis_domain::agent::{Block, Message, Role};
use rusqlite::{OptionalExtension, TransactionBehavior};
use serde::Serialize;
use ts_rs::TS;
use utoipa::ToSchema;

pub use super::chat_view::{
    ChatMessageMeta, ChatMessageView, ToolCallStatus, ToolCallView, chat_message_views,
    legacy_status,
};
use super::{Db, DbError, parse_time, timestamp};

/// A chat session.
#[derive(Debug, Clone, PartialEq, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatSession {
    /// Session id (a UUID chosen by the server).
    pub id: String,
    /// Title (the first message, shortened, unless the driver names it otherwise).
    pub title: String,
    /// Who started it (`operator`).
    pub actor: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last stored message.
    pub updated_at: DateTime<Utc>,
}

/// A session as `GET /api/chat/sessions` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatSessionSummary {
    /// Session id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last stored message.
    pub updated_at: DateTime<Utc>,
    /// Messages shown in the chat (operator messages and assistant answers; stored tool-result
    /// carriers are not counted).
    #[ts(type = "number")]
    pub message_count: u64,
    /// Spend of the session's model calls (from the usage log), USD rounded to 1e-6.
    pub cost_usd: f64,
}

/// A message to store; see [`Db::append_chat_message`].
#[derive(Debug, Clone)]
pub struct NewChatMessage {
    /// The session (must exist).
    pub session_id: String,
    /// The transcript message.
    pub message: Message,
    /// `claude`, `local` or `slash` for answers; `None` for operator messages.
    pub provider: Option<String>,
    /// The exact model id, when a model answered.
    pub model: Option<String>,
    /// Input tokens of the call that produced this message.
    pub input_tokens: u64,
    /// Output tokens of that call.
    pub output_tokens: u64,
    /// Cost of that call in USD (the usage log is the authoritative copy).
    pub cost_usd: f64,
    /// Per-call extras (confirmation ids, tiers, statuses); may be added later with
    /// [`Db::set_chat_message_meta`].
    pub meta: ChatMessageMeta,
    /// When it was produced.
    pub at: DateTime<Utc>,
}

/// A stored message, as [`Db::recent_chat_messages`] returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredChatMessage {
    /// Row id: increases in insertion order.
    pub id: i64,
    /// The session.
    pub session_id: String,
    /// The transcript message.
    pub message: Message,
    /// `claude`, `local`, `slash` or `None`.
    pub provider: Option<String>,
    /// Model id.
    pub model: Option<String>,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// USD.
    pub cost_usd: f64,
    /// Per-call extras.
    pub meta: ChatMessageMeta,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChatSession> {
    Ok(ChatSession {
        id: r.get(0)?,
        title: r.get(1)?,
        actor: r.get(2)?,
        created_at: parse_time(&r.get::<_, String>(3)?),
        updated_at: parse_time(&r.get::<_, String>(4)?),
    })
}

fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredChatMessage> {
    let role: String = r.get(2)?;
    let blocks: String = r.get(3)?;
    let content: String = r.get(4)?;
    let meta: Option<String> = r.get(10)?;
    // A row whose JSON no longer parses still shows its text rather than failing the session.
    let blocks = serde_json::from_str::<Vec<Block>>(&blocks).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "unreadable chat message blocks; showing the text only");
        vec![Block::text(content)]
    });
    Ok(StoredChatMessage {
        id: r.get(0)?,
        session_id: r.get(1)?,
        message: Message { role: Role::parse(&role).unwrap_or(Role::User), blocks },
        provider: r.get(5)?,
        model: r.get(6)?,
        input_tokens: u64::try_from(r.get::<_, i64>(7)?).unwrap_or(0),
        output_tokens: u64::try_from(r.get::<_, i64>(8)?).unwrap_or(0),
        cost_usd: r.get(9)?,
        meta: meta.and_then(|m| serde_json::from_str(&m).ok()).unwrap_or_default(),
        created_at: parse_time(&r.get::<_, String>(11)?),
    })
}

/// The newest messages of a session, newest first (reversed by the caller).
const RECENT_SQL: &str = "SELECT id, session_id, role, blocks, content, provider, model, \
     input_tokens, output_tokens, cost_usd, meta, created_at FROM chat_messages \
     WHERE session_id = ?1 ORDER BY id DESC LIMIT ?2";

fn meta_json(meta: &ChatMessageMeta) -> Option<String> {
    (!meta.is_empty()).then(|| serde_json::to_string(meta).unwrap_or_else(|_| "{}".into()))
}

impl Db {
    /// Creates a session.
    pub async fn create_chat_session(
        &self,
        id: String,
        title: String,
        actor: String,
        now: DateTime<Utc>,
    ) -> Result<ChatSession, DbError> {
        let at = timestamp(now);
        self.call(move |c| {
            c.execute(
                "INSERT INTO chat_sessions (id, title, actor, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                (&id, &title, &actor, &at),
            )?;
            c.query_row(
                "SELECT id, title, actor, created_at, updated_at FROM chat_sessions WHERE id = ?1",
                [&id],
                session_row,
            )
        })
        .await
    }

    /// One session, if it exists.
    pub async fn chat_session(&self, id: String) -> Result<Option<ChatSession>, DbError> {
        self.call(move |c| {
            c.query_row(
                "SELECT id, title, actor, created_at, updated_at FROM chat_sessions WHERE id = ?1",
                [id],
                session_row,
            )
            .optional()
        })
        .await
    }

    /// Renames a session; `false` when it does not exist.
    pub async fn set_chat_session_title(&self, id: String, title: String) -> Result<bool, DbError> {
        self.call(move |c| {
            c.execute("UPDATE chat_sessions SET title = ?2 WHERE id = ?1", (id, title))
                .map(|n| n > 0)
        })
        .await
    }

    /// The `limit` most recently updated sessions (clamped to 1..=500), newest first.
    pub async fn list_chat_sessions(
        &self,
        limit: usize,
    ) -> Result<Vec<ChatSessionSummary>, DbError> {
        let limit = to_i64(limit.clamp(1, 500) as u64);
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT s.id, s.title, s.created_at, s.updated_at,
                    (SELECT COUNT(*) FROM chat_messages m WHERE m.session_id = s.id
                       AND (m.role = 'assistant' OR m.content <> '')),
                    (SELECT COALESCE(SUM(u.cost_usd), 0) FROM llm_usage u WHERE u.session_id = s.id)
                 FROM chat_sessions s ORDER BY s.updated_at DESC, s.id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit], |r| {
                Ok(ChatSessionSummary {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    created_at: parse_time(&r.get::<_, String>(2)?),
                    updated_at: parse_time(&r.get::<_, String>(3)?),
                    message_count: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
                    cost_usd: jarvis_domain::cost::round_usd(r.get(5)?),
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Stores a message and bumps its session's `updated_at`, in one transaction. Returns the
    /// message id. Fails (foreign key) when the session does not exist.
    pub async fn append_chat_message(&self, m: NewChatMessage) -> Result<i64, DbError> {
        let blocks = serde_json::to_string(&m.message.blocks)
            .map_err(|e| DbError::Query(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        let at = timestamp(m.at);
        let meta = meta_json(&m.meta);
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO chat_messages (session_id, role, blocks, content, provider, model,
                    input_tokens, output_tokens, cost_usd, meta, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                rusqlite::params![
                    m.session_id,
                    m.message.role.as_str(),
                    blocks,
                    m.message.text(),
                    m.provider,
                    m.model,
                    to_i64(m.input_tokens),
                    to_i64(m.output_tokens),
                    if m.cost_usd.is_finite() { m.cost_usd } else { 0.0 },
                    meta,
                    at,
                ],
            )?;
            let id = tx.last_insert_rowid();
            // Never move updated_at backwards (messages may carry an earlier production time).
            tx.execute(
                "UPDATE chat_sessions SET updated_at = MAX(updated_at, ?2) WHERE id = ?1",
                (&m.session_id, &at),
            )?;
            tx.commit()?;
            Ok(id)
        })
        .await
    }

    /// Replaces a stored message's meta (e.g. to add a confirmation id once the pipeline made
    /// one); `false` when the message does not exist.
    pub async fn set_chat_message_meta(
        &self,
        id: i64,
        meta: ChatMessageMeta,
    ) -> Result<bool, DbError> {
        let meta = meta_json(&meta);
        self.call(move |c| {
            c.execute("UPDATE chat_messages SET meta = ?2 WHERE id = ?1", (id, meta)).map(|n| n > 0)
        })
        .await
    }

    /// The newest `limit` messages of a session (clamped to 1..=10,000), oldest first. Uses the
    /// `(session_id, id)` index, so other sessions' size does not matter.
    pub async fn recent_chat_messages(
        &self,
        session_id: String,
        limit: usize,
    ) -> Result<Vec<StoredChatMessage>, DbError> {
        let limit = to_i64(limit.clamp(1, 10_000) as u64);
        self.call(move |c| {
            let mut stmt = c.prepare(RECENT_SQL)?;
            let mut rows =
                stmt.query_map((session_id, limit), message_row)?.collect::<Result<Vec<_>, _>>()?;
            rows.reverse();
            Ok(rows)
        })
        .await
    }
}

#[cfg(test)]
mod tests;
