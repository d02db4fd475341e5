//! LLM providers (Anthropic Messages and OpenAI-compatible servers) behind one streaming
//! `LlmProvider` trait. Empty until the chat issue lands it.
