//! LLM providers (Anthropic Messages client; OpenAI-compatible stream decoder) producing one
//! provider-neutral stream of [`LlmEvent`]s (ROUTE-01, ROUTE-08).

pub mod anthropic;
pub mod events;
pub mod openai;
pub mod request;
pub mod sse;

pub use anthropic::{AnthropicClient, AnthropicDecoder};
pub use events::{LlmError, LlmEvent, StopReason};
pub use openai::OpenAiDecoder;
pub use request::{ChatMessage, ChatRequest, ContentBlock, Role, ToolSpec};
