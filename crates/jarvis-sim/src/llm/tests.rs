//! Wire-level tests: the SSE events and chunks are parsed by hand here (not with `jarvis-llm`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

use super::*;

#[derive(Clone, Copy, Debug)]
pub(super) enum Wire {
    Anthropic,
    OpenAi,
}

pub(super) const BOTH: [Wire; 2] = [Wire::Anthropic, Wire::OpenAi];

/// What a streamed answer reassembles to.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Assembled {
    pub(super) text: String,
    /// (id, name, parsed arguments)
    pub(super) calls: Vec<(String, String, Value)>,
    pub(super) stop: Option<String>,
}

pub(super) fn request_body(wire: Wire, include_usage: bool) -> Value {
    match wire {
        Wire::Anthropic => json!({"model": "claude-test", "max_tokens": 512, "stream": true,
            "messages": [{"role": "user", "content": "How are my VMs doing?"}]}),
        Wire::OpenAi => {
            let mut body = json!({"model": "local-gguf", "stream": true,
                "messages": [{"role": "user", "content": "How are my VMs doing?"}]});
            if include_usage {
                body["stream_options"] = json!({"include_usage": true});
            }
            body
        }
    }
}

pub(super) async fn send(llm: &ScriptedLlmHandle, wire: Wire, body: &Value) -> reqwest::Response {
    let path = match wire {
        Wire::Anthropic => "/v1/messages",
        Wire::OpenAi => "/v1/chat/completions",
    };
    reqwest::Client::new()
        .post(format!("{}{path}", llm.base_url()))
        .json(body)
        .send()
        .await
        .expect("request")
}

/// Reads a body to its end; the flag is false when the connection was cut.
pub(super) async fn read_all(resp: reqwest::Response) -> (String, bool) {
    let mut stream = resp.bytes_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => buf.extend_from_slice(&bytes),
            Err(_) => return (String::from_utf8(buf).expect("utf8"), false),
        }
    }
    (String::from_utf8(buf).expect("utf8"), true)
}

/// `event: name\ndata: json\n\n` frames.
pub(super) fn sse_events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .map(|frame| {
            let mut name = None;
            let mut data = None;
            for line in frame.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str::<Value>(d).expect("event json"));
                } else {
                    panic!("unexpected SSE line {line:?}");
                }
            }
            let (name, data) = (name.expect("event name"), data.expect("event data"));
            assert_eq!(data["type"], name.as_str(), "event name matches data type");
            (name, data)
        })
        .collect()
}

/// `data: json\n\n` chunks, and whether `data: [DONE]` ended them.
pub(super) fn openai_chunks(body: &str) -> (Vec<Value>, bool) {
    let mut chunks = Vec::new();
    let mut done = false;
    for frame in body.split("\n\n").filter(|f| !f.trim().is_empty()) {
        let data = frame.strip_prefix("data: ").expect("data line");
        assert!(!done, "nothing after [DONE]");
        if data == "[DONE]" {
            done = true;
        } else {
            chunks.push(serde_json::from_str(data).expect("chunk json"));
        }
    }
    (chunks, done)
}

pub(super) fn assemble_anthropic(events: &[(String, Value)]) -> Assembled {
    let mut out = Assembled::default();
    let mut blocks: BTreeMap<u64, (String, String, String)> = BTreeMap::new();
    for (name, data) in events {
        match name.as_str() {
            "content_block_start" => {
                let block = &data["content_block"];
                if block["type"] == "tool_use" {
                    let id = block["id"].as_str().expect("id").to_owned();
                    let tool = block["name"].as_str().expect("name").to_owned();
                    blocks.insert(data["index"].as_u64().unwrap(), (id, tool, String::new()));
                }
            }
            "content_block_delta" => {
                let delta = &data["delta"];
                match delta["type"].as_str() {
                    Some("text_delta") => out.text.push_str(delta["text"].as_str().unwrap()),
                    Some("input_json_delta") => {
                        let block = blocks.get_mut(&data["index"].as_u64().unwrap()).unwrap();
                        block.2.push_str(delta["partial_json"].as_str().unwrap());
                    }
                    other => panic!("unexpected delta {other:?}"),
                }
            }
            "message_delta" => {
                out.stop = data["delta"]["stop_reason"].as_str().map(str::to_owned);
            }
            _ => {}
        }
    }
    out.calls = blocks
        .into_values()
        .map(|(id, name, args)| (id, name, serde_json::from_str(&args).expect("args json")))
        .collect();
    out
}

