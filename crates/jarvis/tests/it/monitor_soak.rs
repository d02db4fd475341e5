//! A simulated day (24 h on the virtual clock, in about a minute): random crashes, a flapping
//! CPU, stop-mode backups, a webhook target that is down for six hours, one that never answers
//! and a restart of Jarvis in the middle — notified through a real SMTP server and real HTTP
//! receivers. Every episode of every incident reaches the healthy targets exactly once as an
//! opening and once as a resolution; nothing is lost or doubled by the restart or the outage; no
//! runbook tries more than three times an hour.

use std::collections::BTreeMap;

use chrono::Duration;
use jarvis_domain::monitor::{Incident, IncidentState};
use jarvis_domain::{GuestStatus, GuestType};
use jarvis_sim::{BackupMode, FlapMetric};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use jarvis::db::notifications::NotificationStatus;

use crate::monitor_rig::{Rig, RigOptions};
use crate::notify_servers::{Receiver, Smtp, SmtpOptions, refused_addr};

/// (incident id, kind) → how many times a receiver accepted it (answered 2xx).
fn items(r: &Receiver) -> BTreeMap<(String, String), u32> {
    let mut out = BTreeMap::new();
    for req in r.requests().into_iter().filter(|q| q.method == "POST" && q.status < 300) {
        let body = req.json();
        for item in body["items"].as_array().expect("json payload has items") {
            let id = item["incidentId"].as_str().unwrap_or_default().to_owned();
            let kind = item["kind"].as_str().unwrap_or_default().to_owned();
            *out.entry((id, kind)).or_default() += 1;
        }
    }
    out
}

fn count(m: &BTreeMap<(String, String), u32>, id: &str, kind: &str) -> u32 {
    m.get(&(id.to_owned(), kind.to_owned())).copied().unwrap_or(0)
}

fn running_guests(rig: &Rig) -> Vec<(u32, GuestType)> {
    let snap = rig.sim.control().snapshot();
    snap.vms
        .iter()
        .filter(|v| v.status == GuestStatus::Running && !v.template && v.lock.is_none())
        .map(|v| (v.vmid, v.kind))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_simulated_day_notifies_every_episode_exactly_once_across_outages_and_a_restart() {
    let smtp = Smtp::start(SmtpOptions::default());
    let healthy = Receiver::start().await;
    let flaky = Receiver::start().await;
    flaky.respond(500, "maintenance");
    let dead = refused_addr();
    let opts = RigOptions {
        smtp: Some(format!("smtp://{}?tls=none", smtp.addr)),
        webhooks: vec![
            format!("json:{}", healthy.url("/hook")),
            format!("json:{}", flaky.url("/hook")),
            format!("ntfy:http://{dead}/alerts"),
        ],
        // 30 s steps keep a day quick; the tiers keep their order and proportions.
        intervals: [30, 60, 300, 1800],
        ..RigOptions::default()
    };
    let mut rig = Rig::start(opts).await;
    let mut rng = StdRng::seed_from_u64(0x05ee_dda7);
    let step = Duration::seconds(30);
    let nodes: Vec<String> =
        rig.sim.control().snapshot().nodes.iter().map(|n| n.name.clone()).collect();
    let mut restarted = false;
    for minute in 0..(24 * 60) {
        let hour = minute / 60;
        // The world.
        if rng.random_bool(0.012)
            && let Some(&(vmid, _)) = running_guests(&rig).choose(&mut rng)
        {
            rig.sim.control().crash_guest(vmid).unwrap();
        }
        match (hour, minute % 60) {
            (3, 0) => rig
                .sim
                .control()
                .flap_node_metric(&nodes[1], FlapMetric::Cpu, 0.2, 0.99, 6)
                .unwrap(),
            (4, 30) => rig.sim.control().stop_flap(&nodes[1], None).unwrap(),
            (5 | 13 | 19, 10) => {
                if let Some(&(vmid, _)) = running_guests(&rig).choose(&mut rng) {
                    rig.sim
                        .control()
                        .start_backup(
                            vmid,
                            BackupMode::Stop,
                            std::time::Duration::from_secs(8 * 60),
                        )
                        .unwrap();
                }
            }
            (6, 0) => flaky.respond(200, "ok"),
            _ => {}
        }
        if hour == 12 && !restarted {
            restarted = true;
            rig = rig.restart().await;
        }
        for _ in 0..2 {
            rig.sim.control().tick();
            rig.advance(step).await;
        }
    }
    // Let everything resolve and every retry go out.
    rig.run_for(Duration::hours(3), step).await;
    assert!(restarted);

    let all: Vec<Incident> = rig.core.state.db.incidents(None, 1000).await.unwrap();
    let got = items(&healthy);
    let mut openings_total = 0;
    for inc in &all {
        let openings = count(&got, &inc.id, "opened") + count(&got, &inc.id, "reopened");
        let resolved = count(&got, &inc.id, "resolved");
        let recorded = inc
            .timeline
            .iter()
            .filter(|e| {
                e.detail.ends_with("opened notification queued")
                    || e.detail.ends_with("reopened notification queued")
            })
            .count() as u32;
        assert_eq!(
            openings, recorded,
            "{}: delivered openings match the incident's own record",
            inc.key
        );
        assert!(
            openings <= inc.occurrences,
            "{}: {openings} openings for {} occurrences",
            inc.key,
            inc.occurrences
        );
        assert!(count(&got, &inc.id, "opened") <= 1, "{}: opened twice", inc.key);
        let still_open = inc.state != IncidentState::Resolved;
        assert!(
            resolved <= openings && resolved + u32::from(still_open) >= openings,
            "{}: {openings} openings, {resolved} resolutions (state {:?})",
            inc.key,
            inc.state
        );
        openings_total += openings;
    }
    assert!(openings_total >= 5, "a day of crashes notifies something: {all:#?}");
    assert!(all.iter().any(|i| i.flapping), "the flapping CPU is one flapping incident");
    // The target that was down for six hours got exactly what the healthy one got.
    assert_eq!(items(&flaky), got, "nothing lost or doubled while a target was down");
    // E-mail is grouped like the healthy webhook: one mail per message.
    let messages = healthy.requests().into_iter().filter(|q| q.method == "POST").count();
    assert!(flaky.requests().iter().any(|q| q.status == 500), "the outage was real");
    assert_eq!(smtp.mails().len(), messages);
    // The dead target never delivered and never held the others up.
    let rows = rig.core.state.db.recent_notifications(1000).await.unwrap();
    let dead_rows: Vec<_> = rows.iter().filter(|n| n.target.contains("ntfy")).collect();
    assert!(!dead_rows.is_empty());
    assert!(dead_rows.iter().all(|n| n.status != NotificationStatus::Sent));
    // No runbook tried more than three times within any hour, restart or not.
    let mut starts: BTreeMap<String, Vec<chrono::DateTime<chrono::Utc>>> = BTreeMap::new();
    for a in rig.actions().await.into_iter().filter(|a| a.counts_as_attempt()) {
        starts.entry(a.incident_key.clone()).or_default().push(a.timestamp);
    }
    for (key, times) in starts {
        for t in &times {
            let within =
                times.iter().filter(|u| **u >= *t && **u - *t < Duration::hours(1)).count();
            assert!(within <= 3, "{key}: {within} attempts in an hour from {t}");
        }
    }
}
