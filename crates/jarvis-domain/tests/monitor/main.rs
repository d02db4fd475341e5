//! The monitor machine against scripted scenarios on a virtual clock: golden timelines
//! (`scenarios/*.scn` → `*.golden`; `UPDATE_GOLDEN=1` rewrites them, so a change in behaviour
//! shows up as a golden diff in review) and property tests over random scenarios.

mod script;
mod world;

use std::path::PathBuf;

use chrono::Duration;
use jarvis_domain::cluster::GuestType;
use jarvis_domain::monitor::{AutonomyLevel, IncidentState, NoticeKind};
use proptest::prelude::*;

use world::World;

fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/monitor/scenarios")
}

#[test]
fn golden_scenarios() {
    let mut names: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("scenarios directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "scn"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "at least 10 golden scenarios, found {}", names.len());
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for path in names {
        let text = std::fs::read_to_string(&path).unwrap();
        let world = match script::run_script(&text) {
            Ok(w) => w,
            Err(e) => {
                failures.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        if !world.tally.violations.is_empty() {
            failures.push(format!(
                "{}: guardrail violations {:?}",
                path.display(),
                world.tally.violations
            ));
        }
        let mut out = world.log.join("\n");
        out.push('\n');
        out.push_str(&world.summary().join("\n"));
        out.push('\n');
        let golden = path.with_extension("golden");
        if update {
            std::fs::write(&golden, &out).unwrap();
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(want) if want == out => {}
            Ok(want) => {
                let diff: Vec<String> = want
                    .lines()
                    .zip(out.lines())
                    .enumerate()
                    .filter(|(_, (a, b))| a != b)
                    .take(5)
                    .map(|(i, (a, b))| {
                        format!("  line {}:\n    golden: {a}\n    now:    {b}", i + 1)
                    })
                    .collect();
                failures.push(format!(
                    "{} differs from its golden file (UPDATE_GOLDEN=1 to accept):\n{}{}",
                    path.display(),
                    diff.join("\n"),
                    if want.lines().count() != out.lines().count() {
                        "\n  (line counts differ)"
                    } else {
                        ""
                    }
                ));
            }
            Err(_) => failures
                .push(format!("{}: no golden file (run with UPDATE_GOLDEN=1)", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---- property tests: random days of a small cluster ----

#[derive(Debug, Clone)]
enum Step {
    Crash(u32),
    OperatorStop(u32),
    JarvisStop(u32),
    Start(u32),
    FailStarts(u32, u32),
    NodeOff(usize),
    NodeOn(usize),
    Cpu(usize, f64),
    Disk(usize, f64),
    Backup(u32),
    Kill(bool),
    Level(u8),
    Restart,
    Ack,
    Wait(i64),
}

const GUESTS: [u32; 4] = [101, 102, 103, 104];
const NODES: [&str; 3] = ["pve1", "pve2", "pve3"];

fn step() -> impl Strategy<Value = Step> {
    let g = prop::sample::select(GUESTS.to_vec());
    prop_oneof![
        4 => g.clone().prop_map(Step::Crash),
        1 => g.clone().prop_map(Step::OperatorStop),
        1 => g.clone().prop_map(Step::JarvisStop),
        2 => g.clone().prop_map(Step::Start),
        1 => (g.clone(), 1u32..5).prop_map(|(v, n)| Step::FailStarts(v, n)),
        1 => (0usize..3).prop_map(Step::NodeOff),
        1 => (0usize..3).prop_map(Step::NodeOn),
        2 => (0usize..3, prop::sample::select(vec![20.0, 80.0, 90.0, 97.0, 99.0])).prop_map(|(n, v)| Step::Cpu(n, v)),
        1 => (0usize..3, prop::sample::select(vec![50.0, 86.0, 92.0, 97.0])).prop_map(|(n, v)| Step::Disk(n, v)),
        1 => g.prop_map(Step::Backup),
        1 => any::<bool>().prop_map(Step::Kill),
        1 => (0u8..=4).prop_map(Step::Level),
        1 => Just(Step::Restart),
        1 => Just(Step::Ack),
        6 => (10i64..1800).prop_map(Step::Wait),
    ]
}

fn small_world(level: u8) -> World {
    let mut w = World::new(AutonomyLevel::try_from(level).unwrap());
    w.log_events = false;
    for n in NODES {
        w.add_node(n);
    }
    for (i, vmid) in GUESTS.iter().enumerate() {
        let kind = if i % 2 == 0 { GuestType::Qemu } else { GuestType::Lxc };
        w.add_guest(*vmid, kind, &format!("g{vmid}"), NODES[i % 3], true);
    }
    w
}

fn play(w: &mut World, steps: &[Step]) {
    w.run_until(w.now + Duration::seconds(30));
    for s in steps {
        let running = |w: &mut World, v: u32| {
            w.vm_mut(v).status == jarvis_domain::cluster::GuestStatus::Running
        };
        match s {
            Step::Crash(v) if running(w, *v) => w.crash(*v),
            Step::OperatorStop(v) if running(w, *v) => w.operator_stop(*v, "qmshutdown"),
            Step::JarvisStop(v) if running(w, *v) => w.jarvis_stop(*v),
            Step::Start(v) if !running(w, *v) => w.operator_start(*v),
            Step::FailStarts(v, n) => {
                w.fail_starts.insert(*v, *n);
            }
            Step::NodeOff(n) => w.node_off(NODES[*n]),
            Step::NodeOn(n) => w.node_on(NODES[*n]),
            Step::Cpu(n, v) => w.node_mut(NODES[*n]).cpu = v / 100.0,
            Step::Disk(n, v) => {
                let node = w.node_mut(NODES[*n]);
                node.disk = (node.maxdisk as f64 * v / 100.0) as u64;
            }
            Step::Backup(v) if running(w, *v) => w.backup(*v, "stop", 10, false),
            Step::Kill(on) => w.kill = *on,
            Step::Level(l) => w.set_level(AutonomyLevel::try_from(*l).unwrap()),
            Step::Restart => w.restart(),
            Step::Ack => {
                if let Some(key) = w
                    .incidents
                    .values()
                    .find(|i| i.state == IncidentState::Open && w.latest.get(&i.key) == Some(&i.id))
                    .map(|i| i.key.clone())
                {
                    w.ack(&key);
                }
            }
            Step::Wait(secs) => {
                let until = w.now + Duration::seconds(*secs);
                w.run_until(until);
            }
            _ => {}
        }
    }
    let until = w.now + Duration::hours(2);
    w.run_until(until);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    /// Never two opening notifications for one episode of an incident, never a resolution
    /// notice without an opening one, never more attempts than the runbook allows in an hour,
    /// nothing submitted while the kill switch is on or below level 2, and one remediation at a
    /// time — whatever happens, including restarts of Jarvis.
    #[test]
    fn guardrails_and_notification_invariants_hold(level in 0u8..=4, steps in prop::collection::vec(step(), 1..40)) {
        let mut w = small_world(level);
        play(&mut w, &steps);
        prop_assert!(w.tally.violations.is_empty(), "{:?}", w.tally.violations);
        for inc in w.incidents.values() {
            let n = |k: NoticeKind| w.tally.notices.get(&(inc.id.clone(), k)).copied().unwrap_or(0);
            let openings = n(NoticeKind::Opened) + n(NoticeKind::Reopened);
            prop_assert!(openings <= inc.occurrences, "{}: {openings} openings for {} occurrences", inc.key, inc.occurrences);
            prop_assert!(n(NoticeKind::Opened) <= 1, "{}: opened twice", inc.key);
            prop_assert!(n(NoticeKind::Resolved) <= openings, "{}: resolved notices without openings", inc.key);
            prop_assert!(n(NoticeKind::Escalated) <= inc.occurrences, "{}: escalated more than once per episode", inc.key);
        }
        // Attempts (actions that ran or were proposed and not withdrawn) in any sliding hour
        // per incident key.
        let mut by_key: std::collections::BTreeMap<&str, Vec<chrono::DateTime<chrono::Utc>>> = Default::default();
        for (key, at, _, id) in &w.tally.runs {
            if w.actions.get(id).is_some_and(|a| a.counts_as_attempt()) {
                by_key.entry(key.as_str()).or_default().push(*at);
            }
        }
        for (key, times) in by_key {
            for (i, t) in times.iter().enumerate() {
                let in_hour = times[i..].iter().filter(|u| **u - *t < Duration::hours(1)).count();
                prop_assert!(in_hour <= 3, "{key}: {in_hour} attempts within an hour from {t}");
            }
        }
    }

    /// With the kill switch on from the start, nothing is ever submitted.
    #[test]
    fn kill_switch_means_no_action_effect(level in 0u8..=4, steps in prop::collection::vec(step(), 1..30)) {
        let mut w = small_world(level);
        w.kill = true;
        let steps: Vec<Step> = steps.into_iter().filter(|s| !matches!(s, Step::Kill(_))).collect();
        play(&mut w, &steps);
        prop_assert!(w.tally.runs.is_empty(), "submitted: {:?}", w.tally.runs);
    }
}
