//! Streaming HTTP client for `POST /v1/messages`.

use std::time::Duration;

use futures::{Stream, StreamExt};

use super::{AnthropicDecoder, DecodeItem, WireError};
use crate::events::LlmError;
use crate::request::ChatRequest;

/// Default API base URL (overridden by `ANTHROPIC_BASE_URL`).
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
const API_VERSION: &str = "2023-06-01";

/// Anthropic Messages API client.
#[derive(Debug, Clone)]
pub struct AnthropicClient {
    /// Base URL without trailing slash.
    pub base_url: String,
    /// API key sent as `x-api-key`.
    pub api_key: String,
    /// Model id.
    pub model: String,
    /// Default output token cap.
    pub max_tokens: u32,
    /// HTTP client (timeouts etc. are configured by the caller).
    pub http: reqwest::Client,
}

impl AnthropicClient {
    /// A client using `ANTHROPIC_BASE_URL` (or [`DEFAULT_BASE_URL`]) and 4096 max tokens.
    pub fn new(api_key: impl Into<String>, model: impl Into<String>) -> Self {
        let base_url = std::env::var("ANTHROPIC_BASE_URL")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: api_key.into(),
            model: model.into(),
            max_tokens: 4096,
            http: reqwest::Client::new(),
        }
    }

    /// Overrides the base URL.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Starts a streaming request. HTTP-level failures are returned as `Err`; failures after
    /// the response started arrive as `Err` items, and a stream that ends before
    /// `message_stop` yields a final [`LlmError::Stream`] item.
    pub async fn stream(
        &self,
        req: ChatRequest,
    ) -> Result<impl Stream<Item = DecodeItem> + Send + 'static, LlmError> {
        if self.api_key.trim().is_empty() {
            return Err(LlmError::Auth("no Anthropic API key configured".into()));
        }
        let body = req.to_anthropic(&self.model, self.max_tokens);
        let resp = self
            .http
            .post(format!("{}/v1/messages", self.base_url))
            .header("x-api-key", &self.api_key)
            .header("anthropic-version", API_VERSION)
            .header("accept", "text/event-stream")
            .json(&body)
            .send()
            .await
            .map_err(map_reqwest)?;
        let status = resp.status();
        if !status.is_success() {
            let retry_after = retry_after(resp.headers());
            let text = resp.text().await.unwrap_or_default();
            return Err(http_error(status.as_u16(), &text, retry_after));
        }
        // eventsource-stream drops a final event not followed by a blank line; terminate it.
        Ok(decode_sse(resp.bytes_stream().map(|r| r.map_err(map_body_error))))
    }
}

/// Runs an SSE byte stream (any chunking) through the Anthropic decoder. Transport errors
/// propagate as items and end the stream; a premature end yields an [`LlmError::Stream`] item.
pub fn decode_sse<S, B>(bytes: S) -> impl Stream<Item = DecodeItem> + Send + 'static
where
    S: Stream<Item = Result<B, LlmError>> + Send + 'static,
    B: AsRef<[u8]> + Send + 'static,
{
    crate::sse::decode_with(bytes, AnthropicDecoder::new())
}

pub(crate) fn map_body_error(e: reqwest::Error) -> LlmError {
    if e.is_timeout() { LlmError::Timeout } else { LlmError::Stream(format!("response body: {e}")) }
}

pub(crate) fn map_reqwest(e: reqwest::Error) -> LlmError {
    if e.is_timeout() {
        LlmError::Timeout
    } else if e.is_connect() {
        LlmError::Connect(e.to_string())
    } else {
        LlmError::Stream(e.to_string())
    }
}

pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// Maps an HTTP error response (`{"type":"error","error":{"type":..,"message":..}}`).
fn http_error(status: u16, body: &str, retry_after: Option<Duration>) -> LlmError {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: WireError,
    }
    let (kind, message) = match serde_json::from_str::<Envelope>(body) {
        Ok(env) => (env.error.kind, env.error.message),
        Err(_) => (String::new(), body.chars().take(500).collect()),
    };
    LlmError::from_error_type(&kind, message, Some(status), retry_after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_error_mapping() {
        let body = r#"{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}"#;
        assert_eq!(
            http_error(400, body, None),
            LlmError::Http { status: 400, message: "bad".into() }
        );
        assert_eq!(
            http_error(503, "upstream down", None),
            LlmError::Http { status: 503, message: "upstream down".into() }
        );
        let over = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(http_error(500, over, None), LlmError::Overloaded { retry_after: None });
    }
}
