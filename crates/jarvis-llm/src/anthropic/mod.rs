//! Anthropic Messages API: a pure, incremental SSE → [`LlmEvent`] decoder and a streaming
//! client ([`AnthropicClient`]).
//!
//! The decoder is fed one SSE event at a time (name + data) and never does I/O, so it can be
//! tested against recorded transcripts and split at arbitrary chunk boundaries.

pub(crate) mod client;

pub use client::{AnthropicClient, DEFAULT_BASE_URL, decode_sse};

use std::collections::HashMap;

use serde::Deserialize;

use crate::events::{LlmError, LlmEvent, StopReason};

/// One decoder output item.
pub type DecodeItem = Result<LlmEvent, LlmError>;

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Wire {
    MessageStart {
        message: WireMessage,
    },
    ContentBlockStart {
        index: usize,
        content_block: WireBlock,
    },
    ContentBlockDelta {
        index: usize,
        delta: WireDelta,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        #[serde(default)]
        delta: WireMessageDelta,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop,
    Ping,
    Error {
        error: WireError,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Deserialize)]
struct WireMessage {
    #[serde(default)]
    model: String,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize, Default)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
}

#[derive(Deserialize, Default)]
struct WireMessageDelta {
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

/// Anthropic error payload (HTTP error bodies use the same shape under `error`).
#[derive(Deserialize)]
pub(crate) struct WireError {
    #[serde(rename = "type", default)]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) message: String,
}

enum Block {
    Text,
    Tool {
        call: usize,
        id: String,
        name: String,
        json: String,
    },
    /// Thinking, server tools, compaction, fallback and future block types.
    Ignored,
}

/// Incremental Anthropic SSE decoder. Feed events in order with [`AnthropicDecoder::feed`],
/// then call [`AnthropicDecoder::finish`] at end of stream.
///
/// Tool calls get a provider-neutral index counting from 0 in order of appearance. Thinking,
/// server-side tool (`server_tool_use`, `web_search_tool_result`) and unknown blocks are
/// skipped. A tool block still open at `message_stop` (output truncated by `max_tokens`) is
/// dropped without a [`LlmEvent::ToolCallEnd`]; the `Done` stop reason tells why.
#[derive(Default)]
pub struct AnthropicDecoder {
    blocks: HashMap<usize, Block>,
    tool_calls: usize,
    input_tokens: u64,
    output_tokens: u64,
    stop_reason: Option<StopReason>,
    done: bool,
    failed: bool,
}

impl AnthropicDecoder {
    /// A fresh decoder for one response.
    pub fn new() -> Self {
        Self::default()
    }

    /// True once `message_stop` or an `error` event was seen; later events are ignored.
    pub fn is_terminated(&self) -> bool {
        self.done || self.failed
    }

    /// Decodes one SSE event. `event_name` is the `event:` field (may be empty).
    pub fn feed(&mut self, event_name: &str, data: &str) -> Vec<DecodeItem> {
        if self.is_terminated() || data.trim().is_empty() {
            return Vec::new();
        }
        let wire: Wire = match serde_json::from_str(data) {
            Ok(w) => w,
            Err(e) => {
                return vec![Err(LlmError::Decode(format!("bad `{event_name}` event: {e}")))];
            }
        };
        let mut out = Vec::new();
        match wire {
            Wire::MessageStart { message } => {
                let usage = message.usage.unwrap_or_default();
                if let Some(n) = usage.input_tokens {
                    self.input_tokens = n;
                }
                if let Some(n) = usage.output_tokens {
                    self.output_tokens = n;
                }
                out.push(Ok(LlmEvent::MessageStart {
                    model: message.model,
                    input_tokens: usage.input_tokens,
                }));
            }
            Wire::ContentBlockStart { index, content_block } => {
                let block = match content_block {
                    WireBlock::Text { text } => {
                        if !text.is_empty() {
                            out.push(Ok(LlmEvent::TextDelta(text)));
                        }
                        Block::Text
                    }
                    WireBlock::ToolUse { id, name } => {
                        let call = self.tool_calls;
                        self.tool_calls += 1;
                        out.push(Ok(LlmEvent::ToolCallStart {
                            index: call,
                            id: id.clone(),
                            name: name.clone(),
                        }));
                        Block::Tool { call, id, name, json: String::new() }
                    }
                    WireBlock::Other => Block::Ignored,
                };
                self.blocks.insert(index, block);
            }
            Wire::ContentBlockDelta { index, delta } => {
                match (self.blocks.get_mut(&index), delta) {
                    (Some(Block::Text), WireDelta::TextDelta { text }) if !text.is_empty() => {
                        out.push(Ok(LlmEvent::TextDelta(text)));
                    }
                    (
                        Some(Block::Tool { call, json, .. }),
                        WireDelta::InputJsonDelta { partial_json },
                    ) if !partial_json.is_empty() => {
                        json.push_str(&partial_json);
                        out.push(Ok(LlmEvent::ToolCallArgsDelta {
                            index: *call,
                            json: partial_json,
                        }));
                    }
                    _ => {}
                }
            }
            Wire::ContentBlockStop { index } => {
                if let Some(Block::Tool { call, id, name, json }) = self.blocks.remove(&index) {
                    out.push(finish_tool(call, id, name, &json));
                }
            }
            Wire::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.stop_reason {
                    self.stop_reason = Some(StopReason::from_wire(&reason));
                }
                if let Some(usage) = usage {
                    if let Some(n) = usage.input_tokens {
                        self.input_tokens = n;
                    }
                    if let Some(n) = usage.output_tokens {
                        self.output_tokens = n;
                    }
                    out.push(Ok(LlmEvent::Usage {
                        input_tokens: self.input_tokens,
                        output_tokens: self.output_tokens,
                    }));
                }
            }
            Wire::MessageStop => {
                let open = self.blocks.values().filter(|b| matches!(b, Block::Tool { .. })).count();
                if open > 0 {
                    tracing::warn!(open, "anthropic: dropping unfinished tool call(s)");
                }
                self.blocks.clear();
                self.done = true;
                let stop_reason =
                    self.stop_reason.take().unwrap_or_else(|| StopReason::Other("unknown".into()));
                out.push(Ok(LlmEvent::Done { stop_reason }));
            }
            Wire::Error { error } => {
                self.failed = true;
                out.push(Err(LlmError::from_error_type(&error.kind, error.message, None, None)));
            }
            Wire::Ping | Wire::Unknown => {}
        }
        out
    }

    /// Call at end of stream: an error if the response never completed.
    pub fn finish(&mut self) -> Option<LlmError> {
        if self.is_terminated() {
            return None;
        }
        self.failed = true;
        Some(LlmError::Stream("stream ended before message_stop".to_owned()))
    }
}

fn finish_tool(call: usize, id: String, name: String, json: &str) -> DecodeItem {
    let input = if json.trim().is_empty() {
        Ok(serde_json::Value::Object(Default::default()))
    } else {
        serde_json::from_str(json)
    };
    match input {
        Ok(input) => Ok(LlmEvent::ToolCallEnd { index: call, id, name, input }),
        Err(e) => Err(LlmError::Decode(format!(
            "tool call `{name}` ({id}) has invalid JSON arguments: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests;
