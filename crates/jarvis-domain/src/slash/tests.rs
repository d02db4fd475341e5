//! Slash command tests: every command's tool call (checked through `parse_call`), the operator's
//! error texts, and rendering of realistic tool results.

use serde_json::json;

use super::*;
use crate::prompt::fixtures::small;
use crate::tools::descriptor;

fn run(input: &str) -> Result<SlashCommand, SlashError> {
    parse(input, &small()).expect("a slash command")
}

fn tool(input: &str) -> (&'static str, Value, Option<String>) {
    match run(input) {
        Ok(SlashCommand::Tool { tool, args, filter }) => (tool, args, filter),
        other => panic!("{input}: {other:?}"),
    }
}

fn error(input: &str) -> String {
    match run(input) {
        Err(e) => e.to_string(),
        Ok(c) => panic!("{input}: expected an error, got {c:?}"),
    }
}

#[test]
fn every_command_maps_to_a_registry_tool_with_valid_arguments() {
    // (input, tool, args, filter); guests 100/101 are VMs on pve1, 200 is a container on pve1,
    // 201 a container on pve2.
    let cases: &[(&str, &str, Value, Option<&str>)] = &[
        ("/status", "get_cluster_status", json!({}), None),
        ("/nodes", "get_cluster_resources", json!({"type": "node"}), None),
        ("/node pve2", "get_node_status", json!({"node": "pve2"}), None),
        ("/node PVE2", "get_node_status", json!({"node": "pve2"}), None),
        ("/vms", "get_cluster_resources", json!({"type": "vm"}), None),
        ("/vms  web   server ", "get_cluster_resources", json!({"type": "vm"}), Some("web server")),
        ("/vm 101", "get_cluster_resources", json!({"type": "vm"}), Some("101")),
        ("/config 200", "get_guest_config", json!({"node": "pve1", "vmid": 200}), None),
        ("/start 101", "start_vm", json!({"node": "pve1", "vmid": 101}), None),
        ("/start 200", "start_container", json!({"node": "pve1", "vmid": 200}), None),
        ("/stop 102", "stop_vm", json!({"node": "pve2", "vmid": 102}), None),
        ("/stop 201", "stop_container", json!({"node": "pve2", "vmid": 201}), None),
        ("/shutdown 103", "shutdown_vm", json!({"node": "pve2", "vmid": 103}), None),
        ("/shutdown 200", "shutdown_container", json!({"node": "pve1", "vmid": 200}), None),
        ("/reboot 100", "restart_vm", json!({"node": "pve1", "vmid": 100}), None),
        ("/reboot 201", "restart_container", json!({"node": "pve2", "vmid": 201}), None),
        ("/storage", "get_storage", json!({}), None),
        ("/temps pve1", "get_node_temperature", json!({"node": "pve1"}), None),
        ("/tasks", "get_recent_tasks", json!({"limit": 15}), None),
        ("/tasks pve1", "get_recent_tasks", json!({"limit": 15, "node": "pve1"}), None),
        ("/events", "get_events", json!({"limit": 20}), None),
        ("/events 5", "get_events", json!({"limit": 5}), None),
        ("/events Critical 50", "get_events", json!({"limit": 50, "severity": "critical"}), None),
        ("/events alert", "get_events", json!({"limit": 20, "type": "alert"}), None),
        ("/wake pve3", "wake_node", json!({"node": "pve3"}), None),
        // Case-insensitive command, surrounding whitespace tolerated.
        ("  /START\t101  ", "start_vm", json!({"node": "pve1", "vmid": 101}), None),
        ("/Status", "get_cluster_status", json!({}), None),
    ];
    for (input, want_tool, want_args, want_filter) in cases {
        let (tool, args, filter) = tool(input);
        assert_eq!(
            (tool, &args, filter.as_deref()),
            (*want_tool, want_args, *want_filter),
            "{input}"
        );
        assert!(descriptor(tool).is_some(), "{input}: {tool} is not registered");
        crate::tools::parse_call(tool, &args).unwrap_or_else(|e| panic!("{input}: {e}"));
    }
    assert_eq!(run("/help"), Ok(SlashCommand::Help));
    assert_eq!(run(" /HELP "), Ok(SlashCommand::Help));
    assert_eq!(run("/"), Ok(SlashCommand::Help));
}

#[test]
fn every_listed_command_parses() {
    for spec in SLASH_COMMANDS {
        // Fill each placeholder with something valid in the fixture.
        let input =
            spec.usage.replace("<vmid>", "101").replace("<name>", "pve1").replace("<node>", "pve1");
        let input: String = input.split(" [").next().unwrap_or_default().to_owned();
        assert!(run(&input).is_ok(), "{input}: {:?}", run(&input));
        assert!(spec.usage.starts_with(&format!("/{}", spec.command)));
        assert!(help_text().contains(&format!("`{}`", spec.usage)));
    }
}

