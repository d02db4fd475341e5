//! `GET /api/chat/status`, `GET /api/chat/sessions` and `GET /api/chat/sessions/{id}`: what the
//! chat can use and the stored conversations. Sending messages happens on the `/chat` Socket.IO
//! namespace, not here.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Operator;
use crate::db::chat::{ChatMessageView, ChatSession, ChatSessionSummary, chat_message_views};
use crate::error::{ApiQuery, AppError, ErrorBody};
use crate::state::AppState;

/// Messages `GET /api/chat/sessions/{id}` returns at most (the newest).
const MAX_SESSION_MESSAGES: usize = 10_000;

/// One provider in `GET /api/chat/status`.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct ProviderStatus {
    /// Whether it is set up (`ANTHROPIC_API_KEY` / `LOCAL_LLM_ENDPOINT`).
    pub configured: bool,
    /// The model it uses, when configured.
    pub model: Option<String>,
}

/// A slash command the chat answers without a model.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct SlashCommandInfo {
    /// The command without its slash, e.g. `status`.
    pub command: String,
    /// How to call it, e.g. `/vm <vmid>`.
    pub usage: String,
    /// What it does.
    pub description: String,
}

/// `GET /api/chat/status` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatStatus {
    /// Anthropic Claude.
    pub claude: ProviderStatus,
    /// The local model.
    pub local: ProviderStatus,
    /// Answers come from the simulator's scripted models (`jarvis demo --scripted-llm`).
    pub scripted: bool,
    /// What the UI calls the assistant: `JARVIS`, or `scripted demo`.
    pub label: String,
    /// Commands answered without a model (also with no provider configured).
    pub slash_commands: Vec<SlashCommandInfo>,
}

/// The slash commands of `jarvis_domain::slash`, in `/help` order.
fn slash_commands() -> Vec<SlashCommandInfo> {
    jarvis_domain::slash::SLASH_COMMANDS
        .iter()
        .map(|s| SlashCommandInfo {
            command: s.command.into(),
            usage: s.usage.into(),
            description: s.description.into(),
        })
        .collect()
}

/// What the chat can use.
#[utoipa::path(get, path = "/api/chat/status", tag = "chat", security(("bearer" = [])),
    responses((status = 200, body = ChatStatus), (status = 401, body = ErrorBody)))]
pub async fn status(State(state): State<AppState>, _op: Operator) -> Json<ChatStatus> {
    let llm = &state.config.llm;
    Json(ChatStatus {
        claude: ProviderStatus {
            configured: llm.claude.is_some(),
            model: llm.claude.as_ref().map(|c| c.model.clone()),
        },
        local: ProviderStatus {
            configured: llm.local.is_some(),
            model: llm.local.as_ref().map(|l| l.model.clone()),
        },
        scripted: llm.scripted,
        label: if llm.scripted { "scripted demo" } else { "JARVIS" }.into(),
        slash_commands: slash_commands(),
    })
}

/// Query of `GET /api/chat/sessions`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SessionsParams {
    /// At most this many (1..=500, default 50), most recently updated first.
    pub limit: Option<u32>,
}

/// `GET /api/chat/sessions` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct ChatSessionList {
    /// Newest first.
    pub sessions: Vec<ChatSessionSummary>,
}

/// Checks a `limit` parameter against `1..=max`.
pub(super) fn limit_param(limit: Option<u32>, default: u32, max: u32) -> Result<usize, AppError> {
    match limit.unwrap_or(default) {
        n if (1..=max).contains(&n) => Ok(n as usize),
        n => Err(AppError::bad_request("invalid_query", format!("limit {n} is outside 1..={max}"))),
    }
}

/// The stored conversations.
#[utoipa::path(get, path = "/api/chat/sessions", tag = "chat", security(("bearer" = [])),
    params(SessionsParams),
    responses((status = 200, body = ChatSessionList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn sessions(
    State(state): State<AppState>,
    _op: Operator,
    ApiQuery(p): ApiQuery<SessionsParams>,
) -> Result<Json<ChatSessionList>, AppError> {
    let limit = limit_param(p.limit, 50, 500)?;
    let sessions = state.db.list_chat_sessions(limit).await.map_err(AppError::internal)?;
    Ok(Json(ChatSessionList { sessions }))
}

/// `GET /api/chat/sessions/{id}` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct ChatSessionDetail {
    /// The session.
    pub session: ChatSession,
    /// Its messages, oldest first, tool results folded into their calls.
    pub messages: Vec<ChatMessageView>,
}

/// One conversation with its messages.
#[utoipa::path(get, path = "/api/chat/sessions/{id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses((status = 200, body = ChatSessionDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn session(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<String>,
) -> Result<Json<ChatSessionDetail>, AppError> {
    let session = state
        .db
        .chat_session(id.clone())
        .await
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::not_found("no such chat session"))?;
    let stored = state
        .db
        .recent_chat_messages(id, MAX_SESSION_MESSAGES)
        .await
        .map_err(AppError::internal)?;
    let messages =
        chat_message_views(&stored, |name| jarvis_domain::tools::descriptor(name).map(|d| d.tier));
    Ok(Json(ChatSessionDetail { session, messages }))
}
