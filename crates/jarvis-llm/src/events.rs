//! Provider-neutral stream items and errors shared by every LLM provider (ROUTE-08: the same
//! event sequence whichever provider answers).

use std::time::Duration;

/// Why the model stopped generating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// The model finished its turn naturally.
    EndTurn,
    /// The model wants one or more tools to be run.
    ToolUse,
    /// The output hit the `max_tokens` limit (tool arguments may be truncated).
    MaxTokens,
    /// A caller-supplied stop sequence was produced.
    StopSequence,
    /// The model refused to answer.
    Refusal,
    /// Any other (future or provider-specific) reason, verbatim.
    Other(String),
}

impl StopReason {
    /// Maps an Anthropic `stop_reason` string (also used for normalised OpenAI reasons).
    pub fn from_wire(s: &str) -> Self {
        match s {
            "end_turn" => Self::EndTurn,
            "tool_use" => Self::ToolUse,
            "max_tokens" => Self::MaxTokens,
            "stop_sequence" => Self::StopSequence,
            "refusal" => Self::Refusal,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// One item of a provider-neutral response stream.
#[derive(Debug, Clone, PartialEq)]
pub enum LlmEvent {
    /// The response started.
    MessageStart {
        /// Model that actually answers (may differ from the requested one).
        model: String,
        /// Prompt tokens, when the provider reports them up front.
        input_tokens: Option<u64>,
    },
    /// A piece of assistant text.
    TextDelta(String),
    /// A tool call begins.
    ToolCallStart {
        /// Provider-neutral call index within this response.
        index: usize,
        /// Provider tool-call id (echoed back with the tool result).
        id: String,
        /// Tool name.
        name: String,
    },
    /// A raw piece of the tool call's JSON arguments (for live display only).
    ToolCallArgsDelta {
        /// Call index, as in [`LlmEvent::ToolCallStart`].
        index: usize,
        /// Raw, possibly incomplete JSON fragment.
        json: String,
    },
    /// A tool call is complete; its arguments are parsed JSON.
    ToolCallEnd {
        /// Call index, as in [`LlmEvent::ToolCallStart`].
        index: usize,
        /// Provider tool-call id.
        id: String,
        /// Tool name.
        name: String,
        /// Parsed arguments (`{}` when the model sent none).
        input: serde_json::Value,
    },
    /// Token usage (cumulative for the response so far).
    Usage {
        /// Prompt tokens.
        input_tokens: u64,
        /// Generated tokens.
        output_tokens: u64,
    },
    /// The response is complete. Always the last item of a successful stream.
    Done {
        /// Why generation stopped.
        stop_reason: StopReason,
    },
}

/// Errors from an LLM provider, either before streaming or as a stream item.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// A non-success HTTP status (or an error event that corresponds to one).
    #[error("HTTP {status}: {message}")]
    Http {
        /// HTTP status code.
        status: u16,
        /// Provider error message.
        message: String,
    },
    /// The provider is overloaded (Anthropic 529 / `overloaded_error`).
    #[error("provider overloaded")]
    Overloaded {
        /// Server-suggested wait, if any.
        retry_after: Option<Duration>,
    },
    /// Rate limited (HTTP 429 / `rate_limit_error`).
    #[error("rate limited")]
    RateLimited {
        /// Server-suggested wait, if any.
        retry_after: Option<Duration>,
    },
    /// The stream broke or ended early, or the provider sent an error event.
    #[error("stream error: {0}")]
    Stream(String),
    /// A payload could not be decoded (bad JSON, invalid tool arguments).
    #[error("decode error: {0}")]
    Decode(String),
    /// The request timed out.
    #[error("request timed out")]
    Timeout,
    /// The connection could not be established.
    #[error("connection failed: {0}")]
    Connect(String),
    /// Missing or rejected credentials.
    #[error("authentication failed: {0}")]
    Auth(String),
}

impl LlmError {
    /// Whether retrying the same request against the same provider may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Overloaded { .. }
            | Self::RateLimited { .. }
            | Self::Timeout
            | Self::Connect(_)
            | Self::Stream(_) => true,
            Self::Http { status, .. } => *status == 408 || *status >= 500,
            Self::Decode(_) | Self::Auth(_) => false,
        }
    }

