//! LLM providers (Anthropic Messages and OpenAI-compatible streaming clients behind
//! [`LlmProvider`]) producing one provider-neutral stream of [`LlmEvent`]s (ROUTE-01, ROUTE-08).

pub mod anthropic;
pub mod events;
pub mod openai;
mod openai_client;
pub mod provider;
pub mod request;
pub mod sse;

pub use anthropic::{AnthropicClient, AnthropicDecoder};
pub use events::{LlmError, LlmEvent, StopReason};
pub use openai::OpenAiDecoder;
pub use openai_client::OpenAiClient;
pub use provider::LlmProvider;
pub use request::{ChatMessage, ChatRequest, ContentBlock, Role, ToolSpec};