#[test]
fn non_commands_are_not_parsed() {
    let snapshot = small();
    for input in ["", "hello", "what about /status?", "/etc/hosts looks odd", "  /var/log/syslog"] {
        assert!(parse(input, &snapshot).is_none(), "{input}");
    }
}

#[test]
fn errors_tell_the_operator_what_to_do() {
    let cases = [
        ("/start", "/start needs a VM id, e.g. /start 100"),
        ("/start abc", "/start needs a VM id, e.g. /start 100 (got `abc`)"),
        ("/start 5", "/start needs a VM id, e.g. /start 100 (got `5`)"),
        ("/stop -1", "/stop needs a VM id, e.g. /stop 100 (got `-1`)"),
        ("/start 999", "no guest 999 in the cluster; /vms lists them"),
        (
            "/start 101 extra",
            "too many arguments for /start (unexpected `extra`); usage: /start <vmid>",
        ),
        ("/status now", "too many arguments for /status (unexpected `now`); usage: /status"),
        ("/temps", "/temps needs a node name, e.g. /temps pve1"),
        ("/node mars", "no node `mars` in the cluster; /nodes lists them"),
        ("/tasks mars", "no node `mars` in the cluster; /nodes lists them"),
        (
            "/events lots",
            "/events needs a count (1-500), a severity (info, warning, error, critical) or a \
             type (alert, action, status, metric), e.g. /events 20 critical (got `lots`)",
        ),
        ("/strat 101", "unknown command /strat. Did you mean /start? /help lists every command."),
        (
            "/restart 101",
            "unknown command /restart. Did you mean /reboot? /help lists every command.",
        ),
        ("/stat", "unknown command /stat. Did you mean /status? /help lists every command."),
        ("/xyzzy", "unknown command /xyzzy. /help lists every command."),
        ("/?", "unknown command /?. Did you mean /help? /help lists every command."),
    ];
    for (input, want) in cases {
        assert_eq!(error(input), want, "{input}");
    }
    // Out-of-range values are refused by the tool's own schema, named.
    let e = error("/events 0");
    assert!(e.starts_with("cannot run /events: invalid arguments for `get_events`: limit"), "{e}");
}

#[test]
fn typed_text_is_neutralised_in_errors() {
    let e = error("/xy\u{202E}z\nfoo");
    assert!(!e.contains('\n') && !e.contains('\u{202E}'), "{e}");
    let e = error(&format!("/node {}", "n".repeat(200)));
    assert!(e.len() < 120, "{e}");
}

#[test]
fn guest_commands_resolve_from_the_snapshot_case_and_all() {
    let mut snapshot = small();
    snapshot.nodes[1].name = "Home".into();
    snapshot.vms.iter_mut().filter(|v| v.node == "pve2").for_each(|v| v.node = "Home".into());
    let parsed = parse("/stop 102", &snapshot).expect("command").expect("valid");
    assert_eq!(
        parsed,
        SlashCommand::Tool {
            tool: "stop_vm",
            args: json!({"node": "Home", "vmid": 102}),
            filter: None
        }
    );
    let parsed = parse("/node home", &snapshot).expect("command").expect("valid");
    assert!(matches!(parsed, SlashCommand::Tool { args, .. } if args == json!({"node": "Home"})));
    // A single-node cluster needs no node argument.
    snapshot.nodes.truncate(1);
    let parsed = parse("/temps", &snapshot).expect("command").expect("valid");
    assert!(matches!(parsed, SlashCommand::Tool { args, .. } if args == json!({"node": "pve1"})));
}

#[test]
fn renders_cluster_status() {
    let result = json!({
        "quorum": {"quorate": true, "nodes": 2, "expected": 3, "clusterName": "homelab"},
        "nodes": [
            {"name": "pve1", "status": "online", "cpu": 0.12, "mem": 8589934592u64, "maxmem": 34359738368u64, "uptime": 273600},
            {"name": "pve3", "status": "offline", "cpu": 0.0, "mem": 0, "maxmem": 0, "uptime": 0},
        ],
        "guests": {"total": 6, "running": 4},
        "freshness": {"updatedAt": "2026-01-31T09:29:18Z", "stale": true, "error": "PVE timed out"},
    });
    let out = render_result("get_cluster_status", &result);
    assert_eq!(
        out,
        "**Cluster homelab**: quorate (2/3 votes) · 6 guests, 4 running\n\n\
         **Warning:** this data is stale (last refreshed 2026-01-31 09:29:18 UTC): PVE timed out\n\n\
         | Node | Status | CPU | Memory | Uptime |\n|---|---|---|---|---|\n\
         | pve1 | online | 12% | 8.0/32.0 GiB | 3d 4h |\n\
         | pve3 | **offline** | 0% | 0 B | 0s |\n"
    );
}

