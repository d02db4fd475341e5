//! `Pipeline::submit_call` for trusted typed callers (the monitor's runbooks), driven directly
//! against the simulator and a real SQLite file: the same known-node check, safety decision,
//! kill switch, protection, confirmations, audit and events as a raw request, plus
//! `ConfirmPolicy::Always`, which turns any mutating call into a confirmation.

use std::sync::Arc;
use std::time::Duration;

use jarvis::PveHandles;
use jarvis::cluster::ClusterState;
use jarvis::db::Db;
use jarvis::db::confirmations::ClaimError;
use jarvis::db::events::EventQuery;
use jarvis::guard::Guard;
use jarvis::tools::{
    ConfirmPolicy, DecideError, DecisionOutcome, Origin, Pipeline, RequestError, Source,
    ToolOutcome,
};
use jarvis_domain::audit::AuditEntry;
use jarvis_domain::safety::{BlockCode, Protected};
use jarvis_domain::tools::{Tier, ToolCall};
use jarvis_domain::{ClusterSnapshot, EventSource, GuestStatus, GuestType, NodeName, VmId};
use jarvis_proxmox::{ProxmoxApi, PveClient};
use jarvis_sim::{SimConfig, SimHandle, SimServer};

use crate::harness::pve_for;

/// A pipeline over the simulator after its first poll, with the handles a test inspects.
struct Rig {
    pipeline: Pipeline,
    pve: Arc<PveClient>,
    _sim: SimHandle,
    _dir: tempfile::TempDir,
}

