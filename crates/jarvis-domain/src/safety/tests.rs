//! Safety decision tests (TEST-02): table-driven rules plus exhaustive invariants over every
//! registered tool and every context.

use serde_json::{Value, json};

use super::*;
use crate::tools::{REGISTRY, parse_call};

fn call(tool: &str, args: Value) -> ToolCall {
    parse_call(tool, &args).unwrap_or_else(|e| panic!("{tool}: {e}"))
}

fn protected() -> Protected {
    Protected::from_lists("103, 104", "agent1", "docker,pve-cluster.service").unwrap()
}

fn ctx(p: &Protected, kill_switch: bool, elevated: bool) -> SafetyContext<'_> {
    SafetyContext { kill_switch, elevated, protected: p }
}

fn code(d: &Decision) -> Option<BlockCode> {
    match d {
        Decision::Blocked { code, .. } => Some(*code),
        _ => None,
    }
}

#[test]
fn protected_lists_parse_and_normalise() {
    let p = Protected::from_lists(" 103 ,,104", "Agent1, pve2", "Docker, cron.service").unwrap();
    assert_eq!(p.vmids.iter().copied().collect::<Vec<_>>(), vec![103, 104]);
    assert_eq!(p.nodes, vec!["agent1", "pve2"]);
    assert_eq!(p.services, vec!["docker.service", "cron.service"]);
    assert_eq!(Protected::from_lists("", "", "").unwrap(), Protected::default());
    for (v, n, s, needle) in [
        ("103abc", "", "", "PROTECTED_VMIDS"),
        ("99", "", "", "PROTECTED_VMIDS"),
        ("", "bad node", "", "PROTECTED_NODES"),
        ("", "", "-x", "PROTECTED_SERVICES"),
    ] {
        let e = Protected::from_lists(v, n, s).unwrap_err();
        assert!(e.contains(needle), "{e}");
    }
}

