use chrono::{DateTime, Utc};
use serde_json::json;

use super::*;

pub(super) fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// When the test confirmations expire.
pub(super) fn expiry() -> DateTime<Utc> {
    at("2026-12-03T10:05:00Z")
}

pub(super) fn needs(confirmation_id: &str) -> ToolOutcome {
    ToolOutcome::NeedsConfirmation { confirmation_id: confirmation_id.into(), expires_at: expiry() }
}

fn cfg(max_iterations: u32) -> TurnConfig {
    TurnConfig { max_iterations, max_tool_output_chars: 20 }
}

pub(super) fn call(id: &str, name: &str) -> Input {
    Input::ModelToolCall { id: id.into(), name: name.into(), input: json!({"vmid": 101}) }
}

pub(super) fn persisted(effects: &[Effect]) -> Vec<&Message> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Persist(m) | Effect::PersistAnswers { message: m, .. } => Some(m),
            _ => None,
        })
        .collect()
}

/// The statuses stored with the answers of `effects`, in order.
pub(super) fn answered(effects: &[Effect]) -> Vec<&Answered> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::PersistAnswers { answers, .. } => Some(answers),
            _ => None,
        })
        .flatten()
        .collect()
}

pub(super) fn results(m: &Message) -> Vec<(&str, &str, bool)> {
    m.blocks
        .iter()
        .filter_map(|b| match b {
            Block::ToolResult { tool_use_id, content, is_error } => {
                Some((tool_use_id.as_str(), content.as_str(), *is_error))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn plain_answer_streams_persists_and_finishes() {
    let (mut t, start) = Turn::start(cfg(3));
    assert_eq!(start, vec![Effect::CallModel { iteration: 1, tools: true }]);
    assert_eq!(t.handle(Input::ModelText("Hello".into())), vec![Effect::EmitText("Hello".into())]);
    assert_eq!(t.handle(Input::ModelText(String::new())), vec![]);
    t.handle(Input::ModelText(", sir.".into()));
    let end = t.handle(Input::ModelDone(ModelStop::Complete));
    assert_eq!(
        end,
        vec![
            Effect::Persist(Message::assistant("Hello, sir.")),
            Effect::Finish(FinishReason::Completed)
        ]
    );
    assert_eq!(t.phase(), Phase::Done);
    assert_eq!(t.handle(Input::ModelText("late".into())), vec![], "nothing after finish");
}

#[test]
fn parallel_calls_are_answered_in_call_order_whatever_order_they_finish_in() {
    let (mut t, _) = Turn::start(cfg(5));
    t.handle(Input::ModelText("Checking.".into()));
    assert!(
        matches!(&t.handle(call("a", "get_vm_status"))[..], [Effect::EmitToolUse { id, .. }] if id == "a")
    );
    t.handle(call("b", "get_node_status"));
    let done = t.handle(Input::ModelDone(ModelStop::Complete));
    let runs: Vec<&str> = done
        .iter()
        .filter_map(|e| match e {
            Effect::RunTool { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(runs, vec!["a", "b"], "both calls run at once");
    let assistant = persisted(&done)[0];
    assert_eq!(assistant.role, Role::Assistant);
    assert_eq!(assistant.tool_uses().count(), 2);
    assert_eq!(assistant.text(), "Checking.");
    assert_eq!(t.phase(), Phase::Tools);

    // b finishes first; nothing continues until a is answered too.
    let eb = t.handle(Input::ToolFinished { id: "b".into(), outcome: ToolOutcome::Ok("B".into()) });
    assert_eq!(
        eb,
        vec![Effect::EmitToolResult {
            id: "b".into(),
            content: "B".into(),
            status: ToolResultStatus::Ok
        }]
    );
    let ea = t
        .handle(Input::ToolFinished { id: "a".into(), outcome: ToolOutcome::Error("boom".into()) });
    let msg = persisted(&ea)[0];
    assert_eq!(msg.role, Role::User);
    assert_eq!(results(msg), vec![("a", "boom", true), ("b", "B", false)]);
    let statuses: Vec<_> =
        answered(&ea).iter().map(|a| (a.tool_use_id.as_str(), a.status)).collect();
    assert_eq!(statuses, vec![("a", ToolResultStatus::Error), ("b", ToolResultStatus::Ok)]);
    assert_eq!(ea.last(), Some(&Effect::CallModel { iteration: 2, tools: true }));
    assert_eq!(t.phase(), Phase::Streaming);
}

#[test]
fn duplicate_or_empty_ids_are_made_unique() {
    let (mut t, _) = Turn::start(cfg(5));
    t.handle(call("x", "get_vm_status"));
    let e = t.handle(call("x", "get_vm_status"));
    let e2 = t.handle(call("", "get_vm_status"));
    let ids: Vec<String> = [e, e2]
        .iter()
        .flatten()
        .filter_map(|e| match e {
            Effect::EmitToolUse { id, .. } => Some(id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.iter().all(|id| id != "x" && !id.is_empty()));
    assert_ne!(ids[0], ids[1]);
}

#[test]
fn last_iteration_offers_no_tools_and_calls_made_anyway_are_not_run() {
    let (mut t, start) = Turn::start(cfg(2));
    assert_eq!(start, vec![Effect::CallModel { iteration: 1, tools: true }]);
    t.handle(call("a", "get_vm_status"));
    t.handle(Input::ModelDone(ModelStop::Complete));
    let next =
        t.handle(Input::ToolFinished { id: "a".into(), outcome: ToolOutcome::Ok("ok".into()) });
    assert_eq!(next.last(), Some(&Effect::CallModel { iteration: 2, tools: false }));
    // The model calls a tool although none was offered.
    t.handle(call("b", "stop_vm"));
    let end = t.handle(Input::ModelDone(ModelStop::Complete));
    assert!(!end.iter().any(|e| matches!(e, Effect::RunTool { .. })), "{end:?}");
    let answers = persisted(&end);
    assert_eq!(answers.len(), 2, "the call and its (refusing) answer are both stored");
    let r = results(answers[1]);
    assert_eq!(r.len(), 1);
    assert!(r[0].1.starts_with(result_text::NOT_RUN) && r[0].2);
    assert_eq!(answered(&end)[0].status, ToolResultStatus::NotExecuted);
    assert_eq!(end.last(), Some(&Effect::Finish(FinishReason::MaxIterations)));
}

#[test]
fn one_iteration_means_no_tools_at_all() {
    let (_, start) = Turn::start(cfg(0));
    assert_eq!(start, vec![Effect::CallModel { iteration: 1, tools: false }]);
}

#[test]
fn calls_cut_off_by_max_tokens_are_not_run() {
    let (mut t, _) = Turn::start(cfg(5));
    t.handle(call("a", "stop_vm"));
    let end = t.handle(Input::ModelDone(ModelStop::MaxTokens));
    assert!(!end.iter().any(|e| matches!(e, Effect::RunTool { .. })));
    assert_eq!(end.last(), Some(&Effect::Finish(FinishReason::Completed)));
}

#[test]
fn confirmation_pauses_and_approval_resumes_with_the_result() {
    let (mut t, _) = Turn::start(cfg(5));
    t.handle(call("a", "stop_vm"));
    t.handle(call("b", "get_vm_status"));
    t.handle(Input::ModelDone(ModelStop::Complete));
    let e = t.handle(Input::ToolFinished { id: "a".into(), outcome: needs("c1") });
    assert_eq!(
        e,
        vec![
            Effect::AwaitConfirmation {
                id: "a".into(),
                confirmation_id: "c1".into(),
                expires_at: expiry()
            },
            // Decided before the machine knew of it? Reading it once tells.
            Effect::ReadConfirmation { confirmation_id: "c1".into() },
            Effect::WakeAt(expiry()),
        ]
    );
    t.handle(Input::ToolFinished { id: "b".into(), outcome: ToolOutcome::Ok("running".into()) });
    assert_eq!(t.phase(), Phase::Tools, "still waiting for the operator");
    // A decision for some other confirmation changes nothing.
    assert_eq!(
        t.handle(Input::Confirmation {
            confirmation_id: "other".into(),
            outcome: ConfirmationOutcome::Executed("x".into())
        }),
        vec![]
    );
    let e = t.handle(Input::Confirmation {
        confirmation_id: "c1".into(),
        outcome: ConfirmationOutcome::Executed("stopped".into()),
    });
    let msg = persisted(&e)[0];
    assert_eq!(results(msg), vec![("a", "stopped", false), ("b", "running", false)]);
    assert_eq!(answered(&e)[0].confirmation_id.as_deref(), Some("c1"), "stored with its answer");
    assert_eq!(answered(&e)[1].confirmation_id, None);
    assert_eq!(e.last(), Some(&Effect::CallModel { iteration: 2, tools: true }));
    // A second decision for the same record is ignored.
    t.handle(Input::ModelText("Done.".into()));
    assert_eq!(
        t.handle(Input::Confirmation {
            confirmation_id: "c1".into(),
            outcome: ConfirmationOutcome::Denied
        }),
        vec![]
    );
}

#[test]
fn denial_and_expiry_are_answered_as_errors_and_the_turn_goes_on() {
    for (outcome, prefix, status) in [
        (ConfirmationOutcome::Denied, result_text::DENIED, ToolResultStatus::Denied),
        (ConfirmationOutcome::Expired, result_text::EXPIRED, ToolResultStatus::Expired),
        (
            ConfirmationOutcome::Blocked("kill switch".into()),
            result_text::BLOCKED,
            ToolResultStatus::Blocked,
        ),
        (ConfirmationOutcome::Failed("500".into()), "500", ToolResultStatus::Error),
    ] {
        let (mut t, _) = Turn::start(TurnConfig { max_iterations: 5, max_tool_output_chars: 1000 });
        t.handle(call("a", "stop_vm"));
        t.handle(Input::ModelDone(ModelStop::Complete));
        t.handle(Input::ToolFinished { id: "a".into(), outcome: needs("c") });
        let e = t.handle(Input::Confirmation { confirmation_id: "c".into(), outcome });
        let r = results(persisted(&e)[0]);
        assert!(r[0].1.starts_with(prefix) && r[0].2, "{r:?}");
        assert!(
            e.iter().any(|e| matches!(e, Effect::EmitToolResult { status: s, .. } if *s == status)),
            "{e:?}"
        );
        assert_eq!(answered(&e)[0].status, status);
        assert!(matches!(e.last(), Some(Effect::CallModel { iteration: 2, .. })));
    }
}

#[test]
fn blocked_tools_are_errors_that_say_not_to_retry() {
    let (mut t, _) = Turn::start(TurnConfig { max_iterations: 5, max_tool_output_chars: 1000 });
    t.handle(call("a", "stop_vm"));
    t.handle(Input::ModelDone(ModelStop::Complete));
    let e = t.handle(Input::ToolFinished {
        id: "a".into(),
        outcome: ToolOutcome::Blocked("VM 101 is protected.".into()),
    });
    let r = results(persisted(&e)[0]);
    assert!(r[0].1.starts_with("Blocked: VM 101 is protected.") && r[0].1.contains("Do not retry"));
    assert_eq!(answered(&e)[0].status, ToolResultStatus::Blocked);
}

#[test]
fn tool_output_is_truncated_for_the_model_but_shown_in_full() {
    let (mut t, _) = Turn::start(cfg(5));
    t.handle(call("a", "get_vm_status"));
    t.handle(Input::ModelDone(ModelStop::Complete));
    let long = "é".repeat(50);
    let e =
        t.handle(Input::ToolFinished { id: "a".into(), outcome: ToolOutcome::Ok(long.clone()) });
    assert!(e.contains(&Effect::EmitToolResult {
        id: "a".into(),
        content: long,
        status: ToolResultStatus::Ok
    }));
    let r = results(persisted(&e)[0]);
    assert!(r[0].1.starts_with(&"é".repeat(20)));
    assert!(r[0].1.contains("30 of 50 characters omitted"), "{}", r[0].1);
}

#[test]
fn abort_while_streaming_keeps_text_and_never_runs_the_calls() {
    let (mut t, _) = Turn::start(cfg(5));
    t.handle(Input::ModelText("Stopping".into()));
    t.handle(call("a", "stop_vm"));
    let e = t.handle(Input::Abort);
    assert_eq!(
        e,
        vec![
            Effect::Persist(Message::assistant("Stopping")),
            Effect::Finish(FinishReason::Aborted)
        ]
    );
    assert_eq!(t.handle(Input::ModelDone(ModelStop::Complete)), vec![]);
    assert_eq!(t.handle(Input::Abort), vec![], "a second abort does nothing");
}

#[test]
fn abort_while_waiting_cancels_the_confirmation_and_answers_every_call() {
    let (mut t, _) = Turn::start(cfg(5));
    t.handle(call("a", "stop_vm"));
    t.handle(call("b", "get_vm_status"));
    t.handle(Input::ModelDone(ModelStop::Complete));
    t.handle(Input::ToolFinished { id: "a".into(), outcome: needs("c") });
    let e = t.handle(Input::Abort);
    assert!(e.contains(&Effect::CancelConfirmation { confirmation_id: "c".into() }));
    let r = results(persisted(&e)[0]);
    assert_eq!(r.len(), 2);
    assert!(r.iter().all(|(_, c, err)| c.starts_with(result_text::ABORTED) && *err));
    assert!(answered(&e).iter().all(|a| a.status == ToolResultStatus::Aborted));
    assert_eq!(e.last(), Some(&Effect::Finish(FinishReason::Aborted)));
    // The late result and the decision are ignored.
    assert_eq!(
        t.handle(Input::ToolFinished { id: "b".into(), outcome: ToolOutcome::Ok("x".into()) }),
        vec![]
    );
}

#[test]
fn model_failure_keeps_partial_text_and_drops_unrun_calls() {
    let (mut t, _) = Turn::start(cfg(5));
    t.handle(Input::ModelText("Part".into()));
    t.handle(call("a", "stop_vm"));
    let e = t.handle(Input::ModelFailed("overloaded".into()));
    assert_eq!(
        e,
        vec![
            Effect::Persist(Message::assistant("Part")),
            Effect::Finish(FinishReason::ModelError("overloaded".into()))
        ]
    );
}

#[test]
fn inputs_out_of_phase_are_ignored() {
    let (mut t, _) = Turn::start(cfg(5));
    assert_eq!(
        t.handle(Input::ToolFinished { id: "a".into(), outcome: ToolOutcome::Ok("x".into()) }),
        vec![]
    );
    t.handle(call("a", "get_vm_status"));
    t.handle(Input::ModelDone(ModelStop::Complete));
    assert_eq!(t.handle(Input::ModelText("late".into())), vec![]);
    assert_eq!(
        t.handle(Input::ToolFinished { id: "zzz".into(), outcome: ToolOutcome::Ok("x".into()) }),
        vec![],
        "unknown call id"
    );
}

#[test]
fn iterations_never_exceed_the_limit() {
    let (mut t, _) = Turn::start(cfg(4));
    let mut calls = 1;
    loop {
        t.handle(call("a", "get_vm_status"));
        let e = t.handle(Input::ModelDone(ModelStop::Complete));
        if matches!(e.last(), Some(Effect::Finish(_))) {
            assert_eq!(e.last(), Some(&Effect::Finish(FinishReason::MaxIterations)));
            break;
        }
        let e =
            t.handle(Input::ToolFinished { id: "a".into(), outcome: ToolOutcome::Ok("x".into()) });
        assert!(matches!(e.last(), Some(Effect::CallModel { .. })));
        calls += 1;
    }
    assert_eq!(calls, 4);
}

#[test]
fn repair_answers_dangling_calls_and_drops_orphan_results() {
    let assistant_call = Message {
        role: Role::Assistant,
        blocks: vec![Block::ToolUse { id: "a".into(), name: "stop_vm".into(), input: json!({}) }],
    };
    let orphan = Message {
        role: Role::User,
        blocks: vec![Block::ToolResult {
            tool_use_id: "gone".into(),
            content: "x".into(),
            is_error: false,
        }],
    };
    let history = vec![
        orphan,
        Message::assistant("hi"),
        Message::user("stop it"),
        assistant_call.clone(),
        Message::user("hello?"),
        assistant_call,
    ];
    let fixed = repair(history);
    // Leading orphan and the leading assistant message are gone.
    assert_eq!(fixed[0], Message::user("stop it"));
    // The dangling call before "hello?" gets an answer inside that user message.
    let r = results(&fixed[2]);
    assert_eq!(r.len(), 1);
    assert!(r[0].1.starts_with(result_text::NOT_RUN));
    assert_eq!(fixed[2].text(), "hello?");
    // The trailing dangling call gets an answer too.
    assert_eq!(results(fixed.last().unwrap()).len(), 1);
}

#[test]
fn truncate_counts_characters() {
    assert_eq!(truncate("abc", 3), "abc");
    assert!(truncate("abcd", 3).starts_with("abc\n… [truncated: 1 of 4"));
}
