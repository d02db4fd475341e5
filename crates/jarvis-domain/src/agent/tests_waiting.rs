//! The machine's waiting and time: confirmations, wake-ups, ticks, expiry.

use chrono::Duration;

use super::tests::{answered, at, call, expiry, persisted, results};
use super::*;

fn cfg() -> TurnConfig {
    TurnConfig { max_iterations: 5, max_tool_output_chars: 1_000 }
}

/// A turn in its tool phase with calls `ids` (all `stop_vm`), none answered yet.
fn tools(ids: &[&str]) -> Turn {
    let (mut t, _) = Turn::start(cfg());
    for id in ids {
        t.handle(call(id, "stop_vm"));
    }
    t.handle(Input::ModelDone(ModelStop::Complete));
    assert_eq!(t.phase(), Phase::Tools);
    t
}

fn waits_for(t: &mut Turn, id: &str, confirmation_id: &str, expires_at: DateTime) -> Vec<Effect> {
    t.handle(Input::ToolFinished {
        id: id.into(),
        outcome: ToolOutcome::NeedsConfirmation {
            confirmation_id: confirmation_id.into(),
            expires_at,
        },
    })
}

type DateTime = chrono::DateTime<chrono::Utc>;

fn expire(confirmation_id: &str) -> Effect {
    Effect::ExpireConfirmation { confirmation_id: confirmation_id.into() }
}

fn decided(confirmation_id: &str, outcome: ConfirmationOutcome) -> Input {
    Input::Confirmation { confirmation_id: confirmation_id.into(), outcome }
}

#[test]
fn expiry_is_asked_for_exactly_at_expires_at_and_only_once() {
    let mut t = tools(&["a"]);
    let e = waits_for(&mut t, "a", "c", expiry());
    assert_eq!(e.last(), Some(&Effect::WakeAt(expiry())));
    assert_eq!(t.handle(Input::Tick(expiry() - Duration::milliseconds(1))), vec![]);
    assert_eq!(t.handle(Input::Tick(expiry())), vec![expire("c")]);
    assert_eq!(t.handle(Input::Tick(expiry() + Duration::minutes(1))), vec![], "asked once");
    assert_eq!(t.phase(), Phase::Tools, "the store decides what the record came to");

    let e = t.handle(decided("c", ConfirmationOutcome::Expired));
    assert!(e.contains(&Effect::EmitToolResult {
        id: "a".into(),
        content: format!(
            "{} nobody confirmed this action in time. It did not run.",
            result_text::EXPIRED
        ),
        status: ToolResultStatus::Expired,
    }));
    assert_eq!(answered(&e)[0].status, ToolResultStatus::Expired);
    assert_eq!(e.last(), Some(&Effect::CallModel { iteration: 2, tools: true }));
}

#[test]
fn a_tick_long_after_expiry_expires_too() {
    let mut t = tools(&["a"]);
    waits_for(&mut t, "a", "c", expiry());
    assert_eq!(t.handle(Input::Tick(expiry() + Duration::hours(3))), vec![expire("c")]);
}

#[test]
fn ticks_before_expiry_or_outside_the_tool_phase_do_nothing() {
    let (mut streaming, _) = Turn::start(cfg());
    assert_eq!(streaming.handle(Input::Tick(expiry() + Duration::days(1))), vec![]);
    let mut t = tools(&["a"]);
    assert_eq!(t.handle(Input::Tick(expiry())), vec![], "nothing awaited yet");
    waits_for(&mut t, "a", "c", expiry());
    for secs in [-300, -60, -1] {
        assert_eq!(t.handle(Input::Tick(expiry() + Duration::seconds(secs))), vec![], "{secs}");
    }
    assert_eq!(t.phase(), Phase::Tools);
}

#[test]
fn an_approved_record_still_executing_at_expiry_is_answered_by_its_outcome() {
    let mut t = tools(&["a"]);
    waits_for(&mut t, "a", "c", expiry());
    assert_eq!(t.handle(Input::Tick(expiry())), vec![expire("c")]);
    let e = t.handle(decided("c", ConfirmationOutcome::Executed("stopped".into())));
    assert_eq!(results(persisted(&e)[0]), vec![("a", "stopped", false)]);
    assert_eq!(answered(&e)[0].status, ToolResultStatus::Ok);
}

