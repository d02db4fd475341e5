//! Table tests for [`OpenAiDecoder`] with hand-written llama.cpp / vLLM style transcripts.

use futures::{StreamExt, executor::block_on, stream};
use serde_json::{Value, json};

use super::*;
use crate::sse::decode_with;

/// Builds an SSE body from chunk JSON values (plus the `[DONE]` sentinel when `done`).
fn sse(chunks: &[Value], done: bool) -> String {
    let mut body: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    if done {
        body.push_str("data: [DONE]\n\n");
    }
    body
}

fn decode_cut(body: &str, cuts: &[usize]) -> Vec<Result<LlmEvent, LlmError>> {
    let bytes = body.as_bytes();
    let mut pos: Vec<usize> = cuts.iter().map(|c| (*c).min(bytes.len())).collect();
    pos.extend([0, bytes.len()]);
    pos.sort_unstable();
    pos.dedup();
    let chunks: Vec<Result<Vec<u8>, LlmError>> =
        pos.windows(2).map(|w| Ok(bytes[w[0]..w[1]].to_vec())).collect();
    block_on(decode_with(stream::iter(chunks), OpenAiDecoder::new()).collect())
}

fn decode(body: &str) -> Vec<Result<LlmEvent, LlmError>> {
    decode_cut(body, &[])
}

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_732_000_000,
           "model": "qwen2.5-7b-instruct",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

fn tc(index: usize, id: Option<&str>, name: Option<&str>, args: &str) -> Value {
    let mut function = json!({"arguments": args});
    if let Some(n) = name {
        function["name"] = json!(n);
    }
    let mut call = json!({"index": index, "function": function});
    if let Some(i) = id {
        call["id"] = json!(i);
        call["type"] = json!("function");
    }
    chunk(json!({"tool_calls": [call]}), None)
}

fn ends(items: &[Result<LlmEvent, LlmError>]) -> Vec<(usize, String, String, Value)> {
    items
        .iter()
        .filter_map(|i| match i {
            Ok(LlmEvent::ToolCallEnd { index, id, name, input }) => {
                Some((*index, id.clone(), name.clone(), input.clone()))
            }
            _ => None,
        })
        .collect()
}

