//! `POST /v1/messages`: the Anthropic Messages streaming (SSE) wire format.

use serde_json::{Value, json};

use super::script::{Answer, chunks, json_fragments, tokens};
use super::{Piece, Reply};

/// One SSE event: `event: <name>\ndata: <json>\n\n`.
fn event(name: &str, data: &Value) -> Piece {
    Piece::Data(format!("event: {name}\ndata: {data}\n\n"))
}

/// The answer to a [`Turn::Overloaded`](super::Turn::Overloaded): HTTP 529.
pub(super) fn overloaded() -> Reply {
    Reply::Json(
        529,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    )
}

/// Streams one answer.
pub(super) fn render(answer: Answer<'_>, model: &str, input_tokens: u64, seq: u64) -> Reply {
    let Answer { text, calls, chunk, delay_ms: delay, error } = answer;
    let mut out = vec![event(
        "message_start",
        &json!({"type": "message_start", "message": {
            "id": format!("msg_sim_{seq:04}"), "type": "message", "role": "assistant",
            "model": model, "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1}}}),
    )];
    let mut index = 0usize;
    let mut output_chars = 0usize;
    let mut pinged = false;
    let mut ping = |out: &mut Vec<Piece>| {
        if !pinged {
            pinged = true;
            out.push(event("ping", &json!({"type": "ping"})));
        }
    };

    if !text.is_empty() || calls.is_empty() {
        out.push(event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index,
                "content_block": {"type": "text", "text": ""}}),
        ));
        ping(&mut out);
        for piece in chunks(text, chunk) {
            if delay > 0 {
                out.push(Piece::Sleep(delay));
            }
            output_chars += piece.chars().count();
            out.push(event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "text_delta", "text": piece}}),
            ));
        }
        if let Some(message) = error {
            out.push(event(
                "error",
                &json!({"type": "error", "error": {"type": "api_error", "message": message}}),
            ));
            return Reply::Stream(out);
        }
        out.push(event(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
        ));
        index += 1;
    }

    for call in calls {
        out.push(event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": {
                "type": "tool_use", "id": call.id, "name": call.name, "input": {}}}),
        ));
        ping(&mut out);
        let args = call.input.to_string();
        output_chars += args.chars().count() + call.name.len();
        for fragment in json_fragments(&args) {
            out.push(event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": fragment}}),
            ));
        }
        out.push(event(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
        ));
        index += 1;
    }

    let stop_reason = if calls.is_empty() { "end_turn" } else { "tool_use" };
    out.push(event(
        "message_delta",
        &json!({"type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": null},
            "usage": {"output_tokens": tokens(output_chars)}}),
    ));
    out.push(event("message_stop", &json!({"type": "message_stop"})));
    Reply::Stream(out)
}
