//! The `/chat` server-to-client events (docs/protocol.md) as typed payloads, and [`ChatSink`],
//! the one place a turn sends them: the Socket.IO room of the session in production, a channel
//! in tests and benchmarks.

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;
use ts_rs::TS;

/// Token usage of a turn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct UsageView {
    /// Prompt tokens, summed over the turn's model calls.
    pub input_tokens: u64,
    /// Generated tokens, summed over the turn's model calls.
    pub output_tokens: u64,
}

/// `chat:confirm_needed`: a RED call waits for the operator (also replayed by `chat:join`).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConfirmNeeded {
    /// Session.
    pub session_id: String,
    /// The confirmation record to decide.
    pub confirmation_id: String,
    /// The model's call id.
    pub tool_use_id: String,
    /// Tool.
    pub tool_name: String,
    /// Canonical arguments it will run with.
    #[ts(type = "Record<string, unknown>")]
    pub tool_input: Value,
    /// Tier word.
    pub tier: String,
    /// Human summary.
    pub summary: String,
    /// When the record expires (RFC 3339).
    pub expires_at: String,
}

/// One event of a chat session.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    /// `chat:route`.
    Route {
        /// `claude`, `local` or `slash`.
        provider: String,
        /// Model id (empty for slash commands).
        model: String,
        /// Human reason.
        reason: String,
        /// Machine reason.
        reason_code: String,
        /// A fallback after the first choice failed.
        fallback: bool,
    },
    /// `chat:token`.
    Token(String),
    /// `chat:tool_use`.
    ToolUse {
        /// Call id.
        tool_use_id: String,
        /// Tool.
        tool_name: String,
        /// Arguments as the model sent them.
        tool_input: Value,
        /// Tier word (`black` for unknown tools).
        tier: String,
    },
    /// `chat:tool_result`.
    ToolResult {
        /// Call id.
        tool_use_id: String,
        /// Result text.
        result: String,
        /// Failed, refused or denied.
        is_error: bool,
    },
    /// `chat:confirm_needed`.
    ConfirmNeeded(ConfirmNeeded),
    /// `chat:blocked`.
    Blocked {
        /// Call id.
        tool_use_id: String,
        /// Tool.
        tool_name: String,
        /// Why.
        reason: String,
        /// Tier word.
        tier: String,
    },
    /// `chat:message`: a stored user message (for other tabs following the session).
    Message(Value),
    /// `chat:done`.
    Done {
        /// Who answered last.
        provider: String,
        /// Model.
        model: String,
        /// Tokens of the turn.
        usage: UsageView,
        /// Cost of the turn in USD.
        cost_usd: f64,
        /// `end_turn`, `max_iterations`, `aborted` or `error`.
        stop_reason: String,
    },
    /// `chat:error`.
    Error {
        /// Machine code.
        code: String,
        /// Human message.
        message: String,
    },
}

impl ChatEvent {
    /// The Socket.IO event name.
    pub fn name(&self) -> &'static str {
        match self {
            ChatEvent::Route { .. } => "chat:route",
            ChatEvent::Token(_) => "chat:token",
            ChatEvent::ToolUse { .. } => "chat:tool_use",
            ChatEvent::ToolResult { .. } => "chat:tool_result",
            ChatEvent::ConfirmNeeded(_) => "chat:confirm_needed",
            ChatEvent::Blocked { .. } => "chat:blocked",
            ChatEvent::Message(_) => "chat:message",
            ChatEvent::Done { .. } => "chat:done",
            ChatEvent::Error { .. } => "chat:error",
        }
    }

    /// The wire payload, always with `sessionId`.
    pub fn payload(&self, session_id: &str) -> Value {
        use serde_json::json;
        match self {
            ChatEvent::Route { provider, model, reason, reason_code, fallback } => json!({
                "sessionId": session_id, "provider": provider, "model": model,
                "reason": reason, "reasonCode": reason_code, "fallback": fallback,
            }),
            ChatEvent::Token(text) => json!({ "sessionId": session_id, "text": text }),
            ChatEvent::ToolUse { tool_use_id, tool_name, tool_input, tier } => json!({
                "sessionId": session_id, "toolUseId": tool_use_id, "toolName": tool_name,
                "toolInput": tool_input, "tier": tier,
            }),
            ChatEvent::ToolResult { tool_use_id, result, is_error } => json!({
                "sessionId": session_id, "toolUseId": tool_use_id, "result": result,
                "isError": is_error,
            }),
            ChatEvent::ConfirmNeeded(c) => serde_json::to_value(c).unwrap_or(Value::Null),
            ChatEvent::Blocked { tool_use_id, tool_name, reason, tier } => json!({
                "sessionId": session_id, "toolUseId": tool_use_id, "toolName": tool_name,
                "reason": reason, "tier": tier,
            }),
            ChatEvent::Message(m) => json!({ "sessionId": session_id, "message": m }),
            ChatEvent::Done { provider, model, usage, cost_usd, stop_reason } => json!({
                "sessionId": session_id, "provider": provider, "model": model, "usage": usage,
                "costUsd": cost_usd, "stopReason": stop_reason,
            }),
            ChatEvent::Error { code, message } => {
                json!({ "sessionId": session_id, "code": code, "message": message })
            }
        }
    }
}

/// Where a session's events go.
#[async_trait]
pub trait ChatSink: Send + Sync {
    /// Delivers one event of `session_id` to everyone following it.
    async fn emit(&self, session_id: &str, event: ChatEvent);
}

/// A sink that forwards into a channel (tests, benchmarks, embedding).
#[derive(Debug, Clone)]
pub struct ChannelSink(pub mpsc::UnboundedSender<(String, ChatEvent)>);

#[async_trait]
impl ChatSink for ChannelSink {
    async fn emit(&self, session_id: &str, event: ChatEvent) {
        let _ = self.0.send((session_id.to_owned(), event));
    }
}

/// A sink that drops everything (before the socket layer is attached).
#[derive(Debug, Clone, Copy)]
pub struct NullSink;

#[async_trait]
impl ChatSink for NullSink {
    async fn emit(&self, _session_id: &str, _event: ChatEvent) {}
}