pub(super) fn assemble_openai(chunks: &[Value]) -> Assembled {
    let mut out = Assembled::default();
    let mut calls: BTreeMap<u64, (String, String, String)> = BTreeMap::new();
    for chunk in chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        let Some(choice) = chunk["choices"].get(0) else {
            continue;
        };
        let delta = &choice["delta"];
        if let Some(text) = delta["content"].as_str() {
            out.text.push_str(text);
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let index = call["index"].as_u64().expect("index");
            let args = call["function"]["arguments"].as_str().unwrap_or("");
            if let Some(entry) = calls.get_mut(&index) {
                assert!(call.get("id").is_none(), "id only in the first chunk");
                assert!(call["function"].get("name").is_none(), "name only first");
                entry.2.push_str(args);
            } else {
                let id = call["id"].as_str().expect("first chunk has the id");
                let name = call["function"]["name"].as_str().expect("and the name");
                assert_eq!(call["type"], "function");
                calls.insert(index, (id.to_owned(), name.to_owned(), args.to_owned()));
            }
        }
        if let Some(finish) = choice["finish_reason"].as_str() {
            out.stop = Some(finish.to_owned());
        }
    }
    out.calls = calls
        .into_values()
        .map(|(id, name, args)| (id, name, serde_json::from_str(&args).expect("args json")))
        .collect();
    out
}

/// What a turn should reassemble to (None for turns without a normal ending).
fn expected(turn: &Turn, wire: Wire) -> Option<Assembled> {
    let calls_of = |calls: &[ToolCall]| {
        calls.iter().map(|c| (c.id.clone(), c.name.clone(), c.input.clone())).collect::<Vec<_>>()
    };
    let (text, calls) = match turn {
        Turn::Text { text, .. } | Turn::Slow { text, .. } => (text.clone(), vec![]),
        Turn::ToolCalls { calls } => (String::new(), calls_of(calls)),
        Turn::TextThenTools { text, calls } => (text.clone(), calls_of(calls)),
        Turn::ErrorMidStream { .. } | Turn::Overloaded => return None,
    };
    let stop = match (wire, calls.is_empty()) {
        (Wire::Anthropic, true) => "end_turn",
        (Wire::Anthropic, false) => "tool_use",
        (Wire::OpenAi, true) => "stop",
        (Wire::OpenAi, false) => "tool_calls",
    };
    Some(Assembled { text, calls, stop: Some(stop.to_owned()) })
}

/// Checks one streamed turn end to end.
async fn check_turn(llm: &ScriptedLlmHandle, wire: Wire, turn: &Turn, label: &str) {
    let resp = send(llm, wire, &request_body(wire, true)).await;
    if matches!(turn, Turn::Overloaded) {
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.expect("error json");
        match wire {
            Wire::Anthropic => {
                assert_eq!(status, 529, "{label}");
                assert_eq!(body["type"], "error");
                assert_eq!(body["error"]["type"], "overloaded_error");
            }
            Wire::OpenAi => {
                assert_eq!(status, 503, "{label}");
                assert_eq!(body["error"]["code"], 503);
            }
        }
        return;
    }
    assert_eq!(resp.status(), 200, "{label}");
    assert_eq!(resp.headers()["content-type"], "text/event-stream", "{label}");
    let (body, complete) = read_all(resp).await;
    match (wire, turn) {
        (Wire::Anthropic, Turn::ErrorMidStream { after_text, message }) => {
            assert!(complete, "{label}: Anthropic ends the stream normally");
            let events = sse_events(&body);
            let (last, data) = events.last().expect("events");
            assert_eq!(last, "error", "{label}");
            assert_eq!(data["error"]["type"], "api_error");
            assert_eq!(data["error"]["message"], message.as_str());
            assert!(!events.iter().any(|(n, _)| n == "message_stop"), "{label}");
            assert_eq!(&assemble_anthropic(&events).text, after_text, "{label}");
        }
        (Wire::OpenAi, Turn::ErrorMidStream { after_text, .. }) => {
            assert!(!complete, "{label}: the connection is cut");
            let (chunks, done) = openai_chunks(&body);
            assert!(!done, "{label}: no [DONE]");
            let got = assemble_openai(&chunks);
            assert_eq!(&got.text, after_text, "{label}");
            assert_eq!(got.stop, None, "{label}");
        }
        (Wire::Anthropic, _) => {
            assert!(complete, "{label}");
            let events = sse_events(&body);
            check_anthropic_order(&events, label);
            assert_eq!(Some(assemble_anthropic(&events)), expected(turn, wire), "{label}");
        }
        (Wire::OpenAi, _) => {
            assert!(complete, "{label}");
            let (chunks, done) = openai_chunks(&body);
            assert!(done, "{label}: [DONE] ends the stream");
            assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
            let usage = chunks.last().expect("usage chunk");
            assert_eq!(usage["choices"], json!([]), "{label}");
            assert!(usage["usage"]["completion_tokens"].as_u64().unwrap() >= 1);
            assert_eq!(Some(assemble_openai(&chunks)), expected(turn, wire), "{label}");
        }
    }
}

