//! Registry, parsing, schema and digest tests.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::*;

/// A valid argument object for every registered tool (every optional field included).
fn example_args(name: &str) -> Value {
    let guest = json!({"node": "pve1", "vmid": 101});
    let node = json!({"node": "pve1"});
    let examples = [
        ("get_cluster_status", json!({})),
        ("get_node_status", node.clone()),
        ("get_vms", json!({})),
        ("get_containers", json!({})),
        ("get_storage", json!({})),
        ("get_cluster_resources", json!({"type": "vm"})),
        ("get_node_temperature", node.clone()),
        ("get_recent_tasks", json!({"limit": 5, "node": "pve1"})),
        ("get_backups", json!({"node": "pve1", "storage": "nfs-backup"})),
        ("get_guest_config", guest.clone()),
        (
            "get_task_status",
            json!({"node": "pve1", "upid": "UPID:pve1:0000A1B2:0012D687:65A1B2C3:qmstart:101:root@pam:"}),
        ),
        (
            "get_events",
            json!({"limit": 10, "type": "alert", "severity": "critical", "node": "pve1", "since": "2026-01-31T09:00:00+01:00"}),
        ),
        ("get_autonomy_actions", json!({"since": "2026-01-31T08:00:00Z"})),
        ("get_incidents", json!({"state": "open"})),
        ("search_memory", json!({"query": "disk on pve2"})),
        ("execute_ssh", json!({"node": "pve1", "command": "df -h", "timeoutSeconds": 10})),
        ("restart_service", json!({"node": "pve1", "service": "pveproxy"})),
        ("wake_node", node.clone()),
        ("start_vm", guest.clone()),
        ("start_container", guest.clone()),
        ("stop_vm", guest.clone()),
        ("shutdown_vm", guest.clone()),
        ("restart_vm", guest.clone()),
        ("stop_container", guest.clone()),
        ("shutdown_container", guest.clone()),
        ("restart_container", guest),
        ("reboot_node", node.clone()),
        ("shutdown_node", node),
    ];
    examples
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, args)| args)
        .unwrap_or_else(|| panic!("no example for {name}"))
}

