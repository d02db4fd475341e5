//! The monitor end to end on a virtual clock: a crash behind Jarvis's back is started by the
//! runbook through the pipeline (audited, source monitor), verified and resolved; a stop through
//! `stop_vm` + approval is left alone; levels 0, 1 and 2 behave differently; the kill switch
//! means no monitor action at all; a restart that keeps failing is tried 3 times, then escalated.

use chrono::Duration;
use jarvis::tools::{Source, ToolOutcome, ToolRequest};
use jarvis_domain::monitor::{ActionResult, AutonomyLevel, IncidentState, TimelineKind};
use jarvis_domain::{GuestStatus, GuestType};
use serde_json::json;

use crate::monitor_rig::{Rig, RigOptions};

fn secs(n: i64) -> Duration {
    Duration::seconds(n)
}

/// A running QEMU guest of the simulator and its node.
fn running_vm(rig: &Rig) -> (u32, String) {
    let snap = rig.sim.control().snapshot();
    let vm = snap
        .vms
        .iter()
        .find(|v| v.status == GuestStatus::Running && v.kind == GuestType::Qemu && !v.template)
        .expect("a running VM");
    (vm.vmid, vm.node.clone())
}

fn guest_status(rig: &Rig, vmid: u32) -> GuestStatus {
    rig.sim.control().snapshot().vm(vmid).unwrap().status
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_is_restarted_through_the_pipeline_verified_and_resolved_at_level_3() {
    let mut rig = Rig::start(RigOptions::default()).await;
    rig.advance(secs(1)).await;
    let (vmid, node) = running_vm(&rig);
    rig.sim.control().crash_guest(vmid).unwrap();
    let key = format!("crash:qemu/{vmid}");
    rig.until(secs(120), "the crash resolves", |r| {
        r.incident(&key).is_some_and(|i| i.state == IncidentState::Resolved)
    })
    .await;
    assert_eq!(guest_status(&rig, vmid), GuestStatus::Running);
    let inc = rig.incident(&key).unwrap();
    let kinds: Vec<TimelineKind> = inc.timeline.iter().map(|e| e.kind).collect();
    for k in [
        TimelineKind::Detected,
        TimelineKind::Acted,
        TimelineKind::Verified,
        TimelineKind::Resolved,
    ] {
        assert!(kinds.contains(&k), "{k:?} missing from {kinds:?}");
    }
    // The action is in the audit log, as the monitor, through the one pipeline.
    let audit = rig.monitor_audit().await;
    assert_eq!(audit.len(), 1, "{audit:#?}");
    let a = &audit[0];
    assert_eq!((a.actor.as_str(), a.tool.as_deref()), ("monitor", Some("start_vm")));
    assert_eq!(a.args.as_ref().unwrap()["vmid"], json!(vmid));
    assert_eq!(a.args.as_ref().unwrap()["node"], json!(node));
    assert_eq!((a.decision.as_str(), a.outcome.as_str()), ("executed", "success"));
    let acted = inc.timeline.iter().find(|e| e.kind == TimelineKind::Acted).unwrap();
    assert_eq!(acted.audit_id, Some(a.id), "the timeline links the audit row");
    let actions = rig.actions().await;
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].result, ActionResult::Success);
    assert!(actions[0].verification.as_deref().unwrap().contains("running"));
    // Stored as the API shows it.
    let stored = rig.core.state.db.incident(inc.id.clone()).await.unwrap().unwrap();
    assert_eq!(stored.state, IncidentState::Resolved);
    assert_eq!(stored.timeline, inc.timeline);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stop_through_stop_vm_and_approval_is_not_an_incident_and_stays_stopped() {
    let mut rig = Rig::start(RigOptions::default()).await;
    rig.advance(secs(1)).await;
    let (vmid, node) = running_vm(&rig);
    let pipeline = rig.core.state.tools.clone();
    let req = ToolRequest {
        tool: "stop_vm".into(),
        args: json!({"node": node, "vmid": vmid}),
        source: Source::Api,
        actor: "operator".into(),
        session: None,
    };
    let ToolOutcome::ConfirmationRequired { confirmation, .. } =
        pipeline.submit(req).await.unwrap()
    else {
        panic!("stop_vm is RED: it needs a confirmation");
    };
    pipeline.decide(&confirmation.id, true, "operator", Source::Api, None).await.unwrap();
    assert_eq!(guest_status(&rig, vmid), GuestStatus::Stopped);
    rig.run_for(Duration::minutes(10), secs(12)).await;
    assert!(rig.incidents().iter().all(|i| i.vmid != Some(vmid)), "{:#?}", rig.incidents());
    assert!(rig.actions().await.is_empty());
    assert!(rig.monitor_audit().await.is_empty());
    assert_eq!(guest_status(&rig, vmid), GuestStatus::Stopped, "the monitor left it alone");
}

