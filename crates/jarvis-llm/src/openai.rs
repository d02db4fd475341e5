//! OpenAI-compatible `/v1/chat/completions` streaming decoder (llama.cpp `llama-server`,
//! vLLM, Ollama's OpenAI endpoint), producing the same [`LlmEvent`] sequence as Anthropic.
//!
//! Quirks handled (rust-stack P10): tool-call `id`/`name` only in the first chunk or repeated
//! in every chunk, arguments split arbitrarily, `reasoning_content` (ignored like thinking),
//! usage only with `stream_options.include_usage` (in the finish chunk or a trailing
//! `choices: []` chunk), `finish_reason: "stop"` although tools were called, and error
//! objects in the stream. A stream that ends without `data: [DONE]` is an error.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::events::{LlmError, LlmEvent, StopReason};
use crate::sse::SseDecoder;

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<ErrorBody>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallDelta>,
}

#[derive(Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: Option<usize>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default)]
    message: String,
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Default)]
struct ToolState {
    call: Option<usize>,
    id: Option<String>,
    name: Option<String>,
    args: String,
    ended: bool,
}

/// Incremental decoder for OpenAI-compatible chat-completion chunks (SSE `data:` payloads).
#[derive(Default)]
pub struct OpenAiDecoder {
    started: bool,
    tools: BTreeMap<usize, ToolState>,
    next_call: usize,
    stop_reason: Option<StopReason>,
    done: bool,
    failed: bool,
}

impl OpenAiDecoder {
    /// A fresh decoder for one response.
    pub fn new() -> Self {
        Self::default()
    }

    /// True after `[DONE]` or an error object.
    pub fn is_terminated(&self) -> bool {
        self.done || self.failed
    }

    /// Decodes one SSE `data:` payload.
    pub fn feed(&mut self, data: &str) -> Vec<Result<LlmEvent, LlmError>> {
        let data = data.trim();
        if self.is_terminated() || data.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        if data == "[DONE]" {
            self.close_tools(&mut out);
            self.done = true;
            let stop_reason =
                self.stop_reason.take().unwrap_or_else(|| StopReason::Other("unknown".into()));
            out.push(Ok(LlmEvent::Done { stop_reason }));
            return out;
        }
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(e) => return vec![Err(LlmError::Decode(format!("bad chunk: {e}")))],
        };
        if let Some(err) = chunk.error {
            self.failed = true;
            let status = match &err.code {
                Some(serde_json::Value::Number(n)) => n.as_u64().and_then(|n| n.try_into().ok()),
                _ => None,
            };
            let msg = if err.kind.is_empty() {
                err.message
            } else {
                format!("{}: {}", err.kind, err.message)
            };
            return vec![Err(match status {
                Some(s) => LlmError::from_error_type("", msg, Some(s), None),
                None => LlmError::Stream(msg),
            })];
        }
        if !self.started {
            self.started = true;
            out.push(Ok(LlmEvent::MessageStart {
                model: chunk.model.clone().unwrap_or_default(),
                input_tokens: None,
            }));
        }
        if let Some(choice) = chunk.choices.into_iter().next() {
            let delta = choice.delta.unwrap_or_default();
            if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                out.push(Ok(LlmEvent::TextDelta(text)));
            }
            for (pos, tc) in delta.tool_calls.into_iter().enumerate() {
                self.tool_delta(tc.index.unwrap_or(pos), tc, &mut out);
            }
            if let Some(reason) = choice.finish_reason {
                let tools_called = !self.tools.is_empty();
                let reason = match reason.as_str() {
                    "stop" if tools_called => StopReason::ToolUse,
                    "stop" => StopReason::EndTurn,
                    "tool_calls" | "function_call" => StopReason::ToolUse,
                    "length" => StopReason::MaxTokens,
                    "content_filter" => StopReason::Refusal,
                    other => StopReason::Other(other.to_owned()),
                };
                self.stop_reason = Some(reason);
                self.close_tools(&mut out);
            }
        }
        if let Some(u) = chunk.usage {
            out.push(Ok(LlmEvent::Usage {
                input_tokens: u.prompt_tokens,
                output_tokens: u.completion_tokens,
            }));
        }
        out
    }

    fn tool_delta(
        &mut self,
        index: usize,
        tc: ToolCallDelta,
        out: &mut Vec<Result<LlmEvent, LlmError>>,
    ) {
        let st = self.tools.entry(index).or_default();
        if st.ended {
            return;
        }
        if st.id.is_none() {
            st.id = tc.id.filter(|s| !s.is_empty());
        }
        let (name, args) = tc.function.map(|f| (f.name, f.arguments)).unwrap_or_default();
        if st.name.is_none() {
            st.name = name.filter(|s| !s.is_empty());
        }
        let args = args.unwrap_or_default();
        st.args.push_str(&args);
        match st.call {
            Some(call) if !args.is_empty() => {
                out.push(Ok(LlmEvent::ToolCallArgsDelta { index: call, json: args }))
            }
            Some(_) => {}
            None => {
                let Some(name) = st.name.clone() else { return };
                let call = self.next_call;
                self.next_call += 1;
                st.call = Some(call);
                let id = st.id.get_or_insert_with(|| format!("call_{call}")).clone();
                out.push(Ok(LlmEvent::ToolCallStart { index: call, id, name }));
                if !st.args.is_empty() {
                    out.push(Ok(LlmEvent::ToolCallArgsDelta {
                        index: call,
                        json: st.args.clone(),
                    }));
                }
            }
        }
    }

    fn close_tools(&mut self, out: &mut Vec<Result<LlmEvent, LlmError>>) {
        let truncated = self.stop_reason == Some(StopReason::MaxTokens);
        for st in self.tools.values_mut().filter(|s| !s.ended) {
            st.ended = true;
            let (Some(call), Some(id), Some(name)) = (st.call, st.id.clone(), st.name.clone())
            else {
                continue;
            };
            let parsed = if st.args.trim().is_empty() {
                Ok(serde_json::Value::Object(Default::default()))
            } else {
                serde_json::from_str(&st.args)
            };
            match parsed {
                Ok(input) => out.push(Ok(LlmEvent::ToolCallEnd { index: call, id, name, input })),
                // Cut off by the token limit: dropped, as on Anthropic; Done says MaxTokens.
                Err(_) if truncated => {}
                Err(e) => out.push(Err(LlmError::Decode(format!(
                    "tool call `{name}` ({id}) has invalid JSON arguments: {e}"
                )))),
            }
        }
    }

    /// Call at end of input: an error unless `[DONE]` (or an error object) was seen.
    pub fn finish(&mut self) -> Option<LlmError> {
        if self.is_terminated() {
            return None;
        }
        self.failed = true;
        Some(LlmError::Stream("stream ended without [DONE]".to_owned()))
    }
}

impl SseDecoder for OpenAiDecoder {
    fn feed(&mut self, _event_name: &str, data: &str) -> Vec<Result<LlmEvent, LlmError>> {
        Self::feed(self, data)
    }
    fn is_terminated(&self) -> bool {
        Self::is_terminated(self)
    }
    fn finish(&mut self) -> Option<LlmError> {
        Self::finish(self)
    }
}

#[cfg(test)]
#[path = "openai_tests.rs"]
mod tests;