fn text(items: &[Result<LlmEvent, LlmError>]) -> String {
    items
        .iter()
        .filter_map(|i| match i {
            Ok(LlmEvent::TextDelta(t)) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

fn last(items: &[Result<LlmEvent, LlmError>]) -> &Result<LlmEvent, LlmError> {
    items.last().expect("at least one item")
}

fn done(reason: StopReason) -> Result<LlmEvent, LlmError> {
    Ok(LlmEvent::Done { stop_reason: reason })
}

#[test]
fn text_with_reasoning_and_no_usage() {
    let body = sse(
        &[
            chunk(json!({"role": "assistant", "content": null}), None),
            chunk(json!({"reasoning_content": "The user greets me."}), None),
            chunk(json!({"content": "Hel"}), None),
            chunk(json!({"content": "lo — hi!"}), None),
            chunk(json!({}), Some("stop")),
        ],
        true,
    );
    let items = decode(&body);
    assert_eq!(
        items[0],
        Ok(LlmEvent::MessageStart { model: "qwen2.5-7b-instruct".into(), input_tokens: None })
    );
    assert_eq!(text(&items), "Hello — hi!");
    assert!(!items.iter().any(|i| matches!(i, Ok(LlmEvent::Usage { .. }))));
    assert_eq!(last(&items), &done(StopReason::EndTurn));
    for cut in 0..body.len() {
        assert_eq!(decode_cut(&body, &[cut]), items, "cut at {cut}");
    }
}

fn llama_tool_body() -> String {
    let mut finish = chunk(json!({}), Some("tool_calls"));
    finish["usage"] = json!({"completion_tokens": 21, "prompt_tokens": 180, "total_tokens": 201});
    finish["timings"] = json!({"prompt_n": 180, "predicted_n": 21});
    sse(
        &[
            chunk(json!({"role": "assistant", "content": null}), None),
            tc(0, Some("call_Xy12"), Some("vm_status"), "{\""),
            tc(0, None, None, "node\": \"pve"),
            tc(0, None, None, "1\", \"vmid\": 1"),
            tc(0, None, None, "01, \"note\": \"a \\\"q\\\""),
            tc(0, None, None, "\"}"),
            finish,
        ],
        true,
    )
}

#[test]
fn llama_cpp_tool_call_split_arguments() {
    let body = llama_tool_body();
    let items = decode(&body);
    assert_eq!(
        items[1],
        Ok(LlmEvent::ToolCallStart { index: 0, id: "call_Xy12".into(), name: "vm_status".into() })
    );
    assert_eq!(
        ends(&items),
        vec![(
            0,
            "call_Xy12".into(),
            "vm_status".into(),
            json!({"node": "pve1", "vmid": 101, "note": "a \"q\""})
        )]
    );
    let n = items.len();
    assert_eq!(items[n - 2], Ok(LlmEvent::Usage { input_tokens: 180, output_tokens: 21 }));
    assert_eq!(items[n - 1], done(StopReason::ToolUse));
    for cut in (0..body.len()).step_by(7) {
        assert_eq!(decode_cut(&body, &[cut, cut + 3]), items, "cuts at {cut}");
    }
}

#[test]
fn parallel_calls_with_repeated_fields_and_trailing_usage() {
    let body = sse(
        &[
            tc(0, Some("call_a"), Some("start_vm"), ""),
            tc(1, Some("call_b"), Some("start_vm"), "{\"vmid\":"),
            tc(0, Some("call_a"), Some("start_vm"), "{\"vmid\":100}"),
            tc(1, Some("call_b"), Some("start_vm"), "101}"),
            chunk(json!({}), Some("stop")),
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [],
                   "usage": {"prompt_tokens": 50, "completion_tokens": 9}}),
        ],
        true,
    );
    let items = decode(&body);
    assert_eq!(
        ends(&items),
        vec![
            (0, "call_a".into(), "start_vm".into(), json!({"vmid": 100})),
            (1, "call_b".into(), "start_vm".into(), json!({"vmid": 101})),
        ]
    );
    let n = items.len();
    assert_eq!(items[n - 2], Ok(LlmEvent::Usage { input_tokens: 50, output_tokens: 9 }));
    assert_eq!(items[n - 1], done(StopReason::ToolUse), "`stop` with tool calls");
}

#[test]
fn missing_id_is_synthesised_and_empty_args_are_empty_object() {
    let body =
        sse(&[tc(0, None, Some("list_nodes"), ""), chunk(json!({}), Some("tool_calls"))], true);
    let items = decode(&body);
    assert_eq!(ends(&items), vec![(0, "call_0".into(), "list_nodes".into(), json!({}))]);
}

#[test]
fn truncated_arguments_with_length_are_dropped() {
    let body = sse(
        &[tc(0, Some("c"), Some("write"), "{\"text\": \"abc"), chunk(json!({}), Some("length"))],
        true,
    );
    let items = decode(&body);
    assert!(items.iter().all(Result::is_ok), "{items:?}");
    assert!(ends(&items).is_empty());
    assert_eq!(last(&items), &done(StopReason::MaxTokens));
}

#[test]
fn invalid_arguments_are_a_decode_error() {
    let body = sse(
        &[tc(0, Some("c"), Some("write"), "{oops"), chunk(json!({}), Some("tool_calls"))],
        true,
    );
    let items = decode(&body);
    assert!(items.iter().any(|i| matches!(i, Err(LlmError::Decode(_)))));
    assert_eq!(last(&items), &done(StopReason::ToolUse));
}

#[test]
fn cut_without_done_is_an_error() {
    let body = sse(&[chunk(json!({"content": "Hi"}), None), chunk(json!({}), Some("stop"))], false);
    let items = decode(&body);
    assert_eq!(text(&items), "Hi");
    assert!(matches!(last(&items), Err(LlmError::Stream(m)) if m.contains("[DONE]")));
}

#[test]
fn error_object_in_stream() {
    let body = sse(
        &[json!({"error": {"code": 500, "message": "context size exceeded",
                            "type": "server_error"}})],
        true,
    );
    assert_eq!(
        decode(&body),
        vec![Err(LlmError::Http {
            status: 500,
            message: "server_error: context size exceeded".into()
        })]
    );
    let body = sse(&[json!({"error": {"message": "boom"}})], false);
    assert_eq!(decode(&body), vec![Err(LlmError::Stream("boom".into()))]);
}

#[test]
fn finish_reason_mapping() {
    for (wire, expected) in [
        ("stop", StopReason::EndTurn),
        ("length", StopReason::MaxTokens),
        ("content_filter", StopReason::Refusal),
        ("eos", StopReason::Other("eos".into())),
    ] {
        let items = decode(&sse(&[chunk(json!({"content": "x"}), Some(wire))], true));
        assert_eq!(last(&items), &done(expected), "{wire}");
    }
    let items = decode(&sse(&[chunk(json!({"content": "x"}), None)], true));
    assert_eq!(last(&items), &done(StopReason::Other("unknown".into())));
}
