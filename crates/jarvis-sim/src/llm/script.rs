//! Scripts: the turns a [`crate::ScriptedLlm`] answers with, their JSON form and the built-in
//! scenarios.

use serde::Deserialize;
use serde_json::{Value, json};

/// Text chunk size (in chars) when a turn does not give one.
pub const DEFAULT_CHUNK_SIZE: usize = 8;

/// The text answered once every turn of a script has been used.
pub const SCRIPT_FINISHED: &str = "(script finished)";

/// One tool call the model makes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ToolCall {
    /// Call id (`toolu_…` for Anthropic, reused as the OpenAI call id).
    pub id: String,
    /// Tool name.
    pub name: String,
    /// Tool arguments (a JSON object).
    #[serde(default = "empty_object")]
    pub input: Value,
}

fn empty_object() -> Value {
    json!({})
}

impl ToolCall {
    /// A call with the given id, name and input.
    pub fn new(id: &str, name: &str, input: Value) -> Self {
        Self { id: id.to_owned(), name: name.to_owned(), input }
    }
}

/// One scripted answer (one request).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Turn {
    /// Streams `text` in chunks of `chunk_size` chars (default [`DEFAULT_CHUNK_SIZE`]).
    Text {
        /// The reply.
        text: String,
        /// Chars per delta.
        #[serde(default)]
        chunk_size: Option<usize>,
    },
    /// One or several (parallel) tool calls; stop reason `tool_use` / finish reason
    /// `tool_calls`.
    ToolCalls {
        /// The calls, in order.
        calls: Vec<ToolCall>,
    },
    /// Some text, then tool calls.
    TextThenTools {
        /// The text before the calls.
        text: String,
        /// The calls.
        calls: Vec<ToolCall>,
    },
    /// Streams `after_text`, then fails: Anthropic sends an `error` event (`api_error`),
    /// OpenAI cuts the connection without `[DONE]`.
    ErrorMidStream {
        /// Text streamed before the failure.
        after_text: String,
        /// The error message (Anthropic only).
        message: String,
    },
    /// Anthropic: HTTP 529 `overloaded_error`; OpenAI: HTTP 503.
    Overloaded,
    /// Like `Text`, sleeping `delay_ms_per_chunk` before each chunk.
    Slow {
        /// The reply.
        text: String,
        /// Delay before each chunk, in milliseconds.
        delay_ms_per_chunk: u64,
    },
}

impl Turn {
    /// A plain text turn with the default chunk size.
    pub fn text(text: &str) -> Self {
        Self::Text { text: text.to_owned(), chunk_size: None }
    }
}

/// The turns a scripted server answers with, one per request, in order. Once they are used up
/// every further request gets the plain text [`SCRIPT_FINISHED`] (an empty script answers only
/// that).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Script {
    /// The turns, in order.
    pub turns: Vec<Turn>,
}

/// Names accepted by [`Script::named`].
pub const BUILTIN_SCENARIOS: &[&str] =
    &["plain", "tool_call", "parallel_tools", "red_tool", "error_mid_stream", "overloaded", "slow"];

impl Script {
    /// A script of these turns.
    pub fn new(turns: Vec<Turn>) -> Self {
        Self { turns }
    }

