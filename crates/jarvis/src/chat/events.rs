//! The `/chat` server-to-client events (docs/protocol.md) as typed payloads, and [`ChatSink`],
//! the one place a turn sends them: the Socket.IO room of the session in production, a channel
//! in tests and benchmarks.

use async_trait::async_trait;
use jarvis_domain::agent::{StopReason, ToolResultStatus};
use jarvis_domain::tools::Tier;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;
use ts_rs::TS;

use crate::db::chat::ChatMessageView;

/// Token usage of a turn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct UsageView {
    /// Prompt tokens, summed over the turn's model calls.
    #[ts(type = "number")]
    pub input_tokens: u64,
    /// Generated tokens, summed over the turn's model calls.
    #[ts(type = "number")]
    pub output_tokens: u64,
}

/// `chat:route`: who answers the turn (again with `fallback` when the first choice failed).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatRouteEvent {
    /// Session.
    pub session_id: String,
    /// `claude`, `local` or `slash`.
    #[ts(type = "\"claude\" | \"local\" | \"slash\"")]
    pub provider: String,
    /// Model id (empty for slash commands).
    pub model: String,
    /// Human reason.
    pub reason: String,
    /// Machine reason (`RouteReason::code`, `fallback` or `slash`).
    pub reason_code: String,
    /// A fallback after the first choice failed.
    pub fallback: bool,
}

/// `chat:token`: a piece of the answer.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatTokenEvent {
    /// Session.
    pub session_id: String,
    /// The text.
    pub text: String,
}

/// `chat:tool_use`: the model called a tool.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatToolUseEvent {
    /// Session.
    pub session_id: String,
    /// Call id.
    pub tool_use_id: String,
    /// Tool.
    pub tool_name: String,
    /// Arguments as the model sent them.
    #[ts(type = "unknown")]
    pub tool_input: Value,
    /// The registry's tier (`black` for unknown tools).
    #[ts(type = "\"green\" | \"yellow\" | \"red\" | \"black\"")]
    pub tier: Tier,
}

/// `chat:tool_result`: a call's answer.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatToolResultEvent {
    /// Session.
    pub session_id: String,
    /// Call id.
    pub tool_use_id: String,
    /// Result text (in full; the model may get less).
    pub result: String,
    /// `status != ok`.
    pub is_error: bool,
    /// How the call was answered.
    pub status: ToolResultStatus,
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
    /// The tier the pipeline decided.
    #[ts(type = "\"green\" | \"yellow\" | \"red\" | \"black\"")]
    pub tier: Tier,
    /// Human summary.
    pub summary: String,
    /// When the record expires (RFC 3339).
    pub expires_at: String,
}

/// `chat:blocked`: the safety policy refused a call.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatBlockedEvent {
    /// Session.
    pub session_id: String,
    /// Call id.
    pub tool_use_id: String,
    /// Tool.
    pub tool_name: String,
    /// Why.
    pub reason: String,
    /// The registry's tier (`black` for unknown tools).
    #[ts(type = "\"green\" | \"yellow\" | \"red\" | \"black\"")]
    pub tier: Tier,
}

/// `chat:message`: a stored operator message (for other tabs following the session).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatMessageEvent {
    /// Session.
    pub session_id: String,
    /// The stored message.
    pub message: ChatMessageView,
}

/// `chat:done`: the turn is over.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatDoneEvent {
    /// Session.
    pub session_id: String,
    /// Who answered last.
    #[ts(type = "\"claude\" | \"local\" | \"slash\"")]
    pub provider: String,
    /// Model (empty for slash commands).
    pub model: String,
    /// Tokens of the turn.
    pub usage: UsageView,
    /// Cost of the turn in USD.
    pub cost_usd: f64,
    /// Why it ended.
    pub stop_reason: StopReason,
}

/// `chat:error`: the turn failed (a `chat:done` follows when a turn had started).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatErrorEvent {
    /// Session.
    pub session_id: String,
    /// Machine code (`no_provider`, `llm_error`, `internal`, …).
    pub code: String,
    /// Human message.
    pub message: String,
}

/// One event of a chat session, with its typed payload.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    /// `chat:route`.
    Route(ChatRouteEvent),
    /// `chat:token`.
    Token(ChatTokenEvent),
    /// `chat:tool_use`.
    ToolUse(ChatToolUseEvent),
    /// `chat:tool_result`.
    ToolResult(ChatToolResultEvent),
    /// `chat:confirm_needed`.
    ConfirmNeeded(ConfirmNeeded),
    /// `chat:blocked`.
    Blocked(ChatBlockedEvent),
    /// `chat:message`.
    Message(ChatMessageEvent),
    /// `chat:done`.
    Done(ChatDoneEvent),
    /// `chat:error`.
    Error(ChatErrorEvent),
}

impl ChatEvent {
    /// The Socket.IO event name.
    pub fn name(&self) -> &'static str {
        match self {
            ChatEvent::Route(_) => "chat:route",
            ChatEvent::Token(_) => "chat:token",
            ChatEvent::ToolUse(_) => "chat:tool_use",
            ChatEvent::ToolResult(_) => "chat:tool_result",
            ChatEvent::ConfirmNeeded(_) => "chat:confirm_needed",
            ChatEvent::Blocked(_) => "chat:blocked",
            ChatEvent::Message(_) => "chat:message",
            ChatEvent::Done(_) => "chat:done",
            ChatEvent::Error(_) => "chat:error",
        }
    }

    /// The wire payload (every payload carries `sessionId`).
    pub fn payload(&self) -> Value {
        let value = match self {
            ChatEvent::Route(p) => serde_json::to_value(p),
            ChatEvent::Token(p) => serde_json::to_value(p),
            ChatEvent::ToolUse(p) => serde_json::to_value(p),
            ChatEvent::ToolResult(p) => serde_json::to_value(p),
            ChatEvent::ConfirmNeeded(p) => serde_json::to_value(p),
            ChatEvent::Blocked(p) => serde_json::to_value(p),
            ChatEvent::Message(p) => serde_json::to_value(p),
            ChatEvent::Done(p) => serde_json::to_value(p),
            ChatEvent::Error(p) => serde_json::to_value(p),
        };
        // These structs hold only strings, numbers and JSON values: serializing cannot fail.
        value.unwrap_or(Value::Null)
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