/// message_start, then per block start [ping once] delta* stop, message_delta, message_stop.
pub(super) fn check_anthropic_order(events: &[(String, Value)], label: &str) {
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[0], "message_start", "{label}");
    assert_eq!(names[1], "content_block_start", "{label}");
    assert_eq!(names[2], "ping", "{label}");
    assert_eq!(names.iter().filter(|n| **n == "ping").count(), 1, "{label}");
    assert_eq!(&names[names.len() - 2..], ["message_delta", "message_stop"], "{label}");
    let mut open: Option<u64> = None;
    let mut next_index = 0;
    for (name, data) in &events[1..events.len() - 2] {
        match name.as_str() {
            "content_block_start" => {
                assert_eq!(open, None, "{label}: blocks do not nest");
                assert_eq!(data["index"], next_index, "{label}");
                open = Some(next_index);
                next_index += 1;
            }
            "content_block_delta" => assert_eq!(data["index"].as_u64(), open, "{label}"),
            "content_block_stop" => {
                assert_eq!(data["index"].as_u64(), open, "{label}");
                open = None;
            }
            "ping" => {}
            other => panic!("{label}: unexpected {other}"),
        }
    }
    assert_eq!(open, None, "{label}");
    let start = &events[0].1["message"];
    assert_eq!(start["role"], "assistant");
    assert_eq!(start["model"], "claude-test");
    assert!(start["usage"]["input_tokens"].as_u64().unwrap() > 1);
    let delta = &events[events.len() - 2].1;
    assert!(delta["usage"]["output_tokens"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn every_builtin_scenario_over_both_endpoints() {
    for name in BUILTIN_SCENARIOS {
        for wire in BOTH {
            let script = Script::named(name).expect("built in");
            let llm = ScriptedLlm::start(script.clone()).await.expect("start");
            for (i, turn) in script.turns.iter().enumerate() {
                check_turn(&llm, wire, turn, &format!("{name} {wire:?} turn {i}")).await;
            }
            // Used up: the plain "(script finished)" text.
            let done = Turn::text(SCRIPT_FINISHED);
            check_turn(&llm, wire, &done, &format!("{name} {wire:?} finished")).await;
            assert_eq!(llm.requests().len(), script.turns.len() + 1);
            llm.shutdown().await;
        }
    }
}

#[test]
fn builtin_scenarios_have_the_documented_content() {
    let red = Script::named("red_tool").unwrap();
    let Turn::TextThenTools { calls, .. } = &red.turns[0] else {
        panic!("red_tool starts with text and a call");
    };
    assert_eq!(calls[0].name, "stop_vm");
    assert_eq!(calls[0].input, json!({"node": "pve1", "vmid": 101}));
    let parallel = Script::named("parallel_tools").unwrap();
    assert!(matches!(&parallel.turns[0], Turn::ToolCalls { calls } if calls.len() == 2));
    assert_eq!(Script::named("overloaded").unwrap().turns[0], Turn::Overloaded);
    assert_eq!(Script::named("nope"), None);
}

#[tokio::test]
async fn anthropic_exact_event_sequence_for_text_then_tools() {
    let llm = ScriptedLlm::start(Script::named("red_tool").unwrap()).await.unwrap();
    let resp = send(&llm, Wire::Anthropic, &request_body(Wire::Anthropic, false)).await;
    let (body, _) = read_all(resp).await;
    let events = sse_events(&body);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    // "I will stop VM 101 on pve1." is 27 chars: 4 text deltas of 8; the arguments
    // {"node":"pve1","vmid":101} (26 chars) split 1,4,2,7,3,1,4,2,2 → 9 fragments.
    let mut want = vec!["message_start", "content_block_start", "ping"];
    want.extend(["content_block_delta"; 4]);
    want.extend(["content_block_stop", "content_block_start"]);
    want.extend(["content_block_delta"; 9]);
    want.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names, want);
    assert_eq!(events[8].1["content_block"]["type"], "tool_use");
    assert_eq!(events[8].1["content_block"]["input"], json!({}));
    assert_eq!(events[9].1["delta"]["partial_json"], "{");
    llm.shutdown().await;
}

#[tokio::test]
async fn requests_are_recorded_and_turns_advance_across_endpoints() {
    let llm =
        ScriptedLlm::start(Script::new(vec![Turn::text("one"), Turn::text("two")])).await.unwrap();
    assert_eq!(llm.turns_used(), 0);
    let first = request_body(Wire::Anthropic, false);
    let second = request_body(Wire::OpenAi, false);
    let (a, _) = read_all(send(&llm, Wire::Anthropic, &first).await).await;
    assert_eq!(assemble_anthropic(&sse_events(&a)).text, "one");
    let (b, _) = read_all(send(&llm, Wire::OpenAi, &second).await).await;
    let (chunks, done) = openai_chunks(&b);
    assert!(done);
    assert_eq!(assemble_openai(&chunks).text, "two");
    // No usage chunk without stream_options.include_usage.
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    assert_eq!(llm.requests(), vec![first, second]);
    assert_eq!(llm.turns_used(), 2);
    llm.shutdown().await;
}

#[tokio::test]
async fn usage_numbers_follow_the_sizes() {
    let text = "x".repeat(400);
    let llm =
        ScriptedLlm::start(Script::new(vec![Turn::text(&text), Turn::text(&text)])).await.unwrap();
    let body = request_body(Wire::Anthropic, false);
    let len = serde_json::to_vec(&body).unwrap().len() as u64;
    let (a, _) = read_all(send(&llm, Wire::Anthropic, &body).await).await;
    let events = sse_events(&a);
    assert_eq!(events[0].1["message"]["usage"]["input_tokens"].as_u64(), Some(len / 4));
    assert_eq!(events[events.len() - 2].1["usage"]["output_tokens"], 100);
    let body = request_body(Wire::OpenAi, true);
    let len = serde_json::to_vec(&body).unwrap().len() as u64;
    let (b, _) = read_all(send(&llm, Wire::OpenAi, &body).await).await;
    let (chunks, _) = openai_chunks(&b);
    let usage = &chunks.last().unwrap()["usage"];
    assert_eq!(usage["prompt_tokens"].as_u64(), Some(len / 4));
    assert_eq!(usage["completion_tokens"], 100);
    assert_eq!(usage["total_tokens"].as_u64(), Some(len / 4 + 100));
    llm.shutdown().await;
}

#[tokio::test]
async fn slow_turns_take_their_time() {
    let llm = ScriptedLlm::start(Script::new(vec![Turn::Slow {
        text: "abcdefghijklmnopqrstuvwx".into(), // 3 chunks of 8
        delay_ms_per_chunk: 60,
    }]))
    .await
    .unwrap();
    let started = Instant::now();
    let (body, _) =
        read_all(send(&llm, Wire::OpenAi, &request_body(Wire::OpenAi, false)).await).await;
    assert!(started.elapsed() >= Duration::from_millis(180));
    let (chunks, done) = openai_chunks(&body);
    assert!(done);
    assert_eq!(assemble_openai(&chunks).text, "abcdefghijklmnopqrstuvwx");
    llm.shutdown().await;
}

#[tokio::test]
async fn invalid_json_is_a_400_and_consumes_no_turn() {
    let llm = ScriptedLlm::start(Script::named("plain").unwrap()).await.unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/messages", llm.base_url()))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(llm.turns_used(), 0);
    assert!(llm.requests().is_empty());
    llm.shutdown().await;
}

#[test]
fn scenario_files_parse() {
    let script = Script::from_json(
        r#"{"turns":[
            {"type":"text","text":"hi","chunkSize":1},
            {"type":"toolCalls","calls":[{"id":"toolu_1","name":"get_vms","input":{}}]},
            {"type":"textThenTools","text":"t","calls":[{"id":"c","name":"n"}]},
            {"type":"errorMidStream","afterText":"par","message":"boom"},
            {"type":"overloaded"},
            {"type":"slow","text":"s","delayMsPerChunk":5}
        ]}"#,
    )
    .expect("parses");
    assert_eq!(
        script.turns,
        vec![
            Turn::Text { text: "hi".into(), chunk_size: Some(1) },
            Turn::ToolCalls { calls: vec![ToolCall::new("toolu_1", "get_vms", json!({}))] },
            Turn::TextThenTools {
                text: "t".into(),
                calls: vec![ToolCall::new("c", "n", json!({}))]
            },
            Turn::ErrorMidStream { after_text: "par".into(), message: "boom".into() },
            Turn::Overloaded,
            Turn::Slow { text: "s".into(), delay_ms_per_chunk: 5 },
        ]
    );
    assert!(Script::from_json(r#"{"turns":[{"type":"bogus"}]}"#).is_err());
}

#[test]
fn fragments_reassemble() {
    let s = r#"{"node":"pvé1","vmid":101}"#;
    assert_eq!(script::json_fragments(s).concat(), s);
    assert!(script::json_fragments("").is_empty());
    assert_eq!(script::chunks("abcde", 2), ["ab", "cd", "e"]);
}