    /// Parses a scenario file: `{"turns":[{"type":"text","text":"…"},{"type":"toolCalls",
    /// "calls":[{"id":"toolu_1","name":"get_vms","input":{}}]}]}`. Types: `text` (`chunkSize`),
    /// `toolCalls`, `textThenTools`, `errorMidStream` (`afterText`, `message`), `overloaded`,
    /// `slow` (`delayMsPerChunk`).
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// A built-in scenario (see [`BUILTIN_SCENARIOS`]), or None for an unknown name.
    /// - `plain`: one text answer.
    /// - `tool_call`: `get_vms` (no arguments), then a text summary.
    /// - `parallel_tools`: `get_vms` and `get_node_status` for pve1 at once, then text.
    /// - `red_tool`: some text and `stop_vm` for vmid 101 on pve1, then text.
    /// - `error_mid_stream`: text, then a failure mid-stream.
    /// - `overloaded`: overloaded once, then text (for retries).
    /// - `slow`: text with 40 ms before each chunk.
    pub fn named(name: &str) -> Option<Self> {
        let turns = match name {
            "plain" => vec![Turn::Text {
                text: "Hello from the scripted LLM. All nodes look healthy.".into(),
                chunk_size: Some(7),
            }],
            "tool_call" => vec![
                Turn::ToolCalls { calls: vec![ToolCall::new("toolu_01", "get_vms", json!({}))] },
                Turn::text("There are 3 VMs; all of them are running."),
            ],
            "parallel_tools" => vec![
                Turn::ToolCalls {
                    calls: vec![
                        ToolCall::new("toolu_01", "get_vms", json!({})),
                        ToolCall::new("toolu_02", "get_node_status", json!({"node": "pve1"})),
                    ],
                },
                Turn::text("pve1 is online and runs 3 VMs."),
            ],
            "red_tool" => vec![
                Turn::TextThenTools {
                    text: "I will stop VM 101 on pve1.".into(),
                    calls: vec![ToolCall::new(
                        "toolu_01",
                        "stop_vm",
                        json!({"node": "pve1", "vmid": 101}),
                    )],
                },
                Turn::text("VM 101 on pve1 is stopping."),
            ],
            "error_mid_stream" => vec![Turn::ErrorMidStream {
                after_text: "Let me check the clus".into(),
                message: "Internal server error".into(),
            }],
            "overloaded" => vec![Turn::Overloaded, Turn::text("Recovered after overload.")],
            "slow" => vec![Turn::Slow {
                text: "Thinking slowly about your cluster.".into(),
                delay_ms_per_chunk: 40,
            }],
            _ => return None,
        };
        Some(Self { turns })
    }
}

/// What a streamed answer consists of, whoever decided it (a scripted [`Turn`] or the demo
/// responder); both wire formats render from this, so their event sequences stay the same.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answer<'a> {
    /// Text streamed before any calls (may be empty).
    pub text: &'a str,
    /// Tool calls after the text.
    pub calls: &'a [ToolCall],
    /// Chars per text delta.
    pub chunk: usize,
    /// Pause before each text delta, in milliseconds.
    pub delay_ms: u64,
    /// Fail after the text: Anthropic sends this message in an `error` event, OpenAI cuts the
    /// connection.
    pub error: Option<&'a str>,
}

impl Answer<'_> {
    /// The answer for `turn`, or None for [`Turn::Overloaded`] (which is not streamed).
    pub(crate) fn of(turn: &Turn) -> Option<Answer<'_>> {
        let plain = |text, calls| Answer {
            text,
            calls,
            chunk: DEFAULT_CHUNK_SIZE,
            delay_ms: 0,
            error: None,
        };
        Some(match turn {
            Turn::Overloaded => return None,
            Turn::Text { text, chunk_size } => {
                Answer { chunk: chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE), ..plain(text, &[]) }
            }
            Turn::ToolCalls { calls } => plain("", calls),
            Turn::TextThenTools { text, calls } => plain(text, calls),
            Turn::ErrorMidStream { after_text, message } => {
                Answer { error: Some(message), ..plain(after_text, &[]) }
            }
            Turn::Slow { text, delay_ms_per_chunk } => {
                Answer { delay_ms: *delay_ms_per_chunk, ..plain(text, &[]) }
            }
        })
    }
}

/// Splits `s` into pieces of at most `size` chars (at least one char each); empty input gives
/// no pieces.
pub(crate) fn chunks(s: &str, size: usize) -> Vec<String> {
    let size = size.max(1);
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// Splits a tool's serialized arguments at arbitrary (but deterministic) points: uneven
/// fragment lengths 1, 4, 2, 7, 3, …, so parsers must not assume fragments are valid JSON.
pub(crate) fn json_fragments(s: &str) -> Vec<String> {
    const LENS: [usize; 5] = [1, 4, 2, 7, 3];
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < chars.len() {
        let end = (pos + LENS[i % LENS.len()]).min(chars.len());
        out.push(chars[pos..end].iter().collect());
        pos = end;
        i += 1;
    }
    out
}

/// Rough token count: chars / 4, at least 1.
pub(crate) fn tokens(chars: usize) -> u64 {
    (chars / 4).max(1) as u64
}
