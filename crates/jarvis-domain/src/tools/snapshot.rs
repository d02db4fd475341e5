//! Pins every tool's public face — schema, tier, mutating flag, description, and the canonical
//! arguments, digest and summary of one sample call — so a refactor of the registry can be shown
//! to change nothing: stored confirmation digests stay valid and the LLM, MCP and REST see the
//! same bytes.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::*;

/// One sample call per tool, in registry order, with every optional argument that exists.
fn samples() -> Vec<(&'static str, Value)> {
    let guest = json!({"node": "pve1", "vmid": 101});
    vec![
        ("get_cluster_status", json!({})),
        ("get_node_status", json!({"node": "pve1"})),
        ("get_vms", json!({})),
        ("get_containers", json!({})),
        ("get_storage", json!({})),
        ("get_cluster_resources", json!({"type": "storage"})),
        ("get_node_temperature", json!({"node": "pve2"})),
        ("get_recent_tasks", json!({"limit": 7, "node": "pve1"})),
        ("get_backups", json!({"node": "pve1", "storage": "nfs-backup"})),
        ("get_guest_config", json!({"node": "pve1", "vmid": 200})),
        (
            "get_task_status",
            json!({"node": "pve1", "upid": "UPID:pve1:0000A1B2:0012D687:65A1B2C3:qmstart:101:root@pam:"}),
        ),
        (
            "get_events",
            json!({"limit": 10, "type": "alert", "severity": "critical", "node": "pve1",
                   "since": "2026-01-31T09:00:00.250+01:00"}),
        ),
        ("get_autonomy_actions", json!({"since": "2026-01-31T08:00:00Z"})),
        ("get_incidents", json!({"state": "open"})),
        ("search_memory", json!({"query": format!("disk on \"pve2\" {}", "é".repeat(90))})),
        ("execute_ssh", json!({"node": "pve1", "command": "journalctl -u pveproxy -n 100"})),
        ("restart_service", json!({"node": "pve1", "service": "pveproxy.service"})),
        ("wake_node", json!({"node": "pve3"})),
        ("start_vm", guest.clone()),
        ("start_container", json!({"node": "pve2", "vmid": 200})),
        ("stop_vm", guest.clone()),
        ("shutdown_vm", guest.clone()),
        ("restart_vm", guest.clone()),
        ("stop_container", json!({"node": "pve2", "vmid": 200})),
        ("shutdown_container", json!({"node": "pve2", "vmid": 200})),
        ("restart_container", json!({"node": "pve2", "vmid": 200})),
        ("reboot_node", json!({"node": "pve2"})),
        ("shutdown_node", json!({"node": "pve2"})),
    ]
}

fn sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[test]
fn registry_snapshot() {
    let samples = samples();
    let names: Vec<&str> = REGISTRY.iter().map(|d| d.name).collect();
    let sampled: Vec<&str> = samples.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, sampled, "one sample per tool, in registry order");
    let mut out = String::new();
    for (d, (name, args)) in REGISTRY.iter().zip(&samples) {
        let call = parse_call(name, args).unwrap_or_else(|e| panic!("{name}: {e}"));
        let canonical = canonical_args(&call);
        let schema = input_schema(name).unwrap_or_else(|| panic!("{name} has no schema"));
        out.push_str(&format!(
            "## {name}\ntier: {}\nmutating: {}\ndescription: {} bytes, sha256 {}\nschema: {}\n\
             call: node={:?} vmid={:?} service={:?}\ncanonical: {}\ndigest: {}\nsummary: {}\n\n",
            d.tier.as_str(),
            d.mutating,
            d.description.len(),
            sha256(d.description),
            serde_json::to_string(&schema).unwrap(),
            call.node().map(|n| n.as_str()),
            call.vmid().map(|v| v.get()),
            call.service().map(|s| s.as_str()),
            canonical_json(&canonical),
            args_digest(name, &canonical),
            call.summary(),
        ));
    }
    insta::assert_snapshot!(out);
}

/// The exact error text of refused calls (clients and models read these messages).
#[test]
fn parse_errors_snapshot() {
    let mut cases: Vec<(&str, Value)> = REGISTRY
        .iter()
        .flat_map(|d| [(d.name, json!({"bogus": 1})), (d.name, json!([1]))])
        .collect();
    cases.extend([
        ("nope", json!({})),
        ("stop_vm", json!({"node": "pve1", "vmid": "103"})),
        ("stop_vm", json!({"node": "pve1", "vmid": 99})),
        ("stop_vm", json!({"node": "pve1"})),
        ("stop_vm", json!({"node": "pve 1", "vmid": 101})),
        ("get_recent_tasks", json!({"limit": 0})),
        ("get_recent_tasks", json!({"limit": "5"})),
        ("get_task_status", json!({"node": "a", "upid": "x"})),
        ("search_memory", json!({"query": ""})),
        ("search_memory", json!({"query": "a\u{0}b"})),
        ("execute_ssh", json!({"node": "a", "command": "x".repeat(1001)})),
        ("execute_ssh", json!({"node": "a", "command": "df", "timeoutSeconds": 121})),
        ("restart_service", json!({"node": "a", "service": "-x"})),
        ("restart_service", json!({"node": "a", "service": "reboot.target"})),
        ("get_events", json!({"since": "yesterday"})),
        ("get_events", json!({"severity": "fatal"})),
        ("get_cluster_resources", json!({"type": "qemu"})),
        ("get_backups", json!({"node": "a", "storage": "../etc"})),
    ]);
    let mut out = String::new();
    for (name, args) in cases {
        let e = parse_call(name, &args).expect_err(name);
        let shown: String = args.to_string().chars().take(80).collect();
        out.push_str(&format!("{name} {shown}\n  {e}\n"));
    }
    insta::assert_snapshot!(out);
}
