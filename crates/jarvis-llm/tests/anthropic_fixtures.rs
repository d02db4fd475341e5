//! Every recorded Anthropic SSE transcript in `fixtures/anthropic` runs through
//! eventsource-stream + [`AnthropicDecoder`], whole and split at random chunk boundaries.

use std::path::PathBuf;

use futures::{StreamExt, executor::block_on, stream};
use jarvis_llm::anthropic::{DecodeItem, decode_sse};
use jarvis_llm::{LlmError, LlmEvent, StopReason};
use proptest::prelude::*;
use serde_json::{Value, json};

fn fixtures_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/anthropic");
    assert!(
        dir.is_dir(),
        "Anthropic fixtures directory missing: {} (fixtures/anthropic at the repository root)",
        dir.display()
    );
    dir
}

fn load(name: &str) -> Vec<u8> {
    let path = fixtures_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// Decodes `bytes` delivered as the given chunks (cut positions, any order/duplicates).
fn decode_chunked(bytes: &[u8], cuts: &[usize]) -> Vec<DecodeItem> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.push(0);
    cuts.push(bytes.len());
    cuts.sort_unstable();
    cuts.dedup();
    let chunks: Vec<Result<Vec<u8>, LlmError>> =
        cuts.windows(2).map(|w| Ok(bytes[w[0]..w[1]].to_vec())).collect();
    block_on(decode_sse(stream::iter(chunks)).collect())
}

fn decode(name: &str) -> Vec<DecodeItem> {
    decode_chunked(&load(name), &[])
}

#[derive(Debug, Default)]
struct Summary {
    model: Option<String>,
    input_tokens: Option<u64>,
    text: String,
    started: Vec<(usize, String, String)>,
    args: Vec<String>,
    calls: Vec<(usize, String, String, Value)>,
    usage: Option<(u64, u64)>,
    stop: Option<StopReason>,
    errors: Vec<LlmError>,
}

fn summarize(items: &[DecodeItem]) -> Summary {
    let mut s = Summary::default();
    for (i, item) in items.iter().enumerate() {
        match item {
            Ok(LlmEvent::MessageStart { model, input_tokens }) => {
                assert_eq!(i, 0, "MessageStart must come first");
                s.model = Some(model.clone());
                s.input_tokens = *input_tokens;
            }
            Ok(LlmEvent::TextDelta(t)) => s.text.push_str(t),
            Ok(LlmEvent::ToolCallStart { index, id, name }) => {
                assert_eq!(*index, s.started.len(), "tool indexes count from 0");
                s.started.push((*index, id.clone(), name.clone()));
                s.args.push(String::new());
            }
            Ok(LlmEvent::ToolCallArgsDelta { index, json }) => s.args[*index].push_str(json),
            Ok(LlmEvent::ToolCallEnd { index, id, name, input }) => {
                assert_eq!(&s.started[*index].1, id);
                let parsed: Value = serde_json::from_str(&s.args[*index]).unwrap();
                assert_eq!(&parsed, input, "deltas reassemble to the final input");
                s.calls.push((*index, id.clone(), name.clone(), input.clone()));
            }
            Ok(LlmEvent::Usage { input_tokens, output_tokens }) => {
                s.usage = Some((*input_tokens, *output_tokens))
            }
            Ok(LlmEvent::Done { stop_reason }) => {
                assert_eq!(i, items.len() - 1, "Done must be the last item");
                s.stop = Some(stop_reason.clone());
            }
            Err(e) => {
                assert_eq!(i, items.len() - 1, "an error ends the stream");
                s.errors.push(e.clone());
            }
        }
    }
    s
}

fn ok(name: &str) -> Summary {
    let s = summarize(&decode(name));
    assert!(s.errors.is_empty(), "{name}: unexpected errors {:?}", s.errors);
    s
}

const ALL: &[&str] = &[
    "docs-basic.sse",
    "docs-thinking.sse",
    "docs-tool_use.sse",
    "py-basic_response.sse",
    "py-compaction_response.sse",
    "py-error_overloaded.sse",
    "py-fallback_credit_response.sse",
    "py-fallback_response.sse",
    "py-incomplete_partial_json_response.sse",
    "py-refusal_response.sse",
    "py-tool_use_response.sse",
    "ts-basic_response.sse",
    "ts-error_overloaded.sse",
    "ts-fable-stream-a-refusal.sse",
    "ts-fable-stream-a-toolrefusal.sse",
    "ts-fable-stream-b-fallback.sse",
    "ts-incomplete_partial_json_response.sse",
    "ts-tool_use_response.sse",
];

#[test]
fn every_fixture_is_covered() {
    let mut found: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sse"))
        .collect();
    found.sort();
    assert_eq!(found, ALL, "a fixture was added or removed: update the tests");
}

#[test]
fn basic_text_streams() {
    let s = ok("docs-basic.sse");
    assert_eq!(s.model.as_deref(), Some("claude-opus-4-1-20250805"));
    assert_eq!(s.input_tokens, Some(25));
    assert_eq!(s.text, "Hello!");
    assert_eq!(s.usage, Some((25, 15)));
    assert_eq!(s.stop, Some(StopReason::EndTurn));

    for name in [
        "py-basic_response.sse", // no trailing blank line: final event flushed at EOF
        "ts-basic_response.sse",
        "py-compaction_response.sse",
        "py-fallback_credit_response.sse",
        "py-fallback_response.sse",
    ] {
        let s = ok(name);
        assert_eq!(s.text, "Hello there!", "{name}");
        assert_eq!(s.stop, Some(StopReason::EndTurn), "{name}");
        assert!(s.started.is_empty() && s.usage.is_some(), "{name}");
    }
    assert_eq!(ok("py-basic_response.sse").usage, Some((11, 6)));
}

