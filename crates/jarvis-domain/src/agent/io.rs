//! What goes into the turn machine ([`Input`]) and what comes out of it ([`Effect`]), with the
//! outcome types the server reports in.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

use super::{Message, ToolResultStatus};

/// How the model's response ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelStop {
    /// Finished normally (including "wants tools").
    Complete,
    /// Hit the output token limit: tool calls may be cut and are not run.
    MaxTokens,
}

/// What a tool run came to, as the server reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutcome {
    /// It ran; its output.
    Ok(String),
    /// It ran and failed, or its arguments were invalid, or it is unknown.
    Error(String),
    /// The safety policy refused it.
    Blocked(String),
    /// It needs the operator: the turn waits for this confirmation record until a decision is
    /// reported ([`Input::Confirmation`]) or `expires_at` passes ([`Input::Tick`]).
    NeedsConfirmation {
        /// The confirmation record's id.
        confirmation_id: String,
        /// When the record stops accepting a decision.
        expires_at: DateTime<Utc>,
    },
}

/// How a confirmation ended, as the server read it from the record.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfirmationOutcome {
    /// Approved and run; its output.
    Executed(String),
    /// Approved, but it failed.
    Failed(String),
    /// Approved, but refused at execution time (e.g. the kill switch was thrown meanwhile).
    Blocked(String),
    /// The operator said no.
    Denied,
    /// Nobody decided in time.
    Expired,
}

/// Something that happened, fed to [`super::Turn::handle`].
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A piece of model text.
    ModelText(String),
    /// The model completed a tool call.
    ModelToolCall {
        /// Provider call id.
        id: String,
        /// Tool name.
        name: String,
        /// Parsed arguments.
        input: Value,
    },
    /// The model's response ended.
    ModelDone(ModelStop),
    /// The model call failed (after any fallback the server tried).
    ModelFailed(String),
    /// A tool run finished (or turned into a confirmation).
    ToolFinished {
        /// The call id.
        id: String,
        /// What happened.
        outcome: ToolOutcome,
    },
    /// A confirmation record changed somewhere (the chat, the pending strip, REST, MCP). The
    /// machine asks for it to be read ([`Effect::ReadConfirmation`]) if it waits for it.
    ConfirmationChanged {
        /// The record's id.
        confirmation_id: String,
    },
    /// The server may have missed [`Input::ConfirmationChanged`] news (its event stream lagged):
    /// every awaited record is to be read again.
    Resync,
    /// A confirmation this turn waits for reached a final state (what reading it showed).
    Confirmation {
        /// The confirmation record's id.
        confirmation_id: String,
        /// How it ended.
        outcome: ConfirmationOutcome,
    },
    /// The time is `now` (the server ticks when an [`Effect::WakeAt`] is due).
    Tick(DateTime<Utc>),
    /// The operator aborted the turn.
    Abort,
}

/// How one call was answered, stored beside the message that carries the answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// The call.
    pub tool_use_id: String,
    /// The answer's status.
    pub status: ToolResultStatus,
    /// The confirmation record the call waited for, if it needed the operator.
    pub confirmation_id: Option<String>,
}

/// Something the server must do, returned by [`super::Turn::start`] and
/// [`super::Turn::handle`] in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Call the model with the transcript so far.
    CallModel {
        /// 1-based iteration.
        iteration: u32,
        /// Whether tools are offered (not on the last iteration).
        tools: bool,
    },
    /// Relay a piece of text to the operator.
    EmitText(String),
    /// Show a tool call to the operator.
    EmitToolUse {
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
        /// Arguments.
        input: Value,
    },
    /// Run a tool through the safety pipeline. Several may be requested at once; they may run
    /// concurrently, and each reports back with [`Input::ToolFinished`].
    RunTool {
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
        /// Arguments.
        input: Value,
    },
    /// Show a tool's answer to the operator. The call no longer waits for anything.
    EmitToolResult {
        /// Call id.
        id: String,
        /// Full text (the model may get less).
        content: String,
        /// How it was answered.
        status: ToolResultStatus,
    },
    /// Announce that call `id` waits for the operator to decide `confirmation_id`.
    AwaitConfirmation {
        /// Call id.
        id: String,
        /// The confirmation record.
        confirmation_id: String,
        /// When it expires.
        expires_at: DateTime<Utc>,
    },
    /// Feed [`Input::Tick`] once this time has come. Replaces any earlier request.
    WakeAt(DateTime<Utc>),
    /// Read this awaited record and report it with [`Input::Confirmation`] if it is final
    /// (nothing while it is pending or approved and still executing).
    ReadConfirmation {
        /// The confirmation record.
        confirmation_id: String,
    },
    /// This awaited record's time is up: expire it in the store unless it was decided
    /// meanwhile, then report what it came to as for [`Effect::ReadConfirmation`].
    ExpireConfirmation {
        /// The confirmation record.
        confirmation_id: String,
    },
    /// The turn no longer waits for this confirmation (abort): deny it so it cannot run later.
    CancelConfirmation {
        /// The confirmation record.
        confirmation_id: String,
    },
    /// Append this message to the transcript and store it.
    Persist(Message),
    /// Append this message of answers to the transcript and store it with each answer's status
    /// and confirmation.
    PersistAnswers {
        /// The user-side message of tool results, in call order.
        message: Message,
        /// One entry per result block, same order.
        answers: Vec<Answered>,
    },
    /// The turn is over; nothing follows.
    Finish(FinishReason),
}

/// Why a turn ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishReason {
    /// The model answered without (further) tool calls.
    Completed,
    /// The iteration limit was reached.
    MaxIterations,
    /// The operator aborted.
    Aborted,
    /// The model failed.
    ModelError(String),
}

impl FinishReason {
    /// The `stopReason` of `chat:done`.
    pub fn stop_reason(&self) -> StopReason {
        match self {
            FinishReason::Completed => StopReason::EndTurn,
            FinishReason::MaxIterations => StopReason::MaxIterations,
            FinishReason::Aborted => StopReason::Aborted,
            FinishReason::ModelError(_) => StopReason::Error,
        }
    }
}

/// Why a turn ended, as `chat:done` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum StopReason {
    /// The model answered.
    EndTurn,
    /// The iteration limit was reached.
    MaxIterations,
    /// The operator aborted.
    Aborted,
    /// The model failed (a `chat:error` precedes `chat:done`).
    Error,
}

impl StopReason {
    /// The wire word.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::EndTurn => "end_turn",
            StopReason::MaxIterations => "max_iterations",
            StopReason::Aborted => "aborted",
            StopReason::Error => "error",
        }
    }
}