#[tokio::test(flavor = "multi_thread")]
async fn levels_0_and_1_start_nothing_and_level_2_waits_for_the_operator() {
    for level in [AutonomyLevel::Observe, AutonomyLevel::Alert] {
        let mut rig = Rig::start(RigOptions { level, ..RigOptions::default() }).await;
        rig.advance(secs(1)).await;
        let (vmid, _) = running_vm(&rig);
        rig.sim.control().crash_guest(vmid).unwrap();
        rig.run_for(Duration::minutes(10), secs(12)).await;
        let inc = rig.incident(&format!("crash:qemu/{vmid}")).expect("an incident");
        assert_eq!(inc.state, IncidentState::Open);
        assert!(rig.actions().await.is_empty(), "level {level:?} acts on nothing");
        assert!(rig.monitor_audit().await.is_empty());
        assert_eq!(guest_status(&rig, vmid), GuestStatus::Stopped);
        let why = inc.timeline.iter().map(|e| e.detail.as_str()).collect::<Vec<_>>().join("\n");
        assert!(why.contains(&format!("Autonomy level {}", level.number())), "{why}");
    }

    let mut rig =
        Rig::start(RigOptions { level: AutonomyLevel::Recommend, ..RigOptions::default() }).await;
    rig.advance(secs(1)).await;
    let (vmid, _) = running_vm(&rig);
    rig.sim.control().crash_guest(vmid).unwrap();
    rig.run_for(Duration::minutes(2), secs(12)).await;
    let pending = rig.core.state.tools.pending().await.unwrap();
    assert_eq!(pending.len(), 1, "one recommendation: {pending:#?}");
    let conf = &pending[0];
    assert_eq!(
        (conf.tool.as_str(), conf.source.as_str(), conf.actor.as_str()),
        ("start_vm", "monitor", "monitor")
    );
    assert_eq!(guest_status(&rig, vmid), GuestStatus::Stopped, "nothing runs before approval");
    rig.core.state.tools.decide(&conf.id, true, "operator", Source::Api, None).await.unwrap();
    let key = format!("crash:qemu/{vmid}");
    rig.until(secs(120), "approved start verified", |r| {
        r.incident(&key).is_some_and(|i| i.state == IncidentState::Resolved)
    })
    .await;
    assert_eq!(guest_status(&rig, vmid), GuestStatus::Running);
    let actions = rig.actions().await;
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].result, ActionResult::Success);
    assert_eq!(actions[0].confirmation_id.as_deref(), Some(conf.id.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_kill_switch_means_no_monitor_action_of_any_kind_and_the_incident_says_why() {
    let mut rig = Rig::start(RigOptions::default()).await;
    rig.advance(secs(1)).await;
    rig.core.state.guard.set_kill_switch(true).await.unwrap();
    let (vmid, _) = running_vm(&rig);
    rig.sim.control().crash_guest(vmid).unwrap();
    rig.run_for(Duration::minutes(15), secs(12)).await;
    let key = format!("crash:qemu/{vmid}");
    let inc = rig.incident(&key).expect("still recorded");
    assert_eq!(inc.state, IncidentState::Open);
    assert!(
        inc.timeline.iter().any(|e| e.detail.contains("Kill switch is on")),
        "{:#?}",
        inc.timeline
    );
    assert!(rig.actions().await.is_empty());
    assert!(rig.monitor_audit().await.is_empty(), "not even a refusal reaches the pipeline");
    assert_eq!(guest_status(&rig, vmid), GuestStatus::Stopped);
    rig.core.state.guard.set_kill_switch(false).await.unwrap();
    rig.until(secs(120), "released: it acts", |r| {
        r.incident(&key).is_some_and(|i| i.state == IncidentState::Resolved)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_that_keeps_failing_is_tried_three_times_in_an_hour_then_escalated_once() {
    let mut rig = Rig::start(RigOptions::default()).await;
    rig.advance(secs(1)).await;
    let (vmid, _) = running_vm(&rig);
    rig.sim.control().fail_starts(vmid, None).unwrap();
    rig.sim.control().crash_guest(vmid).unwrap();
    rig.run_for(Duration::hours(3), secs(12)).await;
    let starts: Vec<_> = rig
        .monitor_audit()
        .await
        .into_iter()
        .filter(|e| e.tool.as_deref() == Some("start_vm"))
        .collect();
    assert_eq!(starts.len(), 3, "{starts:#?}");
    assert!(starts.iter().all(|e| e.outcome == "failure"));
    let actions = rig.actions().await;
    let escalated: Vec<_> =
        actions.iter().filter(|a| a.result == ActionResult::Escalated).collect();
    assert_eq!(escalated.len(), 1);
    let inc = rig.incident(&format!("crash:qemu/{vmid}")).unwrap();
    assert!(inc.escalated);
    assert_eq!(inc.state, IncidentState::Open);
    assert_eq!(inc.timeline.iter().filter(|e| e.kind == TimelineKind::Escalated).count(), 1);
}
