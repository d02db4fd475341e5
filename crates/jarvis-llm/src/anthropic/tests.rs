//! Unit tests for edge cases of [`AnthropicDecoder`] not covered by the recorded fixtures.

use serde_json::json;

use super::*;

fn feed_all(d: &mut AnthropicDecoder, events: &[(&str, serde_json::Value)]) -> Vec<DecodeItem> {
    events.iter().flat_map(|(name, data)| d.feed(name, &data.to_string())).collect()
}

fn tool_start(index: usize, id: &str) -> (&'static str, serde_json::Value) {
    (
        "content_block_start",
        json!({"type": "content_block_start", "index": index,
               "content_block": {"type": "tool_use", "id": id, "name": "t", "input": {}}}),
    )
}

fn json_delta(index: usize, partial: &str) -> (&'static str, serde_json::Value) {
    (
        "content_block_delta",
        json!({"type": "content_block_delta", "index": index,
               "delta": {"type": "input_json_delta", "partial_json": partial}}),
    )
}

fn stop(index: usize) -> (&'static str, serde_json::Value) {
    ("content_block_stop", json!({"type": "content_block_stop", "index": index}))
}

#[test]
fn empty_tool_input_is_empty_object() {
    let mut d = AnthropicDecoder::new();
    let out = feed_all(&mut d, &[tool_start(0, "a"), json_delta(0, ""), stop(0)]);
    assert_eq!(out.len(), 2, "empty deltas are not emitted: {out:?}");
    assert_eq!(
        out[1],
        Ok(LlmEvent::ToolCallEnd { index: 0, id: "a".into(), name: "t".into(), input: json!({}) })
    );
}

#[test]
fn invalid_tool_json_is_a_decode_error() {
    let mut d = AnthropicDecoder::new();
    let out = feed_all(&mut d, &[tool_start(3, "a"), json_delta(3, "{\"x\": "), stop(3)]);
    assert!(matches!(out.last(), Some(Err(LlmError::Decode(m))) if m.contains("`t`")));
}

#[test]
fn parallel_tool_calls_get_sequential_indexes() {
    let mut d = AnthropicDecoder::new();
    let out = feed_all(
        &mut d,
        &[
            tool_start(1, "a"),
            tool_start(2, "b"),
            json_delta(2, "{\"n\":2}"),
            json_delta(1, "{\"n\":1}"),
            stop(2),
            stop(1),
        ],
    );
    let ends: Vec<_> = out
        .into_iter()
        .filter_map(|r| match r.unwrap() {
            LlmEvent::ToolCallEnd { index, input, .. } => Some((index, input)),
            _ => None,
        })
        .collect();
    assert_eq!(ends, vec![(1, json!({"n": 2})), (0, json!({"n": 1}))]);
}

#[test]
fn mid_stream_error_terminates() {
    let mut d = AnthropicDecoder::new();
    let out = d.feed(
        "error",
        r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#,
    );
    assert_eq!(
        out,
        vec![Err(LlmError::Http { status: 500, message: "Internal server error".into() })]
    );
    assert!(d.is_terminated());
    assert!(d.feed("message_stop", r#"{"type":"message_stop"}"#).is_empty());
    assert_eq!(d.finish(), None, "no second error after an error event");
}

#[test]
fn unknown_and_malformed_events() {
    let mut d = AnthropicDecoder::new();
    assert!(d.feed("brand_new", r#"{"type":"brand_new","x":1}"#).is_empty());
    assert!(d.feed("", "").is_empty());
    assert!(matches!(d.feed("message_start", "{not json").as_slice(), [Err(LlmError::Decode(_))]));
    assert!(matches!(d.finish(), Some(LlmError::Stream(_))));
}

#[test]
fn done_without_stop_reason_and_events_after_done() {
    let mut d = AnthropicDecoder::new();
    assert_eq!(
        d.feed("message_stop", r#"{"type":"message_stop"}"#),
        vec![Ok(LlmEvent::Done { stop_reason: StopReason::Other("unknown".into()) })]
    );
    assert!(d.feed("message_stop", r#"{"type":"message_stop"}"#).is_empty());
    assert_eq!(d.finish(), None);
}
