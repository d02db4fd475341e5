//! How a tool call was answered: [`ToolResultStatus`], decided by the turn machine together with
//! the answer text, sent with `chat:tool_result` and stored beside the answer.
//!
//! The status used to be derived from the answer's first word ("Blocked:", "Denied:", …). The
//! words stay in the text because the model reads them ([`result_text`]), but nothing parses them
//! any more except the server's reader of rows stored before the status existed.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Text the model gets for outcomes that are not a tool's own output. The model reads these; the
/// status travels separately ([`ToolResultStatus`]). Rows stored before the status existed are
/// read back by these prefixes (only there).
pub mod result_text {
    /// The safety policy refused the call.
    pub const BLOCKED: &str = "Blocked:";
    /// The operator denied the call.
    pub const DENIED: &str = "Denied:";
    /// Nobody decided in time.
    pub const EXPIRED: &str = "Expired:";
    /// The operator aborted the turn before the call finished.
    pub const ABORTED: &str = "Aborted:";
    /// The model ran out of iterations (or tokens) before the call could run.
    pub const NOT_RUN: &str = "Not executed:";
}

/// How one tool call was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ToolResultStatus {
    /// It ran; the answer is its output.
    Ok,
    /// It ran and failed, its arguments were invalid, the tool is unknown, or it timed out.
    Error,
    /// The safety policy refused it (before or, after approval, at execution time).
    Blocked,
    /// The operator denied it.
    Denied,
    /// Nobody decided in time.
    Expired,
    /// The operator stopped the turn before it finished; its outcome is unknown.
    Aborted,
    /// It was never run: the response was cut off, or the turn's tool-call limit was reached.
    NotExecuted,
}

impl ToolResultStatus {
    /// The wire word (`ok`, `error`, `blocked`, `denied`, `expired`, `aborted`, `not_executed`).
    pub fn as_str(self) -> &'static str {
        match self {
            ToolResultStatus::Ok => "ok",
            ToolResultStatus::Error => "error",
            ToolResultStatus::Blocked => "blocked",
            ToolResultStatus::Denied => "denied",
            ToolResultStatus::Expired => "expired",
            ToolResultStatus::Aborted => "aborted",
            ToolResultStatus::NotExecuted => "not_executed",
        }
    }

    /// Whether the model is told the call did not succeed (`is_error` on the provider wire).
    pub fn is_error(self) -> bool {
        self != ToolResultStatus::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_str_is_the_serde_word_and_only_ok_is_not_an_error() {
        use ToolResultStatus as S;
        for s in [S::Ok, S::Error, S::Blocked, S::Denied, S::Expired, S::Aborted, S::NotExecuted] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(s.is_error(), s != S::Ok, "{s:?}");
        }
        assert_eq!(S::NotExecuted.as_str(), "not_executed");
    }
}