/// `protect` picks the protected guest ids from the simulator's cluster.
async fn rig_protecting(protect: fn(&ClusterSnapshot) -> String) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimServer::start(SimConfig {
        tick: Duration::from_millis(200),
        task_duration: Duration::from_millis(300),
        ssh: false,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let pve = Arc::new(PveClient::new(pve_for(&sim)).expect("client builds"));
    let cluster = ClusterState::new();
    let view = jarvis_proxmox::read_cluster(pve.as_ref()).await.unwrap();
    cluster.publish(jarvis::cluster::apply_poll(
        &cluster.snapshot(),
        Ok(view),
        chrono::Utc::now(),
        None,
    ));
    let db = Db::open(&dir.path().join("jarvis.db")).await.unwrap();
    let protected = Protected::from_lists(&protect(&cluster.snapshot()), "", "").unwrap();
    let guard = Arc::new(Guard::load(db.clone(), protected, None).await.unwrap());
    let pipeline = Pipeline::new(
        db,
        guard,
        cluster,
        PveHandles::new(pve.clone()),
        None,
        jarvis::bus::Bus::default(),
    );
    Rig { pipeline, pve, _sim: sim, _dir: dir }
}

async fn rig() -> Rig {
    rig_protecting(|_| String::new()).await
}

impl Rig {
    /// A non-template VM in `status`, as `(node, vmid)`.
    fn vm(&self, status: GuestStatus) -> (NodeName, VmId) {
        let snap = self.pipeline.cluster.snapshot();
        let vm = snap
            .vms
            .iter()
            .find(|v| v.kind == GuestType::Qemu && v.status == status && !v.template)
            .unwrap_or_else(|| panic!("no {status:?} VM in the simulator"));
        (vm.node.parse().unwrap(), VmId::new(u64::from(vm.vmid)).unwrap())
    }

    async fn status(&self, node: &NodeName, vmid: VmId) -> String {
        let current =
            self.pve.guest_status(node.as_str(), GuestType::Qemu, vmid.get()).await.unwrap();
        current.status.unwrap_or_default()
    }

    async fn audit(&self) -> Vec<AuditEntry> {
        let mut rows = self.pipeline.db.audit_entries(100, None, None).await.unwrap();
        rows.reverse();
        rows
    }
}

fn monitor(confirm: ConfirmPolicy) -> Origin {
    Origin { source: Source::Monitor, actor: "monitor".into(), session: None, confirm }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_yellow_call_with_always_waits_for_the_operator_then_runs() {
    let r = rig().await;
    let (node, vmid) = r.vm(GuestStatus::Stopped);
    let call = ToolCall::StartVm { node: node.clone(), vmid };
    let outcome = r.pipeline.submit_call(call, monitor(ConfirmPolicy::Always)).await.unwrap();
    let ToolOutcome::ConfirmationRequired { tier, confirmation } = outcome else {
        panic!("expected a confirmation, got {outcome:?}");
    };
    assert_eq!(tier, Tier::Yellow);
    assert_eq!((confirmation.tool.as_str(), confirmation.source.as_str()), ("start_vm", "monitor"));
    assert_eq!(confirmation.actor, "monitor");
    assert_eq!(confirmation.summary, format!("Start VM {vmid} on node {node}"));
    let pending = r.pipeline.pending().await.unwrap();
    assert_eq!(pending.iter().map(|c| &c.id).collect::<Vec<_>>(), [&confirmation.id]);
    // Nothing ran (an executed start would have waited for its task before returning).
    assert_eq!(r.status(&node, vmid).await, "stopped");
    let rows = r.audit().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].source.as_str(), rows[0].actor.as_str(), rows[0].decision.as_str()),
        ("monitor", "monitor", "confirmation_requested")
    );
    assert_eq!(rows[0].outcome, "pending");

    let decided =
        r.pipeline.decide(&confirmation.id, true, "operator", Source::Api, None).await.unwrap();
    let DecisionOutcome::Ran(ToolOutcome::Executed { result, audit_id, .. }) = decided else {
        panic!("expected it to run, got {decided:?}");
    };
    assert_eq!(result["status"], "OK", "{result}");
    assert!(audit_id.is_some());
    assert_eq!(r.status(&node, vmid).await, "running");
    let decisions: Vec<_> =
        r.audit().await.iter().map(|e| (e.source.clone(), e.decision.clone())).collect();
    assert_eq!(
        decisions,
        [
            ("monitor".into(), "confirmation_requested".into()),
            ("api".into(), "approved".into()),
            ("api".into(), "executed".into()),
        ]
    );
    assert!(r.pipeline.pending().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn as_tier_runs_a_yellow_call_and_audits_and_announces_it_as_the_monitor() {
    let r = rig().await;
    let (node, vmid) = r.vm(GuestStatus::Stopped);
    let call = ToolCall::StartVm { node: node.clone(), vmid };
    let outcome = r.pipeline.submit_call(call, monitor(ConfirmPolicy::AsTier)).await.unwrap();
    assert!(matches!(outcome, ToolOutcome::Executed { tier: Tier::Yellow, .. }), "{outcome:?}");
    assert_eq!(r.status(&node, vmid).await, "running");
    let rows = r.audit().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].source.as_str(), rows[0].decision.as_str(), rows[0].outcome.as_str()),
        ("monitor", "executed", "success")
    );
    assert_eq!(rows[0].args, Some(serde_json::json!({"node": node, "vmid": vmid})));
    let events = r
        .pipeline
        .db
        .events(EventQuery {
            limit: 10,
            kind: None,
            severity: None,
            node: None,
            since: None,
            unresolved: false,
            text: None,
        })
        .await
        .unwrap();
    let executed = events.iter().find(|e| e.title == "Executed start_vm").expect("event");
    assert_eq!(executed.source, EventSource::Monitor);
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_run_even_with_always_and_red_calls_need_confirmation_either_way() {
    let r = rig().await;
    let read = r
        .pipeline
        .submit_call(ToolCall::GetClusterStatus, monitor(ConfirmPolicy::Always))
        .await
        .unwrap();
    assert!(matches!(read, ToolOutcome::Executed { tier: Tier::Green, .. }), "{read:?}");
    let (node, vmid) = r.vm(GuestStatus::Running);
    for policy in [ConfirmPolicy::AsTier, ConfirmPolicy::Always] {
        let call = ToolCall::StopVm { node: node.clone(), vmid };
        let outcome = r.pipeline.submit_call(call, monitor(policy)).await.unwrap();
        assert!(
            matches!(outcome, ToolOutcome::ConfirmationRequired { tier: Tier::Red, .. }),
            "{policy:?}: {outcome:?}"
        );
    }
    assert_eq!(r.status(&node, vmid).await, "running");
    assert_eq!(r.pipeline.pending().await.unwrap().len(), 2);
    let black = ToolCall::RebootNode { node: node.clone() };
    let outcome = r.pipeline.submit_call(black, monitor(ConfirmPolicy::Always)).await.unwrap();
    assert!(
        matches!(outcome, ToolOutcome::Blocked { code: BlockCode::Black, .. }),
        "BLACK never becomes a confirmation without elevation: {outcome:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_kill_switch_blocks_monitor_calls_and_their_approval() {
    let r = rig().await;
    let (node, vmid) = r.vm(GuestStatus::Stopped);
    let call = ToolCall::StartVm { node: node.clone(), vmid };
    let ToolOutcome::ConfirmationRequired { confirmation, .. } =
        r.pipeline.submit_call(call.clone(), monitor(ConfirmPolicy::Always)).await.unwrap()
    else {
        panic!("expected a confirmation");
    };
    r.pipeline.guard.set_kill_switch(true).await.unwrap();
    for policy in [ConfirmPolicy::AsTier, ConfirmPolicy::Always] {
        let outcome = r.pipeline.submit_call(call.clone(), monitor(policy)).await.unwrap();
        assert!(
            matches!(outcome, ToolOutcome::Blocked { code: BlockCode::KillSwitch, .. }),
            "{policy:?}: {outcome:?}"
        );
    }
    let decided =
        r.pipeline.decide(&confirmation.id, true, "operator", Source::Api, None).await.unwrap();
    assert!(
        matches!(
            decided,
            DecisionOutcome::Ran(ToolOutcome::Blocked { code: BlockCode::KillSwitch, .. })
        ),
        "{decided:?}"
    );
    assert_eq!(r.status(&node, vmid).await, "stopped");
    let blocked: Vec<_> = r
        .audit()
        .await
        .into_iter()
        .filter(|e| e.decision == "blocked")
        .map(|e| (e.source, e.outcome))
        .collect();
    assert_eq!(
        blocked,
        [
            ("monitor".into(), "blocked".into()),
            ("monitor".into(), "blocked".into()),
            ("api".into(), "blocked".into()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_protected_guest_is_blocked() {
    let r = rig_protecting(|snap| {
        snap.vms.iter().map(|v| v.vmid.to_string()).collect::<Vec<_>>().join(",")
    })
    .await;
    let (node, vmid) = r.vm(GuestStatus::Running);
    let call = ToolCall::StopVm { node, vmid };
    let outcome = r.pipeline.submit_call(call, monitor(ConfirmPolicy::Always)).await.unwrap();
    let ToolOutcome::Blocked { code, reason, audit_id, .. } = outcome else {
        panic!("expected a block, got {outcome:?}");
    };
    assert_eq!(code, BlockCode::Protected);
    assert!(reason.contains(&vmid.to_string()), "{reason}");
    let rows = r.audit().await;
    assert_eq!(rows.last().map(|e| (e.id, e.source.as_str())), Some((audit_id, "monitor")));
    assert!(r.pipeline.pending().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_node_is_refused_before_the_safety_decision() {
    let r = rig().await;
    let call = ToolCall::WakeNode { node: "nope".parse().unwrap() };
    let err = r.pipeline.submit_call(call, monitor(ConfirmPolicy::Always)).await.unwrap_err();
    let RequestError::InvalidArguments(message) = err else {
        panic!("expected invalid arguments, got {err:?}");
    };
    assert!(message.contains("unknown node `nope`"), "{message}");
    assert!(r.audit().await.is_empty());
    assert!(r.pipeline.pending().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn deciding_an_unknown_or_used_confirmation_is_a_claim_error() {
    let r = rig().await;
    let err = r.pipeline.decide("no-such-id", true, "operator", Source::Api, None).await;
    assert!(matches!(err, Err(DecideError::Claim(ClaimError::NotFound))), "{err:?}");
    let (node, vmid) = r.vm(GuestStatus::Running);
    let call = ToolCall::ShutdownVm { node, vmid };
    let ToolOutcome::ConfirmationRequired { confirmation, .. } =
        r.pipeline.submit_call(call, monitor(ConfirmPolicy::AsTier)).await.unwrap()
    else {
        panic!("expected a confirmation");
    };
    let denied = r.pipeline.decide(&confirmation.id, false, "operator", Source::Api, None).await;
    assert!(matches!(denied, Ok(DecisionOutcome::Denied)), "{denied:?}");
    let again = r.pipeline.decide(&confirmation.id, true, "operator", Source::Api, None).await;
    let Err(e @ DecideError::Claim(ClaimError::AlreadyDecided)) = again else {
        panic!("expected already decided, got {again:?}");
    };
    assert_eq!(e.to_string(), "the confirmation was already decided");
    let stored = r.pipeline.db.audit_entries(1, None, None).await.unwrap();
    assert_eq!(stored[0].decision, "denied");
}