#[test]
fn news_and_decisions_for_unknown_records_are_ignored() {
    let mut t = tools(&["a"]);
    waits_for(&mut t, "a", "c", expiry());
    let other = || Input::ConfirmationChanged { confirmation_id: "other".into() };
    assert_eq!(t.handle(other()), vec![]);
    assert_eq!(t.handle(decided("other", ConfirmationOutcome::Executed("x".into()))), vec![]);
    assert_eq!(
        t.handle(Input::ConfirmationChanged { confirmation_id: "c".into() }),
        vec![Effect::ReadConfirmation { confirmation_id: "c".into() }],
        "news about an awaited record makes the machine read it"
    );
    t.handle(decided("c", ConfirmationOutcome::Denied));
    // Answered: the record is no longer awaited.
    assert_eq!(t.handle(Input::ConfirmationChanged { confirmation_id: "c".into() }), vec![]);
    assert_eq!(t.handle(decided("c", ConfirmationOutcome::Expired)), vec![]);
}

#[test]
fn a_call_waits_for_one_confirmation_only() {
    let mut t = tools(&["a"]);
    waits_for(&mut t, "a", "c", expiry());
    assert_eq!(waits_for(&mut t, "a", "c2", expiry()), vec![]);
    assert_eq!(waits_for(&mut t, "zzz", "c3", expiry()), vec![], "unknown call");
    assert_eq!(t.handle(decided("c2", ConfirmationOutcome::Denied)), vec![]);
}

#[test]
fn two_confirmations_resolve_in_either_order_and_answers_keep_call_order() {
    let later = expiry() + Duration::minutes(1);
    for first_a in [true, false] {
        let mut t = tools(&["a", "b"]);
        assert_eq!(waits_for(&mut t, "a", "ca", expiry()).last(), Some(&Effect::WakeAt(expiry())));
        let e = waits_for(&mut t, "b", "cb", later);
        assert!(!e.iter().any(|e| matches!(e, Effect::WakeAt(_))), "the earliest stays: {e:?}");
        let (first, second) = if first_a { ("ca", "cb") } else { ("cb", "ca") };
        let e = t.handle(decided(first, ConfirmationOutcome::Executed(format!("{first} ran"))));
        assert!(!e.iter().any(|e| matches!(e, Effect::CallModel { .. })), "one still open");
        // Once "ca" is answered the next wake-up is "cb"'s expiry.
        let rewoken = e.iter().find(|e| matches!(e, Effect::WakeAt(_))).cloned();
        assert_eq!(rewoken, first_a.then_some(Effect::WakeAt(later)));
        assert_eq!(
            t.handle(Input::Resync),
            vec![Effect::ReadConfirmation { confirmation_id: second.into() }]
        );
        let e = t.handle(decided(second, ConfirmationOutcome::Denied));
        let r = results(persisted(&e)[0]);
        assert_eq!(r.iter().map(|(id, _, _)| *id).collect::<Vec<_>>(), ["a", "b"]);
        let conf: Vec<_> = answered(&e).iter().map(|a| a.confirmation_id.clone()).collect();
        assert_eq!(conf, [Some("ca".to_owned()), Some("cb".to_owned())]);
        let statuses: Vec<_> = answered(&e).iter().map(|a| a.status).collect();
        let expected = if first_a {
            [ToolResultStatus::Ok, ToolResultStatus::Denied]
        } else {
            [ToolResultStatus::Denied, ToolResultStatus::Ok]
        };
        assert_eq!(statuses, expected);
        assert_eq!(e.last(), Some(&Effect::CallModel { iteration: 2, tools: true }));
    }
}

#[test]
fn resync_reads_every_awaited_record_in_call_order() {
    let mut t = tools(&["a", "b", "c"]);
    waits_for(&mut t, "a", "ca", expiry());
    t.handle(Input::ToolFinished { id: "b".into(), outcome: ToolOutcome::Ok("ok".into()) });
    waits_for(&mut t, "c", "cc", expiry());
    let read = |c: &str| Effect::ReadConfirmation { confirmation_id: c.into() };
    assert_eq!(t.handle(Input::Resync), vec![read("ca"), read("cc")]);
}

#[test]
fn abort_while_waiting_cancels_every_confirmation() {
    let mut t = tools(&["a", "b", "c"]);
    waits_for(&mut t, "a", "ca", expiry());
    waits_for(&mut t, "b", "cb", expiry() + Duration::minutes(1));
    let e = t.handle(Input::Abort);
    let cancelled: Vec<&str> = e
        .iter()
        .filter_map(|e| match e {
            Effect::CancelConfirmation { confirmation_id } => Some(confirmation_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(cancelled, ["ca", "cb"]);
    let statuses: Vec<_> = answered(&e).iter().map(|a| a.status).collect();
    assert_eq!(statuses, [ToolResultStatus::Aborted; 3]);
    assert_eq!(e.last(), Some(&Effect::Finish(FinishReason::Aborted)));
    assert_eq!(t.handle(Input::Tick(at("2030-01-01T00:00:00Z"))), vec![], "over");
    assert_eq!(t.handle(decided("ca", ConfirmationOutcome::Executed("late".into()))), vec![]);
}
