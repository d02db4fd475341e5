//! The per-node SSH servers, through a real SSH client (russh's client side): host key pinning,
//! exec answers that match the node and the model, the temperature script, systemctl,
//! authorized keys, offline nodes, and concurrent channels.

use std::time::{Duration, Instant};

use jarvis_sim::SimConfig;

use crate::common::{data, start, test_config};
use crate::ssh_client::{auth, connect, exec, key, login, public_line};

use jarvis_domain::{TEMPERATURE_COMMAND, parse_temperatures};

/// A variant of the temperature script wrapped the way a re-quoting client would send it.
const QUOTED_SCRIPT: &str = "'sh' '-c' 'for z in /sys/class/thermal/thermal_zone*; do \
[ -r \"$z/temp\" ] && echo \"zone:$(cat $z/type) $(cat $z/temp)\"; done; \
for h in /sys/class/hwmon/hwmon*; do n=$(cat $h/name); for t in $h/temp*_input; do \
l=$(cat ${t%_input}_label 2>/dev/null || basename $t); echo \"hwmon:$n/$l $(cat $t)\"; done; done'";

fn parse_temps(out: &str) -> Vec<(String, i64)> {
    out.lines()
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap_or_else(|| panic!("bad line {l:?}"));
            assert!(k.starts_with("zone:") || k.starts_with("hwmon:"), "bad key in {l:?}");
            (k.to_string(), v.parse().unwrap_or_else(|_| panic!("bad value in {l:?}")))
        })
        .collect()
}

