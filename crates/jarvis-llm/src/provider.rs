//! [`LlmProvider`]: the object-safe interface the router uses for Claude and the local model.

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;

use crate::anthropic::AnthropicClient;
use crate::events::{LlmError, LlmEvent};
use crate::openai_client::OpenAiClient;
use crate::request::ChatRequest;

/// A streaming chat provider, usable as `Arc<dyn LlmProvider>`.
#[async_trait]
pub trait LlmProvider: Send + Sync {
    /// Provider name for logs and routing: `"claude"` or `"local"`.
    fn name(&self) -> &'static str;
    /// Model id requests are sent with.
    fn model(&self) -> &str;
    /// Starts a streaming request; see the concrete clients for the error contract.
    async fn stream(
        &self,
        req: ChatRequest,
    ) -> Result<BoxStream<'static, Result<LlmEvent, LlmError>>, LlmError>;
}

#[async_trait]
impl LlmProvider for AnthropicClient {
    fn name(&self) -> &'static str {
        "claude"
    }
    fn model(&self) -> &str {
        &self.model
    }
    async fn stream(
        &self,
        req: ChatRequest,
    ) -> Result<BoxStream<'static, Result<LlmEvent, LlmError>>, LlmError> {
        Ok(AnthropicClient::stream(self, req).await?.boxed())
    }
}

#[async_trait]
impl LlmProvider for OpenAiClient {
    fn name(&self) -> &'static str {
        "local"
    }
    fn model(&self) -> &str {
        &self.model
    }
    async fn stream(
        &self,
        req: ChatRequest,
    ) -> Result<BoxStream<'static, Result<LlmEvent, LlmError>>, LlmError> {
        Ok(OpenAiClient::stream(self, req).await?.boxed())
    }
}