    /// Whether the router should fall back to the other provider (ROUTE-03: missing key,
    /// 429/5xx/overloaded, timeout).
    pub fn should_fall_back(&self) -> bool {
        match self {
            Self::Auth(_) => true,
            Self::Decode(_) => false,
            Self::Http { status, .. } => *status == 408 || *status >= 500,
            other => other.is_retryable(),
        }
    }

    /// Maps a provider error `type` (Anthropic naming) and message to an error. `status` is
    /// the HTTP status when known.
    pub fn from_error_type(
        kind: &str,
        message: String,
        status: Option<u16>,
        retry_after: Option<Duration>,
    ) -> Self {
        match (kind, status) {
            ("overloaded_error", _) | (_, Some(529)) => Self::Overloaded { retry_after },
            ("rate_limit_error", _) | (_, Some(429)) => Self::RateLimited { retry_after },
            ("authentication_error" | "permission_error", _) | (_, Some(401 | 403)) => {
                Self::Auth(message)
            }
            (_, Some(status)) => Self::Http { status, message },
            ("invalid_request_error", None) => Self::Http { status: 400, message },
            ("not_found_error", None) => Self::Http { status: 404, message },
            ("request_too_large", None) => Self::Http { status: 413, message },
            ("api_error", None) => Self::Http { status: 500, message },
            (other, None) => Self::Stream(format!("{other}: {message}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reason_mapping() {
        assert_eq!(StopReason::from_wire("end_turn"), StopReason::EndTurn);
        assert_eq!(StopReason::from_wire("tool_use"), StopReason::ToolUse);
        assert_eq!(StopReason::from_wire("max_tokens"), StopReason::MaxTokens);
        assert_eq!(StopReason::from_wire("stop_sequence"), StopReason::StopSequence);
        assert_eq!(StopReason::from_wire("refusal"), StopReason::Refusal);
        assert_eq!(StopReason::from_wire("pause_turn"), StopReason::Other("pause_turn".into()));
    }

    #[test]
    fn error_classification() {
        let m = || "m".to_string();
        assert_eq!(
            LlmError::from_error_type("overloaded_error", m(), None, None),
            LlmError::Overloaded { retry_after: None }
        );
        assert_eq!(
            LlmError::from_error_type("x", m(), Some(529), None),
            LlmError::Overloaded { retry_after: None }
        );
        let secs = Some(Duration::from_secs(3));
        assert_eq!(
            LlmError::from_error_type("rate_limit_error", m(), Some(429), secs),
            LlmError::RateLimited { retry_after: secs }
        );
        assert_eq!(
            LlmError::from_error_type("authentication_error", m(), Some(401), None),
            LlmError::Auth(m())
        );
        assert_eq!(
            LlmError::from_error_type("api_error", m(), None, None),
            LlmError::Http { status: 500, message: m() }
        );
        assert_eq!(
            LlmError::from_error_type("weird", m(), None, None),
            LlmError::Stream("weird: m".into())
        );

        assert!(LlmError::Overloaded { retry_after: None }.is_retryable());
        assert!(LlmError::Timeout.should_fall_back());
        assert!(LlmError::Auth(m()).should_fall_back());
        assert!(!LlmError::Auth(m()).is_retryable());
        assert!(!LlmError::Decode(m()).should_fall_back());
        let bad_req = LlmError::Http { status: 400, message: m() };
        assert!(!bad_req.is_retryable() && !bad_req.should_fall_back());
        let server = LlmError::Http { status: 502, message: m() };
        assert!(server.is_retryable() && server.should_fall_back());
    }
}