#[test]
fn renders_guest_lists_filters_and_single_guests() {
    let vms = json!({"vms": serde_json::to_value(&small().vms).expect("serializable")});
    let all = render_result("get_cluster_resources", &vms);
    assert!(all.starts_with("**6 guests**, 4 running\n\n| ID | Name |"), "{all}");
    assert!(all.contains("| 102 | db | VM | pve2 | stopped | – | 2.0 GiB |"), "{all}");
    assert!(all.contains("| 200 | dns | CT | pve1 | running | 5% | 1.0/2.0 GiB |"), "{all}");

    let render = |input: &str| run(input).expect("valid").render(&vms);
    let ct = render("/vms ct");
    assert!(ct.starts_with("**2 guests**, 1 running"), "{ct}");
    let on_pve2 = render("/vms PVE2");
    assert!(on_pve2.starts_with("**3 guests**, 1 running"), "{on_pve2}");
    assert!(render("/vms stopped").contains("**102 db** (VM on pve2)\n- Status: stopped"));
    assert_eq!(render("/vms nothing-like-this"), "No guests match `nothing-like-this`.");
    assert_eq!(
        render("/vm 101"),
        "**101 web** (VM on pve1)\n- Status: running, up 1d 0h\n- CPU: 5% of 2 cores\n\
         - Memory: 1.0/2.0 GiB\n- Disk: 32.0 GiB\n"
    );
}

#[test]
fn renders_markdown_safely() {
    let mut snapshot = small();
    snapshot.vms[0].name = "evil|name](http://x)\n# SYSTEM".into();
    let out = render_result("get_vms", &serde_json::to_value(&snapshot.vms).expect("json"));
    assert!(out.contains("| evil\\|name\\](http://x) \\# SYSTEM |"), "{out}");
    assert!(!out.lines().any(|l| l.starts_with("# ")), "{out}");

    // Titles are one line and escaped, but not cut to a name's length.
    let title = format!("Disk *full*\non {}", "x".repeat(100));
    let events = json!({"events": [{"type": "alert", "severity": "warning", "title": title,
        "timestamp": "2026-01-31T09:12:00Z", "resolved": true}]});
    let out = render_result("get_events", &events);
    assert_eq!(
        out,
        format!(
            "- 2026-01-31 09:12 **warning** alert: Disk \\*full\\* on {} (resolved)\n",
            "x".repeat(100)
        )
    );
}

#[test]
fn renders_nodes_storage_and_temperatures() {
    let snapshot = small();
    let nodes = json!({"nodes": serde_json::to_value(&snapshot.nodes).expect("json")});
    let out = render_result("get_cluster_resources", &nodes);
    assert!(
        out.contains("| pve1 | online | 12% of 16 | 8.0/32.0 GiB | 20% | 3d 4h | 54 °C |"),
        "{out}"
    );
    assert!(out.contains("| pve2 | online | 48% of 16 | 20.0/64.0 GiB | 20% | 3d 4h | – |"));

    let storage = serde_json::to_value(&snapshot.storage).expect("json");
    let out = render_result("get_storage", &storage);
    assert!(out.contains("| local-lvm | pve1 | lvmthin | 120.0/450.0 GiB | 27% | available |"));
    assert!(out.contains("| nfs-backup | pve2 (shared) | nfs | 0.9/2.0 TiB | 44% | available |"));

    let temps =
        json!({"node": "pve1", "zones": {"coretemp/Package id 0": 54.0, "nvme/Composite": 41.85}});
    assert_eq!(
        render_result("get_node_temperature", &temps),
        "**Temperatures on pve1**\n- coretemp/Package id 0: 54.0 °C\n- nvme/Composite: 41.9 °C\n"
    );
    assert_eq!(
        render_result("get_node_temperature", &json!({"node": "vm1", "zones": {}})),
        "No temperature sensors reported on **vm1**."
    );
}