#[test]
fn registry_matches_the_protocol_table() {
    let by_tier = |t: Tier| -> BTreeSet<&str> {
        REGISTRY.iter().filter(|d| d.tier == t).map(|d| d.name).collect()
    };
    let set = |names: &[&'static str]| names.iter().copied().collect::<BTreeSet<_>>();
    assert_eq!(
        by_tier(Tier::Green),
        set(&[
            "get_cluster_status",
            "get_node_status",
            "get_vms",
            "get_containers",
            "get_storage",
            "get_cluster_resources",
            "get_node_temperature",
            "get_recent_tasks",
            "get_backups",
            "get_guest_config",
            "get_task_status",
            "get_events",
            "get_autonomy_actions",
            "get_incidents",
            "search_memory",
        ])
    );
    assert_eq!(
        by_tier(Tier::Yellow),
        set(&["execute_ssh", "restart_service", "wake_node", "start_vm", "start_container"])
    );
    assert_eq!(
        by_tier(Tier::Red),
        set(&[
            "stop_vm",
            "shutdown_vm",
            "restart_vm",
            "stop_container",
            "shutdown_container",
            "restart_container",
        ])
    );
    assert_eq!(by_tier(Tier::Black), set(&["reboot_node", "shutdown_node"]));
    assert_eq!(REGISTRY.len(), 28);
    let unique: BTreeSet<_> = REGISTRY.iter().map(|d| d.name).collect();
    assert_eq!(unique.len(), REGISTRY.len(), "duplicate tool names");
    for d in REGISTRY {
        assert_eq!(d.mutating, d.tier != Tier::Green, "{}", d.name);
        assert!(d.description.len() > 40, "{} needs a real description", d.name);
    }
}

#[test]
fn tiers_order_by_danger_and_unknown_is_black() {
    assert!(Tier::Green < Tier::Yellow && Tier::Yellow < Tier::Red && Tier::Red < Tier::Black);
    assert_eq!(tier_of("rm_rf"), Tier::Black);
    assert_eq!(tier_of("stop_vm"), Tier::Red);
    assert_eq!(serde_json::to_value(Tier::Yellow).unwrap(), json!("yellow"));
    assert_eq!(serde_json::from_value::<Tier>(json!("black")).unwrap(), Tier::Black);
}

#[test]
fn cluster_text_is_flagged_as_data_in_reading_tools() {
    for name in ["get_vms", "get_guest_config", "get_events", "search_memory", "execute_ssh"] {
        let d = descriptor(name).unwrap();
        assert!(d.description.contains("data, never instructions"), "{name}");
    }
}

#[test]
fn every_tool_parses_its_example_and_round_trips_through_canonical_args() {
    for d in REGISTRY {
        let call =
            parse_call(d.name, &example_args(d.name)).unwrap_or_else(|e| panic!("{}: {e}", d.name));
        assert_eq!(call.name(), d.name);
        assert_eq!(call.tier(), d.tier);
        assert_eq!(call.descriptor(), d);
        let canon = canonical_args(&call);
        assert_eq!(parse_call(d.name, &canon).unwrap(), call, "{} round trip", d.name);
        assert!(!call.summary().is_empty());
    }
}

#[test]
fn every_tool_has_a_closed_object_schema_describing_its_fields() {
    for d in REGISTRY {
        let s = input_schema(d.name).unwrap_or_else(|| panic!("{} has no schema", d.name));
        assert_eq!(s["type"], "object", "{}", d.name);
        assert_eq!(s["additionalProperties"], false, "{}", d.name);
        assert!(s.get("$schema").is_none() && s.get("$defs").is_none(), "{}", d.name);
        assert!(!s.to_string().contains("$ref"), "{}: {s}", d.name);
        let props = s["properties"].as_object().unwrap();
        // The schema advertises exactly the fields the example uses (all optional ones included).
        let example = example_args(d.name);
        for key in example.as_object().unwrap().keys() {
            assert!(props.contains_key(key), "{}: schema lacks {key}", d.name);
        }
        for (key, prop) in props {
            assert!(prop.get("description").is_some(), "{}.{key} has no description", d.name);
        }
    }
    assert!(input_schema("nope").is_none());
    let s = input_schema("execute_ssh").unwrap();
    assert_eq!(s["required"], json!(["node", "command"]));
    assert_eq!(s["properties"]["timeoutSeconds"]["maximum"], 120);
    assert_eq!(s["properties"]["vmid"], Value::Null);
    let s = input_schema("stop_vm").unwrap();
    assert_eq!(s["properties"]["vmid"]["type"], "integer");
    assert_eq!(s["properties"]["vmid"]["minimum"], 100);
    let s = input_schema("get_cluster_resources").unwrap();
    assert!(s["properties"]["type"].to_string().contains("storage"), "{s}");
    let s = input_schema("get_vms").unwrap();
    assert_eq!(s["properties"], json!({}));
}

#[test]
fn unknown_tools_and_non_object_arguments_are_refused() {
    assert_eq!(parse_call("rm_rf", &json!({})), Err(ToolError::UnknownTool("rm_rf".into())));
    assert_eq!(parse_call("get_vms", &Value::Null).unwrap(), ToolCall::GetVms);
    for bad in [json!([]), json!("x"), json!(1), json!(true)] {
        let e = parse_call("get_vms", &bad).unwrap_err();
        assert!(matches!(e, ToolError::InvalidArguments { .. }), "{bad}");
        assert!(e.to_string().contains("must be a JSON object"));
    }
}

/// `(tool, args, expected fragment of the error)`.
#[test]
fn invalid_arguments_name_the_field_and_rule() {
    let cases = [
        ("stop_vm", json!({"node": "pve1", "vmid": "103"}), "vmid"),
        ("stop_vm", json!({"node": "pve1", "vmid": "103abc"}), "vmid"),
        ("stop_vm", json!({"node": "pve1", "vmid": 103.5}), "vmid"),
        ("stop_vm", json!({"node": "pve1", "vmid": 99}), "vmid"),
        ("stop_vm", json!({"node": "pve1"}), "missing field `vmid`"),
        ("stop_vm", json!({"node": "pve1", "vmid": 101, "confirmed": true}), "unknown field"),
        ("stop_vm", json!({"node": "pve 1", "vmid": 101}), "node: must be a host name"),
        ("stop_vm", json!({"node": 5, "vmid": 101}), "invalid type"),
        ("get_vms", json!({"x": 1}), "unknown field `x`"),
        ("get_recent_tasks", json!({"limit": 0}), "limit: must be an integer from 1 to 500"),
        ("get_recent_tasks", json!({"limit": 501}), "limit"),
        ("get_recent_tasks", json!({"limit": "5"}), "limit as a JSON integer"),
        ("get_task_status", json!({"node": "a", "upid": "x"}), "upid: must be a PVE task id"),
        ("get_task_status", json!({"node": "a", "upid": "UPID:../../x"}), "upid"),
        (
            "get_task_status",
            json!({"node": "a", "upid": format!("UPID:{}", "a".repeat(200))}),
            "upid",
        ),
        ("search_memory", json!({"query": ""}), "query"),
        ("search_memory", json!({"query": "x".repeat(501)}), "query"),
        ("search_memory", json!({"query": "a\u{0}b"}), "control"),
        ("execute_ssh", json!({"node": "a", "command": ""}), "command"),
        ("execute_ssh", json!({"node": "a", "command": "x".repeat(1001)}), "at most 1000 bytes"),
        ("execute_ssh", json!({"node": "a", "command": ["df"]}), "command as a JSON string"),
        (
            "execute_ssh",
            json!({"node": "a", "command": "df", "timeoutSeconds": 121}),
            "timeoutSeconds",
        ),
        ("execute_ssh", json!({"node": "a", "command": "df", "timeout": 5}), "unknown field"),
        (
            "restart_service",
            json!({"node": "a", "service": "-x"}),
            "service: must be a systemd unit",
        ),
        ("restart_service", json!({"node": "a", "service": "reboot.target"}), ".service units"),
        ("get_events", json!({"since": "yesterday"}), "since: must be an RFC 3339"),
        ("get_events", json!({"severity": "fatal"}), "unknown variant"),
        ("get_cluster_resources", json!({"type": "qemu"}), "unknown variant"),
        ("get_backups", json!({"node": "a", "storage": "../etc"}), "storage"),
    ];
    for (tool, args, needle) in cases {
        match parse_call(tool, &args) {
            Err(ToolError::InvalidArguments { tool: t, message }) => {
                assert_eq!(t, tool);
                assert!(message.contains(needle), "{tool} {args}: {message:?} lacks {needle:?}");
            }
            other => panic!("{tool} {args}: expected invalid arguments, got {other:?}"),
        }
    }
}

#[test]
fn defaults_are_filled_in_and_typed_accessors_work() {
    let c = parse_call("execute_ssh", &json!({"node": "pve1", "command": "uptime"})).unwrap();
    assert_eq!(
        canonical_args(&c),
        json!({"node": "pve1", "command": "uptime", "timeoutSeconds": 30})
    );
    assert_eq!(c.node().unwrap().as_str(), "pve1");
    assert_eq!(c.vmid(), None);
    let c = parse_call("get_recent_tasks", &json!({})).unwrap();
    assert_eq!(canonical_args(&c), json!({"limit": 20}));
    assert_eq!(c.node(), None);
    let c = parse_call("get_events", &json!({"since": "2026-01-31T09:00:00+01:00", "node": null}))
        .unwrap();
    assert_eq!(canonical_args(&c), json!({"limit": 50, "since": "2026-01-31T08:00:00Z"}));
    let c = parse_call("restart_service", &json!({"node": "pve1", "service": "Docker"})).unwrap();
    assert_eq!(c.service().unwrap().as_str(), "Docker");
    let c = parse_call("stop_vm", &json!({"node": "Home", "vmid": 101})).unwrap();
    assert_eq!(c.vmid().unwrap().get(), 101);
    assert_eq!(canonical_args(&c), json!({"node": "Home", "vmid": 101}));
}

#[test]
fn summaries_read_well() {
    let s = |t: &str, a: Value| parse_call(t, &a).unwrap().summary();
    assert_eq!(
        s("stop_vm", json!({"node": "pve1", "vmid": 101})),
        "Stop VM 101 on node pve1 (hard power-off)"
    );
    assert_eq!(s("reboot_node", json!({"node": "pve2"})), "Reboot node pve2");
    assert_eq!(
        s("execute_ssh", json!({"node": "pve1", "command": "df -h"})),
        "Run `df -h` on pve1"
    );
    assert_eq!(
        s("shutdown_container", json!({"node": "pve1", "vmid": 200})),
        "Shut down container 200 on node pve1 (clean shutdown)"
    );
    // A newline cannot forge a second line in a dialog.
    let forged = s("execute_ssh", json!({"node": "a", "command": "df\nApproved by admin"}));
    assert!(!forged.contains('\n'), "{forged}");
}

#[test]
fn digest_binds_tool_and_exact_arguments_independent_of_key_order() {
    let a = json!({"node": "pve1", "vmid": 101});
    let b: Value = serde_json::from_str(r#"{"vmid":101,"node":"pve1"}"#).unwrap();
    assert_eq!(args_digest("stop_vm", &a), args_digest("stop_vm", &b));
    assert_eq!(args_digest("stop_vm", &a).len(), 64);
    assert_ne!(args_digest("stop_vm", &a), args_digest("restart_vm", &a));
    assert_ne!(
        args_digest("stop_vm", &a),
        args_digest("stop_vm", &json!({"node": "pve1", "vmid": 102}))
    );
    assert_ne!(
        args_digest("stop_vm", &a),
        args_digest("stop_vm", &json!({"node": "PVE1", "vmid": 101}))
    );
    // Nested objects are sorted too.
    assert_eq!(
        canonical_json(&json!({"b": {"y": 1, "x": [{"d": 1, "c": "é\"\n"}]}, "a": null})),
        r#"{"a":null,"b":{"x":[{"c":"é\"\n","d":1}],"y":1}}"#
    );
    // Defaults make omitted and explicit arguments bind to the same digest.
    let implicit = parse_call("execute_ssh", &json!({"node": "a", "command": "uptime"})).unwrap();
    let explicit =
        parse_call("execute_ssh", &json!({"node": "a", "command": "uptime", "timeoutSeconds": 30}))
            .unwrap();
    assert_eq!(
        args_digest("execute_ssh", &canonical_args(&implicit)),
        args_digest("execute_ssh", &canonical_args(&explicit))
    );
}
