//! Streaming HTTP client for OpenAI-compatible `POST /v1/chat/completions` (llama.cpp
//! `llama-server`, vLLM, Ollama, OpenAI).

use std::time::Duration;

use futures::{Stream, StreamExt};
use serde::Deserialize;

use crate::anthropic::client::{map_body_error, map_reqwest, retry_after};
use crate::events::{LlmError, LlmEvent};
use crate::openai::OpenAiDecoder;
use crate::request::ChatRequest;

/// OpenAI-compatible chat-completions client.
#[derive(Debug, Clone)]
pub struct OpenAiClient {
    /// Server root without trailing slash or `/v1` (e.g. `http://127.0.0.1:8080`).
    pub base_url: String,
    /// Model id sent as `model`.
    pub model: String,
    /// API key sent as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
    /// Default output token cap.
    pub max_tokens: u32,
    /// HTTP client (timeouts etc. are configured by the caller).
    pub http: reqwest::Client,
}

impl OpenAiClient {
    /// A client for `base_url` (e.g. `LOCAL_LLM_ENDPOINT`; a trailing `/` or `/v1` is
    /// accepted), no API key and 4096 max tokens.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: normalize_base_url(&base_url.into()),
            model: model.into(),
            api_key: None,
            max_tokens: 4096,
            http: reqwest::Client::new(),
        }
    }

    /// Sets the bearer API key (blank keys are ignored).
    pub fn with_api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into()).filter(|k| !k.trim().is_empty());
        self
    }

    /// The full chat-completions URL.
    pub fn endpoint(&self) -> String {
        format!("{}/v1/chat/completions", normalize_base_url(&self.base_url))
    }

    /// Starts a streaming request. HTTP-level failures are returned as `Err`; failures after
    /// the response started arrive as `Err` items, and a stream that ends before
    /// `data: [DONE]` yields a final [`LlmError::Stream`] item.
    pub async fn stream(
        &self,
        req: ChatRequest,
    ) -> Result<impl Stream<Item = Result<LlmEvent, LlmError>> + Send + 'static, LlmError> {
        let body = req.to_openai(&self.model, self.max_tokens);
        let mut builder =
            self.http.post(self.endpoint()).header("accept", "text/event-stream").json(&body);
        if let Some(key) = self.api_key.as_deref().filter(|k| !k.trim().is_empty()) {
            builder = builder.bearer_auth(key);
        }
        let resp = builder.send().await.map_err(map_reqwest)?;
        let status = resp.status();
        if !status.is_success() {
            let retry_after = retry_after(resp.headers());
            let text = resp.text().await.unwrap_or_default();
            return Err(http_error(status.as_u16(), &text, retry_after));
        }
        let bytes = resp.bytes_stream().map(|r| r.map_err(map_body_error));
        Ok(crate::sse::decode_with(bytes, OpenAiDecoder::new()))
    }
}

/// Strips trailing slashes and one trailing `/v1`.
fn normalize_base_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    url.strip_suffix("/v1").unwrap_or(url).trim_end_matches('/').to_owned()
}

/// Maps an HTTP error response (`{"error":{"message":..,"type":..,"code":..}}`, or any body).
fn http_error(status: u16, body: &str, retry_after: Option<Duration>) -> LlmError {
    #[derive(Deserialize)]
    struct Envelope {
        error: ErrorObject,
    }
    #[derive(Deserialize)]
    struct ErrorObject {
        #[serde(default)]
        message: String,
    }
    let message = match serde_json::from_str::<Envelope>(body) {
        Ok(env) if !env.error.message.is_empty() => env.error.message,
        _ => body.chars().take(500).collect(),
    };
    match status {
        429 => LlmError::RateLimited { retry_after },
        503 | 529 => LlmError::Overloaded { retry_after },
        401 | 403 => LlmError::Auth(message),
        _ => LlmError::Http { status, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_normalization() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8080/v1",
            "http://127.0.0.1:8080/v1/",
        ] {
            assert_eq!(
                OpenAiClient::new(url, "m").endpoint(),
                "http://127.0.0.1:8080/v1/chat/completions",
                "{url}"
            );
        }
        assert_eq!(normalize_base_url("http://h/api/v1"), "http://h/api");
        assert!(OpenAiClient::new("http://h", "m").with_api_key("  ").api_key.is_none());
    }

    #[test]
    fn http_error_mapping() {
        let body = r#"{"error":{"code":400,"message":"bad","type":"invalid_request_error"}}"#;
        assert_eq!(
            http_error(400, body, None),
            LlmError::Http { status: 400, message: "bad".into() }
        );
        assert_eq!(
            http_error(500, "boom", None),
            LlmError::Http { status: 500, message: "boom".into() }
        );
        let loading =
            r#"{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}"#;
        assert_eq!(http_error(503, loading, None), LlmError::Overloaded { retry_after: None });
        assert_eq!(
            http_error(429, "{}", Some(Duration::from_secs(3))),
            LlmError::RateLimited { retry_after: Some(Duration::from_secs(3)) }
        );
        assert_eq!(
            http_error(401, r#"{"error":{"message":"no"}}"#, None),
            LlmError::Auth("no".into())
        );
    }
}