#[tokio::test]
async fn each_node_answers_as_itself_with_the_pinned_host_key() {
    let sim = start(test_config()).await;
    let port = sim.ssh_port().expect("ssh is on by default");
    let fp = sim.ssh_host_key_fingerprint().unwrap();
    assert!(fp.starts_with("SHA256:") && fp.len() > 40, "{fp}");
    let known = sim.ssh_known_hosts().unwrap();
    let lines: Vec<&str> = known.lines().collect();
    assert_eq!(lines.len(), 4);
    for (i, line) in lines.iter().enumerate() {
        assert!(
            line.starts_with(&format!("[127.0.1.{}]:{port} ssh-ed25519 AAAA", i + 1)),
            "{line}"
        );
    }
    for node in [0, 1] {
        let (mut h, seen) = connect(&sim, node).await.unwrap();
        assert_eq!(seen, fp, "node {node} presents the sim's host key");
        assert!(auth(&mut h, "root", &key(7)).await);
        let out = exec(&h, "'hostname'").await;
        assert_eq!(
            (out.stdout.as_str(), out.status),
            (format!("pve{}\n", node + 1).as_str(), Some(0))
        );
    }
    assert_eq!(sim.control().ssh_sessions_opened(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn exec_output_agrees_with_the_api() {
    let sim = start(test_config()).await;
    let h = login(&sim, 1).await;
    let status = data(&sim, "/nodes/pve2/status").await;
    let nproc = exec(&h, "'nproc'").await;
    assert_eq!(nproc.stdout.trim(), status["cpuinfo"]["cpus"].to_string());
    let free = exec(&h, "'free' '-b'").await;
    let total: u64 =
        free.stdout.lines().nth(1).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    assert_eq!(total, status["memory"]["total"].as_u64().unwrap());
    let resources = data(&sim, "/cluster/resources?type=vm").await;
    let mut vms: Vec<String> = resources
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["node"] == "pve2" && g["type"] == "qemu")
        .map(|g| g["vmid"].to_string())
        .collect();
    vms.sort();
    let qm = exec(&h, "qm list").await;
    let mut listed: Vec<String> = qm
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, vms, "{}", qm.stdout);
    for (cmd, needle) in [
        ("uptime", "load average:"),
        ("'uname' '-r'", "-pve"),
        ("df -h /", "/dev/mapper/pve-root"),
        ("cat /etc/os-release", "VERSION_CODENAME="),
        ("pveversion", "pve-manager/"),
        ("pvecm status", "Quorate:          Yes"),
        ("cat /proc/loadavg", " "),
        ("lscpu", "Model name:"),
        ("ip addr", "inet 127.0.1.2/24"),
        ("ss -tlnp", ":8006"),
        ("ps aux", "pvedaemon"),
        ("journalctl -u pveproxy -n 3", "pveproxy["),
        ("tail -n 5 /var/log/syslog", " pve2 "),
        ("zpool status", "no pools available"),
    ] {
        let out = exec(&h, cmd).await;
        assert_eq!(out.status, Some(0), "{cmd}: {out:?}");
        assert!(out.stdout.contains(needle), "{cmd} lacks {needle:?}: {}", out.stdout);
    }
    assert_eq!(exec(&h, "journalctl -u pveproxy -n 3").await.stdout.lines().count(), 3);
    assert_eq!(exec(&h, "tail -n 5 /var/log/syslog").await.stdout.lines().count(), 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_temperature_script_gets_parseable_lines_that_move_with_ticks() {
    let sim = start(test_config()).await;
    let h1 = login(&sim, 0).await;
    let h2 = login(&sim, 1).await;
    let amd = exec(&h1, TEMPERATURE_COMMAND).await;
    assert_eq!(amd.status, Some(0), "{amd:?}");
    let before = parse_temps(&amd.stdout);
    // Jarvis' own parser keeps every line (all plausible, no duplicates).
    let parsed = parse_temperatures(&amd.stdout);
    assert_eq!(parsed.len(), before.len(), "{}", amd.stdout);
    assert!(parsed.contains_key("k10temp/Tctl") && parsed.contains_key("nvme/Composite"));
    assert_eq!(exec(&h1, QUOTED_SCRIPT).await.stdout.lines().count(), before.len());
    assert!(before.iter().any(|(k, _)| k == "hwmon:k10temp/Tctl"), "{}", amd.stdout);
    assert!(before.iter().any(|(k, _)| k.starts_with("zone:")));
    assert!(before.iter().all(|(_, v)| (15_000..110_000).contains(v)), "{before:?}");
    let intel = parse_temps(&exec(&h2, TEMPERATURE_COMMAND).await.stdout);
    assert!(intel.iter().any(|(k, _)| k == "hwmon:coretemp/Package id 0"));
    assert!(intel.iter().any(|(k, _)| k == "zone:x86_pkg_temp"));
    for _ in 0..3 {
        sim.control().tick();
    }
    let after = parse_temps(&exec(&h1, TEMPERATURE_COMMAND).await.stdout);
    assert_eq!(before.len(), after.len());
    assert_ne!(before, after, "readings move with ticks");
    let zone0 = exec(&h2, "cat /sys/class/thermal/thermal_zone0/temp").await;
    assert!(zone0.stdout.trim().parse::<i64>().is_ok(), "{zone0:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn systemctl_reports_and_restarts_known_units_only() {
    let sim = start(test_config()).await;
    let h = login(&sim, 0).await;
    let active = exec(&h, "'systemctl' 'is-active' 'pveproxy'").await;
    assert_eq!((active.stdout.as_str(), active.status), ("active\n", Some(0)));
    let status = exec(&h, "systemctl status pveproxy").await;
    assert!(status.stdout.contains("Active: active (running)"), "{}", status.stdout);
    let missing = exec(&h, "systemctl status nope").await;
    assert_eq!(missing.status, Some(4));
    assert!(missing.stderr.contains("Unit nope.service could not be found."));
    let inactive = exec(&h, "systemctl is-active nope").await;
    assert_eq!((inactive.stdout.as_str(), inactive.status), ("inactive\n", Some(3)));

    let t0 = Instant::now();
    let restart = exec(&h, "'systemctl' 'restart' 'docker'").await;
    assert_eq!(
        (restart.stdout.as_str(), restart.stderr.as_str(), restart.status),
        ("", "", Some(0))
    );
    assert!(t0.elapsed() >= Duration::from_millis(250), "a restart takes a moment");
    assert_eq!(sim.control().restarted_services("pve1"), ["docker"]);
    let log = exec(&h, "journalctl -u docker -n 4").await;
    assert!(log.stdout.contains("Started docker.service"), "{}", log.stdout);

    let unknown = exec(&h, "systemctl restart frobd").await;
    assert_eq!(unknown.status, Some(5));
    assert_eq!(unknown.stderr, "Failed to restart frobd.service: Unit frobd.service not found.\n");
    // Docker lives on every other node only.
    let h2 = login(&sim, 1).await;
    assert_eq!(exec(&h2, "systemctl restart docker").await.status, Some(5));
    assert!(sim.control().restarted_services("pve2").is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_commands_exit_127() {
    let sim = start(test_config()).await;
    let h = login(&sim, 2).await;
    let out = exec(&h, "'definitely-not-here' '--now'").await;
    assert_eq!(out.status, Some(127));
    assert_eq!(out.stderr, "bash: definitely-not-here: command not found\n");
    assert_eq!(out.stdout, "");
    sim.shutdown().await;
}

#[tokio::test]
async fn authorized_keys_admit_only_listed_keys() {
    let allowed = key(3);
    let sim = start(SimConfig {
        ssh_authorized_keys: vec![format!("{} alice@laptop", public_line(&allowed))],
        ..test_config()
    })
    .await;
    let (mut h, _) = connect(&sim, 0).await.unwrap();
    assert!(!auth(&mut h, "root", &key(4)).await, "an unlisted key is rejected");
    let (mut h, _) = connect(&sim, 0).await.unwrap();
    assert!(auth(&mut h, "root", &allowed).await);
    assert_eq!(exec(&h, "whoami").await.stdout, "root\n");
    assert_eq!(sim.control().ssh_sessions_opened(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn offline_nodes_refuse_and_cut_ssh() {
    let sim = start(test_config()).await;
    let h = login(&sim, 1).await;
    let ctl = sim.control();
    ctl.set_node_online("pve2", false).unwrap();
    assert!(connect(&sim, 1).await.is_err(), "an offline node refuses connections");
    // The open connection was cut with the node.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !h.is_closed() {
        assert!(Instant::now() < deadline, "connection to the offline node stays open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Other nodes are unaffected, and the node comes back with its SSH server.
    let other = login(&sim, 0).await;
    assert_eq!(exec(&other, "hostname").await.stdout, "pve1\n");
    ctl.set_node_online("pve2", true).unwrap();
    let back = login(&sim, 1).await;
    assert_eq!(exec(&back, "hostname").await.stdout, "pve2\n");
    sim.shutdown().await;
}

#[tokio::test]
async fn concurrent_channels_on_one_connection_are_independent() {
    let sim = start(test_config()).await;
    let h = login(&sim, 3).await;
    let cmds = ["hostname", "uptime -p", "systemctl restart cron", "nproc", "whoami"];
    let runs = cmds.iter().map(|c| exec(&h, c));
    let outs = futures::future::join_all(runs).await;
    for (cmd, out) in cmds.iter().zip(&outs) {
        assert_eq!(out.status, Some(0), "{cmd}: {out:?}");
    }
    assert_eq!(outs[0].stdout, "pve4\n");
    assert!(outs[1].stdout.starts_with("up "));
    assert_eq!(outs[4].stdout, "root\n");
    assert_eq!(sim.control().restarted_services("pve4"), ["cron"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn ssh_can_be_turned_off() {
    let sim = start(SimConfig { ssh: false, ..test_config() }).await;
    assert_eq!(sim.ssh_port(), None);
    assert_eq!(sim.ssh_known_hosts(), None);
    assert_eq!(sim.control().ssh_sessions_opened(), 0);
    sim.shutdown().await;
}