#[test]
fn thinking_is_skipped() {
    let s = ok("docs-thinking.sse");
    assert_eq!(s.text, "27 * 453 = 12,231");
    assert_eq!(s.input_tokens, None);
    assert_eq!(s.usage, None, "message_delta without usage emits no Usage");
    assert_eq!(s.stop, Some(StopReason::EndTurn));
}

#[test]
fn docs_tool_use() {
    let s = ok("docs-tool_use.sse");
    assert_eq!(s.text, "Okay, let's check the weather for San Francisco, CA:");
    assert_eq!(
        s.calls,
        vec![(
            0,
            "toolu_01T1x1fJ34qAmk2tNTrN7Up6".to_string(),
            "get_weather".to_string(),
            json!({"location": "San Francisco, CA", "unit": "fahrenheit"})
        )]
    );
    assert_eq!(s.usage, Some((472, 89)));
    assert_eq!(s.stop, Some(StopReason::ToolUse));
}

#[test]
fn sdk_tool_use() {
    for name in ["py-tool_use_response.sse", "ts-tool_use_response.sse"] {
        let s = ok(name);
        assert_eq!(s.text, "I'll check the current weather in Paris for you.");
        assert_eq!(
            s.calls,
            vec![(
                0,
                "toolu_01NRLabsLyVHZPKxbKvkfSMn".to_string(),
                "get_weather".to_string(),
                json!({"location": "Paris"})
            )],
            "{name}"
        );
        assert_eq!(s.usage, Some((377, 65)), "{name}");
        assert_eq!(s.stop, Some(StopReason::ToolUse), "{name}");
    }
}

#[test]
fn truncated_tool_input_is_dropped_with_max_tokens() {
    for name in
        ["py-incomplete_partial_json_response.sse", "ts-incomplete_partial_json_response.sse"]
    {
        let s = ok(name);
        assert_eq!(
            s.text,
            "I'll create a comprehensive tax guide for someone with multiple W2s and save it \
             in a file called taxes.txt. Let me do that for you now."
        );
        assert_eq!(s.started.len(), 1, "{name}");
        assert_eq!(s.started[0].2, "make_file");
        assert!(s.args[0].starts_with("{\"filename\": \"taxes.txt\""));
        assert!(s.calls.is_empty(), "{name}: incomplete call must not end");
        assert_eq!(s.usage, Some((450, 124)), "{name}");
        assert_eq!(s.stop, Some(StopReason::MaxTokens), "{name}");
    }
}

#[test]
fn refusals() {
    let s = ok("py-refusal_response.sse");
    assert_eq!(s.text, "");
    assert_eq!(s.stop, Some(StopReason::Refusal));

    let s = ok("ts-fable-stream-a-refusal.sse");
    assert_eq!(s.model.as_deref(), Some("claude-fable-5"));
    assert_eq!(s.text, "Hi", "thinking deltas are not text");
    assert_eq!(s.stop, Some(StopReason::Refusal));

    let s = ok("ts-fable-stream-a-toolrefusal.sse");
    assert!(s.started.is_empty(), "server_tool_use is not a client tool call");
    assert_eq!(s.text, "Here's a summary of this year's solar eclipses and how");
    assert_eq!(s.stop, Some(StopReason::Refusal));
}

#[test]
fn fallback_stream() {
    let s = ok("ts-fable-stream-b-fallback.sse");
    assert_eq!(s.model.as_deref(), Some("claude-opus-4-8"));
    assert!(s.text.starts_with(" there! Happy to explain.\n\n**Solar eclipses**"));
    assert!(s.text.ends_with("Just let me know what's sparking your interest!"));
    assert_eq!(s.usage, Some((31, 547)));
    assert_eq!(s.stop, Some(StopReason::EndTurn));
}

#[test]
fn overloaded_error_events() {
    for name in ["py-error_overloaded.sse", "ts-error_overloaded.sse"] {
        let items = decode(name);
        assert_eq!(items, vec![Err(LlmError::Overloaded { retry_after: None })], "{name}");
        assert!(items[0].as_ref().unwrap_err().should_fall_back());
    }
}

#[test]
fn truncated_transcript_yields_error_item() {
    let bytes = load("docs-tool_use.sse");
    let items = decode_chunked(&bytes[..bytes.len() / 2], &[]);
    let s = summarize(&items);
    assert!(s.stop.is_none());
    assert!(matches!(s.errors.as_slice(), [LlmError::Stream(_)]), "{:?}", s.errors);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn chunking_does_not_change_events(
        cuts in proptest::collection::vec(any::<usize>(), 0..48),
    ) {
        for name in ALL {
            let bytes = load(name);
            let whole = decode_chunked(&bytes, &[]);
            prop_assert_eq!(decode_chunked(&bytes, &cuts), whole, "{}", name);
        }
    }

    #[test]
    fn byte_at_a_time_matches(idx in 0..ALL.len()) {
        let bytes = load(ALL[idx]);
        let cuts: Vec<usize> = (0..bytes.len()).collect();
        prop_assert_eq!(decode_chunked(&bytes, &cuts), decode_chunked(&bytes, &[]));
    }
}
