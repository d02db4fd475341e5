//! The demo responder over both wire formats, parsed by hand with the helpers of `tests`.

use std::time::Duration;

use serde_json::{Value, json};

use super::tests::{
    Assembled, BOTH, Wire, assemble_anthropic, assemble_openai, check_anthropic_order,
    openai_chunks, read_all, send, sse_events,
};
use super::*;

/// One message of a test conversation, written once and sent in either wire format.
enum Msg<'a> {
    User(&'a str),
    Assistant(&'a str),
    /// Assistant tool calls: (id, tool, arguments).
    Calls(Vec<(&'a str, &'a str, Value)>),
    /// Tool results: (call id, content, is_error).
    Results(Vec<(&'a str, &'a str, bool)>),
}

/// Every tool of the registry that the rules use.
const ALL_TOOLS: &[&str] = &[
    "get_cluster_status",
    "get_node_status",
    "get_vms",
    "get_containers",
    "get_storage",
    "get_cluster_resources",
    "start_vm",
    "start_container",
    "stop_vm",
    "shutdown_vm",
    "restart_vm",
    "stop_container",
    "shutdown_container",
    "restart_container",
];

/// Guest lines as `jarvis_domain::prompt` writes them, one in a looser format, and a storage
/// line with a number that is not a guest.
const GUEST_PROMPT: &str = "You are Jarvis.\n### Storage\n\
    - local-lvm (lvmthin, on pve1): 120 GiB used (40%)\n\
    ### Guests (vmid name (vm|ct, node): status)\n\
    - 101 web (vm, pve1): running, CPU 5% of 2, mem 1.0/2.0 GiB\n\
    - 200 dns (ct, pve3): running, CPU 1% of 1, mem 0.2/0.5 GiB\n\
    - 102 db on node pve2: stopped\n";

fn body(wire: Wire, system: &str, conversation: &[Msg<'_>], tools: &[&str]) -> Value {
    match wire {
        Wire::Anthropic => anthropic_body(system, conversation, tools),
        Wire::OpenAi => openai_body(system, conversation, tools),
    }
}

fn anthropic_body(system: &str, conversation: &[Msg<'_>], tools: &[&str]) -> Value {
    let messages: Vec<Value> = conversation
        .iter()
        .map(|m| match m {
            Msg::User(t) => json!({"role": "user", "content": [{"type": "text", "text": t}]}),
            Msg::Assistant(t) => json!({"role": "assistant", "content": t}),
            Msg::Calls(calls) => json!({"role": "assistant", "content": calls.iter()
                .map(|(id, name, input)| json!({"type": "tool_use", "id": id, "name": name,
                    "input": input}))
                .collect::<Vec<_>>()}),
            Msg::Results(results) => json!({"role": "user", "content": results.iter()
                .map(|(id, content, is_error)| json!({"type": "tool_result", "tool_use_id": id,
                    "content": content, "is_error": is_error}))
                .collect::<Vec<_>>()}),
        })
        .collect();
    let mut body = json!({"model": "claude-test", "max_tokens": 512, "stream": true,
        "messages": messages});
    if !system.is_empty() {
        body["system"] = json!(system);
    }
    if !tools.is_empty() {
        body["tools"] = tools
            .iter()
            .map(|t| json!({"name": t, "description": "", "input_schema": {"type": "object"}}))
            .collect();
    }
    body
}

fn openai_body(system: &str, conversation: &[Msg<'_>], tools: &[&str]) -> Value {
    let mut messages = Vec::new();
    if !system.is_empty() {
        messages.push(json!({"role": "system", "content": system}));
    }
    for m in conversation {
        match m {
            Msg::User(t) => messages.push(json!({"role": "user", "content": t})),
            Msg::Assistant(t) => messages.push(json!({"role": "assistant", "content": t})),
            Msg::Calls(calls) => messages.push(json!({"role": "assistant", "content": null,
                "tool_calls": calls.iter().map(|(id, name, input)| json!({"id": id,
                    "type": "function", "function": {"name": name, "arguments": input.to_string()}}))
                    .collect::<Vec<_>>()})),
            Msg::Results(results) => {
                for (id, content, is_error) in results {
                    let content =
                        if *is_error { format!("Error: {content}") } else { (*content).to_owned() };
                    messages.push(json!({"role": "tool", "tool_call_id": id, "content": content}));
                }
            }
        }
    }
    let mut body = json!({"model": "local-gguf", "stream": true, "messages": messages,
        "stream_options": {"include_usage": true}});
    if !tools.is_empty() {
        body["tools"] = tools
            .iter()
            .map(|t| json!({"type": "function", "function": {"name": t, "parameters": {}}}))
            .collect();
    }
    body
}

async fn demo() -> ScriptedLlmHandle {
    ScriptedLlm::serve(DemoResponder::new().chunk_delay(Duration::ZERO)).await.expect("start")
}

/// Sends one request to a fresh demo server and reassembles the streamed answer, checking the
/// framing of the wire format on the way.
async fn ask(wire: Wire, system: &str, conversation: &[Msg<'_>], tools: &[&str]) -> Assembled {
    let llm = demo().await;
    let resp = send(&llm, wire, &body(wire, system, conversation, tools)).await;
    assert_eq!(resp.status(), 200);
    let (text, complete) = read_all(resp).await;
    assert!(complete);
    let got = match wire {
        Wire::Anthropic => {
            let events = sse_events(&text);
            check_anthropic_order(&events, "demo");
            assemble_anthropic(&events)
        }
        Wire::OpenAi => {
            let (chunks, done) = openai_chunks(&text);
            assert!(done, "[DONE] ends the stream");
            assemble_openai(&chunks)
        }
    };
    llm.shutdown().await;
    // Every call must be one the server's tool registry accepts as it is.
    for (_, tool, args) in &got.calls {
        if let Err(e) = jarvis_domain::tools::parse_call(tool, args) {
            panic!("{tool} {args}: the registry refuses it: {e}");
        }
    }
    got
}

fn stop_reason(wire: Wire, calls: bool) -> Option<String> {
    let reason = match (wire, calls) {
        (Wire::Anthropic, false) => "end_turn",
        (Wire::Anthropic, true) => "tool_use",
        (Wire::OpenAi, false) => "stop",
        (Wire::OpenAi, true) => "tool_calls",
    };
    Some(reason.to_owned())
}

/// The expected answer: text, then calls with the demo's ids for request 1.
fn calls(wire: Wire, text: &str, calls: &[(&str, Value)]) -> Assembled {
    Assembled {
        text: text.to_owned(),
        calls: calls
            .iter()
            .enumerate()
            .map(|(i, (tool, args))| {
                (format!("toolu_demo_0001_{i}"), (*tool).to_owned(), args.clone())
            })
            .collect(),
        stop: stop_reason(wire, !calls.is_empty()),
    }
}

#[tokio::test]
async fn lifecycle_requests_call_the_matching_tool_with_a_node() {
    let cases: [(&str, &str, &str, &str, Value); 6] = [
        // The node as the operator says it (case kept).
        (
            "",
            "Please STOP vm 101 on Home",
            "Stopping VM 101 on Home.",
            "stop_vm",
            json!({"node": "Home", "vmid": 101}),
        ),
        // The node (and the kind) from the system prompt.
        (
            GUEST_PROMPT,
            "reboot guest 200",
            "Rebooting container 200 on pve3.",
            "restart_container",
            json!({"node": "pve3", "vmid": 200}),
        ),
        (
            GUEST_PROMPT,
            "shut down 102 please",
            "Shutting down VM 102 on pve2.",
            "shutdown_vm",
            json!({"node": "pve2", "vmid": 102}),
        ),
        (
            GUEST_PROMPT,
            "start ct 101",
            "Starting container 101 on pve1.",
            "start_container",
            json!({"node": "pve1", "vmid": 101}),
        ),
        (
            GUEST_PROMPT,
            "restart the vm 101 on pve9",
            "Rebooting VM 101 on pve9.",
            "restart_vm",
            json!({"node": "pve9", "vmid": 101}),
        ),
        (
            GUEST_PROMPT,
            "start 200.",
            "Starting container 200 on pve3.",
            "start_container",
            json!({"node": "pve3", "vmid": 200}),
        ),
    ];
    for wire in BOTH {
        for (system, said, text, tool, args) in &cases {
            let got = ask(wire, system, &[Msg::User(said)], ALL_TOOLS).await;
            assert_eq!(got, calls(wire, text, &[(tool, args.clone())]), "{wire:?} {said}");
        }
    }
}

#[tokio::test]
async fn lifecycle_node_from_an_earlier_tool_result() {
    let vms = r#"[{"vmid": 300, "name": "media", "node": "pve2", "type": "lxc"},
                  {"vmid": 301, "name": "ci", "node": "pve1", "type": "qemu"}]"#;
    for wire in BOTH {
        let conversation = [
            Msg::User("list vms"),
            Msg::Calls(vec![("toolu_a", "get_vms", json!({}))]),
            Msg::Results(vec![("toolu_a", vms, false)]),
            Msg::Assistant("Two guests."),
            Msg::User("stop 300"),
        ];
        let got = ask(wire, "", &conversation, ALL_TOOLS).await;
        let want = calls(
            wire,
            "Stopping container 300 on pve2.",
            &[("stop_container", json!({"node": "pve2", "vmid": 300}))],
        );
        assert_eq!(got, want, "{wire:?}");
    }
}

#[tokio::test]
async fn lifecycle_without_a_known_node_asks_for_one() {
    for wire in BOTH {
        let got = ask(wire, GUEST_PROMPT, &[Msg::User("stop vm 150")], ALL_TOOLS).await;
        assert!(got.calls.is_empty(), "{wire:?}");
        assert!(got.text.starts_with("Which node is VM 150 on?"), "{wire:?}: {}", got.text);
        assert!(got.text.contains("\"stop vm 150 on pve1\""), "{}", got.text);
        assert_eq!(got.stop, stop_reason(wire, false));
        // The storage line's 120 is not a guest.
        let got = ask(wire, GUEST_PROMPT, &[Msg::User("start ct 120")], ALL_TOOLS).await;
        assert!(got.text.starts_with("Which node is container 120 on?"), "{}", got.text);
    }
}

#[tokio::test]
async fn read_requests_call_the_read_tools() {
    let cases: [(&str, &str, &str, Value); 7] = [
        (
            "How is the cluster doing?",
            "Checking the cluster status.",
            "get_cluster_status",
            json!({}),
        ),
        ("health check", "Checking the cluster status.", "get_cluster_status", json!({})),
        ("show me node pve2", "Checking node pve2.", "get_node_status", json!({"node": "pve2"})),
        (
            "which nodes are there",
            "Listing the nodes.",
            "get_cluster_resources",
            json!({"type": "node"}),
        ),
        ("list my VMs", "Listing the VMs.", "get_vms", json!({})),
        ("what containers run", "Listing the containers.", "get_containers", json!({})),
        ("disk space?", "Checking the storage pools.", "get_storage", json!({})),
    ];
    for wire in BOTH {
        for (said, text, tool, args) in &cases {
            let got = ask(wire, "", &[Msg::User(said)], ALL_TOOLS).await;
            assert_eq!(got, calls(wire, text, &[(tool, args.clone())]), "{wire:?} {said}");
        }
    }
}

#[tokio::test]
async fn stop_everything_makes_parallel_calls() {
    for wire in BOTH {
        let got = ask(wire, GUEST_PROMPT, &[Msg::User("Stop everything!")], ALL_TOOLS).await;
        let want = calls(
            wire,
            "Stopping VM 101 on pve1 and container 200 on pve3.",
            &[
                ("stop_vm", json!({"node": "pve1", "vmid": 101})),
                ("stop_container", json!({"node": "pve3", "vmid": 200})),
            ],
        );
        assert_eq!(got, want, "{wire:?}");
        // Without guests in the context it looks first, still in parallel.
        let got = ask(wire, "", &[Msg::User("shut down all guests")], ALL_TOOLS).await;
        let want = calls(
            wire,
            "I need to know what is running first.",
            &[("get_vms", json!({})), ("get_containers", json!({}))],
        );
        assert_eq!(got, want, "{wire:?}");
    }
}

#[tokio::test]
async fn anything_else_gets_streamed_help_quoting_the_question() {
    for wire in BOTH {
        let got = ask(wire, "", &[Msg::User("What is the meaning of life?")], ALL_TOOLS).await;
        assert!(got.calls.is_empty());
        assert_eq!(got.stop, stop_reason(wire, false));
        assert!(
            got.text.starts_with("You asked: \"What is the meaning of life?\". "),
            "{}",
            got.text
        );
        assert!(got.text.contains("\"stop vm 101\""), "{}", got.text);
    }
    // Small chunks, so the UI sees it stream.
    let llm = demo().await;
    let question = [Msg::User("hello")];
    let (text, _) =
        read_all(send(&llm, Wire::OpenAi, &body(Wire::OpenAi, "", &question, &[])).await).await;
    let (chunks, _) = openai_chunks(&text);
    let deltas = chunks.iter().filter(|c| c["choices"][0]["delta"]["content"].is_string()).count();
    assert!(deltas > 10, "{deltas} text deltas");
    llm.shutdown().await;
}

#[tokio::test]
async fn tools_missing_from_the_request_get_a_text_answer() {
    for wire in BOTH {
        // The last round of the server's loop offers no tools at all.
        let got = ask(wire, GUEST_PROMPT, &[Msg::User("stop vm 101")], &[]).await;
        assert!(got.calls.is_empty(), "{wire:?}");
        assert_eq!(got.stop, stop_reason(wire, false));
        assert!(
            got.text.starts_with("I would use the stop_vm tool for that, but it is not available")
        );
        // Offered tools, but not this one.
        let got = ask(wire, "", &[Msg::User("status")], &["get_vms"]).await;
        assert!(got.calls.is_empty(), "{wire:?}");
        assert!(got.text.contains("get_cluster_status tool"), "{}", got.text);
        // One of two parallel calls missing: no calls at all.
        let got = ask(wire, "", &[Msg::User("stop all")], &["get_vms"]).await;
        assert!(got.calls.is_empty() && got.text.contains("get_containers tool"), "{}", got.text);
    }
}

#[tokio::test]
async fn tool_results_are_summarised_per_call() {
    let long = "x".repeat(400);
    for wire in BOTH {
        let conversation = [
            Msg::User("stop vm 101 on pve1 and list vms"),
            Msg::Calls(vec![
                ("toolu_1", "stop_vm", json!({"node": "pve1", "vmid": 101})),
                ("toolu_2", "get_vms", json!({})),
                ("toolu_3", "get_containers", json!({})),
                ("toolu_4", "restart_vm", json!({"node": "pve2", "vmid": 102})),
            ]),
            Msg::Results(vec![
                ("toolu_1", "{\"status\": \"stopped\",\n  \"exitstatus\": \"OK\"}", false),
                ("toolu_2", long.as_str(), false),
                ("toolu_3", "[]", false),
                ("toolu_4", "The operator declined.", true),
            ]),
        ];
        // Tools are absent on the last round; a summary needs none.
        let got = ask(wire, "", &conversation, &[]).await;
        let want = format!(
            "✓ stop_vm: VM 101 on pve1 has been stopped.\n✓ get_vms: `{}…`\n\
             ✓ get_containers: `[]`\nThe action did not run: The operator declined.",
            "x".repeat(300)
        );
        assert_eq!(got.text, want, "{wire:?}");
        assert!(got.calls.is_empty());
        assert_eq!(got.stop, stop_reason(wire, false));
    }
}

#[tokio::test]
async fn only_the_last_results_are_summarised_and_earlier_ones_feed_the_context() {
    for wire in BOTH {
        let conversation = [
            Msg::User("status"),
            Msg::Calls(vec![("toolu_1", "get_cluster_status", json!({}))]),
            Msg::Results(vec![("toolu_1", "quorate", false)]),
            Msg::Assistant("✓ get_cluster_status: quorate"),
            Msg::User("thanks"),
        ];
        let got = ask(wire, "", &conversation, ALL_TOOLS).await;
        assert!(got.text.starts_with("You asked: \"thanks\"."), "{wire:?}: {}", got.text);
    }
}

#[tokio::test]
async fn demo_requests_are_recorded_and_counted() {
    let llm = demo().await;
    let first = body(Wire::Anthropic, "", &[Msg::User("status")], ALL_TOOLS);
    let (a, _) = read_all(send(&llm, Wire::Anthropic, &first).await).await;
    assert_eq!(assemble_anthropic(&sse_events(&a)).calls[0].0, "toolu_demo_0001_0");
    let second = body(Wire::OpenAi, "", &[Msg::User("status")], ALL_TOOLS);
    let (b, _) = read_all(send(&llm, Wire::OpenAi, &second).await).await;
    // Ids follow the request number.
    assert_eq!(assemble_openai(&openai_chunks(&b).0).calls[0].0, "toolu_demo_0002_0");
    assert_eq!(llm.requests(), vec![first, second]);
    assert_eq!(llm.turns_used(), 2);
    llm.shutdown().await;
}

#[test]
fn demo_pace_defaults_to_visible_streaming() {
    assert_eq!(DemoResponder::default(), DemoResponder::new().chunk_delay(DEMO_CHUNK_DELAY));
    assert_eq!(DEMO_CHUNK_DELAY, Duration::from_millis(15));
    let reply = DemoResponder::new().reply(Api::OpenAi, &json!({}), 1);
    assert_eq!(reply.answer().delay_ms, 15);
    assert!(reply.answer().text.starts_with("I am the scripted demo assistant"));
    let reply =
        DemoResponder::new().chunk_delay(Duration::ZERO).reply(Api::Anthropic, &json!({}), 1);
    assert_eq!(reply.answer().delay_ms, 0);
}

/// The node (and VM/container) of every guest the real system prompts list, from the simulated
/// cluster's snapshot: the Claude prompt lists all guests, the local one the running ones.
#[tokio::test]
async fn lifecycle_nodes_come_from_the_real_system_prompts() {
    use jarvis_domain::cluster::{GuestStatus, GuestType};
    use jarvis_domain::prompt::{PromptInput, system_prompt};
    use jarvis_domain::routing::Provider;

    let sim = crate::SimServer::start(crate::SimConfig { ssh: false, ..Default::default() })
        .await
        .expect("sim");
    let snapshot = sim.control().snapshot();
    let protected = jarvis_domain::safety::Protected::default();
    for (provider, api) in [(Provider::Claude, Api::Anthropic), (Provider::Local, Api::OpenAi)] {
        let input = PromptInput {
            provider,
            snapshot: &snapshot,
            now: chrono::Utc::now(),
            kill_switch: false,
            override_active: false,
            protected: &protected,
            budget_tokens: 100_000,
            budgets: jarvis_domain::prompt::SectionBudgets {
                live: 100_000,
                recent: 0,
                knowledge: 0,
            },
            recent: &[],
            knowledge: &[],
            incidents: &[],
        };
        let system = system_prompt(&input).text();
        let listed = snapshot
            .vms
            .iter()
            .filter(|v| provider == Provider::Claude || v.status == GuestStatus::Running);
        let mut checked = 0;
        for vm in listed {
            let wire = match api {
                Api::Anthropic => Wire::Anthropic,
                Api::OpenAi => Wire::OpenAi,
            };
            let said = format!("please stop {}", vm.vmid);
            let request = body(wire, &system, &[Msg::User(&said)], ALL_TOOLS);
            let reply = DemoResponder::new().reply(api, &request, 1);
            let answer = reply.answer();
            let tool = match vm.kind {
                GuestType::Qemu => "stop_vm",
                GuestType::Lxc => "stop_container",
            };
            assert_eq!(answer.calls.len(), 1, "{provider:?} {said}: {}", answer.text);
            assert_eq!(answer.calls[0].name, tool, "{provider:?} {said}");
            assert_eq!(
                answer.calls[0].input,
                json!({"node": vm.node, "vmid": vm.vmid}),
                "{provider:?} {said}"
            );
            checked += 1;
        }
        assert!(checked >= 3, "{provider:?}: only {checked} guests listed");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn common_result_shapes_read_as_sentences() {
    let status = json!({
        "quorum": {"quorate": true},
        "nodes": [{"name": "pve1", "status": "online"}, {"name": "pve2", "status": "offline"}],
        "guests": {"total": 12, "running": 9},
    })
    .to_string();
    let vms = json!([
        {"vmid": 100, "name": "web", "status": "running"},
        {"vmid": 101, "name": "db", "status": "stopped"},
    ])
    .to_string();
    for wire in BOTH {
        let conversation = [
            Msg::User("status and vms"),
            Msg::Calls(vec![
                ("toolu_1", "get_cluster_status", json!({})),
                ("toolu_2", "get_vms", json!({})),
            ]),
            Msg::Results(vec![
                ("toolu_1", status.as_str(), false),
                ("toolu_2", vms.as_str(), false),
            ]),
        ];
        let got = ask(wire, "", &conversation, &[]).await;
        assert_eq!(
            got.text,
            "✓ get_cluster_status: the cluster is quorate; 1 of 2 nodes online (pve1); 9 of 12 \
             guests running.\n✓ get_vms: 2 entries: 100 web (running), 101 db (stopped).",
            "{wire:?}"
        );
    }
}