/// `(tool, args, kill_switch, elevated, expected)` where expected is "execute", "confirm" or
/// the block code.
#[test]
fn decision_table() {
    let p = protected();
    let cases: &[(&str, Value, bool, bool, &str)] = &[
        // Tiers.
        ("get_vms", json!({}), false, false, "execute"),
        ("start_vm", json!({"node": "pve1", "vmid": 101}), false, false, "execute"),
        ("stop_vm", json!({"node": "pve1", "vmid": 101}), false, false, "confirm"),
        ("stop_vm", json!({"node": "pve1", "vmid": 101}), false, true, "confirm"),
        ("restart_container", json!({"node": "pve1", "vmid": 200}), false, false, "confirm"),
        ("reboot_node", json!({"node": "pve2"}), false, false, "black"),
        ("reboot_node", json!({"node": "pve2"}), false, true, "confirm"),
        ("shutdown_node", json!({"node": "pve2"}), false, true, "confirm"),
        // Kill switch stops every mutation, first, but never reads.
        ("start_vm", json!({"node": "pve1", "vmid": 101}), true, false, "kill_switch"),
        ("stop_vm", json!({"node": "pve1", "vmid": 103}), true, true, "kill_switch"),
        ("reboot_node", json!({"node": "pve2"}), true, true, "kill_switch"),
        ("execute_ssh", json!({"node": "pve1", "command": "uptime"}), true, false, "kill_switch"),
        ("wake_node", json!({"node": "pve2"}), true, false, "kill_switch"),
        ("get_cluster_status", json!({}), true, false, "execute"),
        ("get_guest_config", json!({"node": "pve1", "vmid": 103}), true, false, "execute"),
        // Protection on parsed arguments; elevation never unlocks it.
        ("stop_vm", json!({"node": "pve1", "vmid": 103}), false, false, "protected"),
        ("stop_vm", json!({"node": "pve1", "vmid": 103}), false, true, "protected"),
        ("start_vm", json!({"node": "pve1", "vmid": 104}), false, false, "protected"),
        ("start_container", json!({"node": "pve1", "vmid": 103}), false, false, "protected"),
        ("reboot_node", json!({"node": "agent1"}), false, true, "protected"),
        ("reboot_node", json!({"node": "AGENT1"}), false, true, "protected"),
        ("wake_node", json!({"node": "Agent1"}), false, false, "protected"),
        ("execute_ssh", json!({"node": "agent1", "command": "uptime"}), false, false, "protected"),
        ("restart_service", json!({"node": "pve1", "service": "docker"}), false, true, "protected"),
        (
            "restart_service",
            json!({"node": "pve1", "service": "Docker"}),
            false,
            false,
            "protected",
        ),
        (
            "restart_service",
            json!({"node": "pve1", "service": "docker.service"}),
            false,
            false,
            "protected",
        ),
        (
            "restart_service",
            json!({"node": "pve1", "service": "DOCKER.SERVICE"}),
            false,
            false,
            "protected",
        ),
        (
            "restart_service",
            json!({"node": "pve1", "service": "pve-cluster"}),
            false,
            false,
            "protected",
        ),
        (
            "restart_service",
            json!({"node": "pve1", "service": "pveproxy"}),
            false,
            false,
            "execute",
        ),
        // Reads of protected resources are fine (the original blocked them).
        ("get_node_status", json!({"node": "agent1"}), false, false, "execute"),
        ("get_guest_config", json!({"node": "agent1", "vmid": 103}), false, false, "execute"),
        ("get_node_temperature", json!({"node": "AGENT1"}), false, false, "execute"),
        ("get_recent_tasks", json!({"node": "agent1"}), false, false, "execute"),
        // Command policy.
        ("execute_ssh", json!({"node": "pve1", "command": "df -h"}), false, false, "execute"),
        (
            "execute_ssh",
            json!({"node": "pve1", "command": "systemctl status docker"}),
            false,
            false,
            "execute",
        ),
        (
            "execute_ssh",
            json!({"node": "pve1", "command": "systemctl restart docker"}),
            false,
            false,
            "command_policy",
        ),
        (
            "execute_ssh",
            json!({"node": "pve1", "command": "df -h; reboot"}),
            false,
            true,
            "command_policy",
        ),
        (
            "execute_ssh",
            json!({"node": "pve1", "command": "rm -rf /"}),
            false,
            true,
            "command_policy",
        ),
        // Restarting a power unit is a node reboot in disguise.
        (
            "restart_service",
            json!({"node": "pve1", "service": "systemd-reboot"}),
            false,
            false,
            "black",
        ),
        (
            "restart_service",
            json!({"node": "pve1", "service": "systemd-poweroff.service"}),
            false,
            true,
            "black",
        ),
    ];
    for (tool, args, kill, elevated, want) in cases {
        let c = call(tool, args.clone());
        let got = decide(&c, &ctx(&p, *kill, *elevated));
        let got_str = match &got {
            Decision::Execute => "execute",
            Decision::Confirm { .. } => "confirm",
            Decision::Blocked { code, .. } => code.as_str(),
        };
        assert_eq!(got_str, *want, "{tool} {args} kill={kill} elevated={elevated}: {got:?}");
    }
}

