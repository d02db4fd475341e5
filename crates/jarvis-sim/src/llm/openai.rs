//! `POST /v1/chat/completions`: OpenAI-compatible streaming chunks, as llama.cpp's server
//! sends them.

use serde_json::{Value, json};

use super::script::{Answer, chunks, json_fragments, tokens};
use super::{Piece, Reply};

/// The answer to a [`Turn::Overloaded`](super::Turn::Overloaded): HTTP 503, as llama.cpp's
/// server answers while it loads a model.
pub(super) fn overloaded() -> Reply {
    Reply::Json(
        503,
        json!({"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}),
    )
}

/// Streams one answer (`include_usage`: the request asked for a usage chunk).
pub(super) fn render(
    answer: Answer<'_>,
    model: &str,
    input_tokens: u64,
    seq: u64,
    include_usage: bool,
) -> Reply {
    let Answer { text, calls, chunk, delay_ms: delay, error } = answer;
    let cut = error.is_some();
    let id = format!("chatcmpl-sim-{seq:04}");
    let created = chrono::Utc::now().timestamp();
    let chunk_of = |choices: Value, usage: Option<Value>| {
        let mut c = json!({"id": id, "object": "chat.completion.chunk", "created": created,
            "model": model, "system_fingerprint": "jarvis-sim", "choices": choices});
        if let Some(usage) = usage {
            c["usage"] = usage;
        }
        Piece::Data(format!("data: {c}\n\n"))
    };
    let delta = |delta: Value, finish: Option<&str>| {
        chunk_of(json!([{"index": 0, "delta": delta, "finish_reason": finish}]), None)
    };

    let mut out = vec![delta(json!({"role": "assistant", "content": null}), None)];
    let mut output_chars = 0usize;
    for piece in chunks(text, chunk) {
        if delay > 0 {
            out.push(Piece::Sleep(delay));
        }
        output_chars += piece.chars().count();
        out.push(delta(json!({"content": piece}), None));
    }
    if cut {
        // Pause first so what was sent so far is flushed before the connection drops.
        out.push(Piece::Sleep(20));
        out.push(Piece::Cut);
        return Reply::Stream(out);
    }
    for (i, call) in calls.iter().enumerate() {
        out.push(delta(
            json!({"tool_calls": [{"index": i, "id": call.id, "type": "function",
                "function": {"name": call.name, "arguments": ""}}]}),
            None,
        ));
        let args = call.input.to_string();
        output_chars += args.chars().count() + call.name.len();
        for fragment in json_fragments(&args) {
            out.push(delta(
                json!({"tool_calls": [{"index": i, "function": {"arguments": fragment}}]}),
                None,
            ));
        }
    }
    let finish = if calls.is_empty() { "stop" } else { "tool_calls" };
    out.push(delta(json!({}), Some(finish)));
    if include_usage {
        let completion = tokens(output_chars);
        out.push(chunk_of(
            json!([]),
            Some(json!({"prompt_tokens": input_tokens, "completion_tokens": completion,
                "total_tokens": input_tokens + completion})),
        ));
    }
    out.push(Piece::Data("data: [DONE]\n\n".to_owned()));
    Reply::Stream(out)
}