#[test]
fn renders_node_status_tasks_and_events() {
    let status = json!({
        "cpu": 0.07, "wait": 0.0, "idle": 0.0, "loadavg": [0.52, 0.61, 0.7],
        "memory": {"used": 8589934592u64, "total": 34359738368u64, "free": 1},
        "swap": null, "rootfs": {"used": 21474836480u64, "total": 107374182400u64},
        "uptime": 273600, "cpuinfo": {"model": "AMD Ryzen 7 5700G", "cpus": 16},
        "kversion": "Linux 6.8.12-4-pve", "pveversion": "pve-manager/8.3.0",
    });
    assert_eq!(
        render_result("get_node_status", &status),
        "**Node status**\n- CPU: 7% of 16 threads (AMD Ryzen 7 5700G)\n- Load: 0.52 / 0.61 / 0.70\n\
         - Memory: 8.0/32.0 GiB (25%)\n- Root disk: 20.0/100.0 GiB (20%)\n- Uptime: 3d 4h\n\
         - PVE: pve-manager/8.3.0\n- Kernel: Linux 6.8.12-4-pve\n"
    );

    let tasks = json!([
        {"upid": "UPID:pve1:1:2:3:qmstart:101:root@pam:", "node": "pve1", "type": "qmstart", "id": "101",
         "user": "root@pam", "status": "OK", "starttime": 1769851800, "endtime": 1769851802},
        {"upid": "UPID:pve2:1:2:3:vzdump::root@pam:", "node": "pve2", "type": "vzdump", "user": "root@pam",
         "starttime": 1769851000},
    ]);
    let out = render_result("get_recent_tasks", &tasks);
    assert!(out.contains("| 2026-01-31 09:30 | pve1 | qmstart | 101 | root@pam | OK |"), "{out}");
    assert!(out.contains("| pve2 | vzdump | – | root@pam | running |"), "{out}");

    let events = json!({"events": [{
        "id": "e1", "type": "alert", "severity": "critical", "title": "Node pve3 offline",
        "message": "no answer for 5 min", "node": "pve3", "source": "monitor",
        "timestamp": "2026-01-31T09:12:00Z", "resolved": false,
    }]});
    assert_eq!(
        render_result("get_events", &events),
        "- 2026-01-31 09:12 **critical** alert on pve3: Node pve3 offline\n"
    );
    assert_eq!(render_result("get_events", &json!({"events": []})), "No events.");
}

#[test]
fn renders_actions() {
    let ok = json!({"node": "pve1", "vmid": 101, "action": "start",
        "upid": "UPID:pve1:1:2:3:qmstart:101:root@pam:", "status": "OK"});
    assert_eq!(render_result("start_vm", &ok), "Started guest **101** on **pve1** (task OK).");
    let failed = json!({"node": "pve2", "vmid": 201, "action": "shutdown", "upid": "UPID:x", "status": "command 'lxc-stop' failed: exit code 1"});
    assert_eq!(
        render_result("shutdown_container", &failed),
        "The shutdown task for guest **201** on **pve2** failed: command 'lxc-stop' failed: exit code 1"
    );
    assert_eq!(
        render_result(
            "wake_node",
            &json!({"node": "pve3", "action": "wake", "mac": "aa:bb:cc:dd:ee:ff"})
        ),
        "Wake-on-LAN sent to **pve3** (aa:bb:cc:dd:ee:ff)."
    );
    let config =
        json!({"cores": 2, "memory": "2048", "net0": "virtio=AA:BB,bridge=vmbr0", "digest": "abc"});
    assert_eq!(
        render_result("get_guest_config", &config),
        "**Guest configuration**\n- cores: `2`\n- memory: `2048`\n- net0: `virtio=AA:BB,bridge=vmbr0`\n"
    );
    let ssh = json!({"node": "pve1", "command": "df -h", "exitCode": 0, "stdout": "Filesystem Size\n```\n",
        "stderr": "", "truncated": false, "durationMs": 12});
    assert_eq!(
        render_result("execute_ssh", &ssh),
        "`df -h` on **pve1** (exit 0)\n\n````text\nFilesystem Size\n```\n````"
    );
}

#[test]
fn unknown_shapes_fall_back_to_compact_json() {
    assert_eq!(render_result("get_backups", &json!({"a": 1})), "```json\n{\"a\":1}\n```");
    assert_eq!(
        render_result("get_vms", &json!({"unexpected": true})),
        "```json\n{\"unexpected\":true}\n```"
    );
    let big = json!({"text": "x".repeat(10_000)});
    assert!(render_result("nope", &big).len() < 3_100);
    assert_eq!(SlashCommand::Help.render(&Value::Null), help_text());
}

#[test]
fn suggestions_are_only_obvious_ones() {
    assert_eq!(suggest("strat"), Some("start"));
    assert_eq!(suggest("storag"), Some("storage"));
    assert_eq!(suggest("temperature"), Some("temps"));
    assert_eq!(suggest("s"), None, "ambiguous prefix");
    assert_eq!(suggest("xyzzy"), None);
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("", "abc"), 3);
}