#[test]
fn reasons_are_specific() {
    let p = protected();
    let reason = |tool: &str, args: Value, kill: bool| match decide(
        &call(tool, args),
        &ctx(&p, kill, false),
    ) {
        Decision::Blocked { reason, .. } => reason,
        other => panic!("not blocked: {other:?}"),
    };
    assert_eq!(
        reason("start_vm", json!({"node": "a", "vmid": 101}), true),
        "kill switch is active: no actions run until the operator turns it off"
    );
    assert!(
        reason("stop_vm", json!({"node": "a", "vmid": 103}), false)
            .contains("guest 103 is protected")
    );
    assert!(
        reason("wake_node", json!({"node": "AGENT1"}), false).contains("node AGENT1 is protected")
    );
    assert!(
        reason("restart_service", json!({"node": "a", "service": "Docker"}), false)
            .contains("service Docker is protected")
    );
    assert!(
        reason("execute_ssh", json!({"node": "a", "command": "tail -f /var/log/syslog"}), false)
            .contains("never returns")
    );
    assert!(reason("reboot_node", json!({"node": "pve2"}), false).contains("override passkey"));
    match decide(&call("stop_vm", json!({"node": "pve1", "vmid": 101})), &ctx(&p, false, false)) {
        Decision::Confirm { summary } => {
            assert_eq!(summary, "Stop VM 101 on node pve1 (hard power-off)")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn kill_switch_thrown_after_confirmation_blocks_at_execution() {
    let p = protected();
    let c = call("stop_vm", json!({"node": "pve1", "vmid": 101}));
    assert!(matches!(decide(&c, &ctx(&p, false, false)), Decision::Confirm { .. }));
    let at_approval = recheck_at_execution(&c, &ctx(&p, true, false));
    assert_eq!(code(&at_approval), Some(BlockCode::KillSwitch));
    // An elevation that expired between request and approval no longer carries a BLACK call.
    let b = call("reboot_node", json!({"node": "pve2"}));
    assert!(matches!(decide(&b, &ctx(&p, false, true)), Decision::Confirm { .. }));
    assert_eq!(code(&recheck_at_execution(&b, &ctx(&p, false, false))), Some(BlockCode::Black));
    // A resource protected in between is protected at execution.
    let later = Protected::from_lists("101", "", "").unwrap();
    assert_eq!(
        code(&recheck_at_execution(&c, &ctx(&later, false, false))),
        Some(BlockCode::Protected)
    );
}

/// Every registered tool, aimed at a protected and an unprotected target, under every context.
#[test]
fn invariants_hold_for_every_tool_and_context() {
    let p = protected();
    for d in REGISTRY {
        for (node, vmid) in [("pve1", 101), ("agent1", 101), ("pve1", 103)] {
            let args = match d.name {
                "execute_ssh" => json!({"node": node, "command": "uptime"}),
                "restart_service" => json!({"node": node, "service": "pveproxy"}),
                "get_task_status" => json!({"node": node, "upid": "UPID:x"}),
                "search_memory" => json!({"query": "x"}),
                "get_cluster_status"
                | "get_vms"
                | "get_containers"
                | "get_storage"
                | "get_cluster_resources"
                | "get_events"
                | "get_autonomy_actions"
                | "get_incidents" => json!({}),
                "get_recent_tasks" => json!({"node": node}),
                "get_backups" => json!({"node": node}),
                n if n.contains("vm") || n.contains("container") || n == "get_guest_config" => {
                    json!({"node": node, "vmid": vmid})
                }
                _ => json!({"node": node}),
            };
            let c = call(d.name, args);
            let targets_protected = p.violation(&c).is_some();
            for kill in [false, true] {
                for elevated in [false, true] {
                    let got = decide(&c, &ctx(&p, kill, elevated));
                    let why = format!(
                        "{} {node}/{vmid} kill={kill} elevated={elevated}: {got:?}",
                        d.name
                    );
                    if !d.mutating {
                        assert_eq!(got, Decision::Execute, "reads always run: {why}");
                        continue;
                    }
                    if kill {
                        assert_eq!(code(&got), Some(BlockCode::KillSwitch), "{why}");
                    } else if targets_protected {
                        assert_eq!(code(&got), Some(BlockCode::Protected), "{why}");
                    }
                    match d.tier {
                        Tier::Red => assert!(!matches!(got, Decision::Execute), "{why}"),
                        Tier::Black if !elevated => assert!(got.is_blocked(), "{why}"),
                        Tier::Black => assert!(!matches!(got, Decision::Execute), "{why}"),
                        _ => {}
                    }
                }
            }
        }
    }
}
