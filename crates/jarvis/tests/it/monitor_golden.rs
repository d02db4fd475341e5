//! Golden timelines of the whole server (monitor, pipeline, outbox, real targets) on the rig's
//! virtual clock, for what the domain's golden scenarios cannot show because it happens after
//! the machine: delivery. `golden/*.golden` hold the expected timelines; `UPDATE_GOLDEN=1`
//! rewrites them, so a change in delivery behaviour shows up as a golden diff in review.
//!
//! Lines are `+HH:MM:SS what`, relative to the rig's start; targets are named by role
//! (`smtp`, `json-healthy`, `ntfy-dead`), never by address, so the files are machine-independent.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use jarvis_domain::GuestStatus;

use crate::monitor_rig::{Rig, RigOptions};
use crate::notify_servers::{Receiver, Smtp, SmtpOptions, refused_addr};

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/golden").join(format!("{name}.golden"))
}

/// Compares `got` with the golden file `name` (or rewrites it under `UPDATE_GOLDEN`).
fn check_golden(name: &str, got: &str) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    if want != got {
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines())
            .enumerate()
            .filter(|(_, (w, g))| w != g)
            .take(20)
            .map(|(n, (w, g))| format!("line {}:\n  want: {w}\n  got:  {g}", n + 1))
            .collect();
        panic!(
            "{} differs from its golden file (UPDATE_GOLDEN=1 to accept):\n{}\n(want {} lines, got {})\n--- got\n{got}",
            path.display(),
            diff.join("\n"),
            want.lines().count(),
            got.lines().count()
        );
    }
}

/// Records what changed between two looks at the rig.
struct Recorder {
    start: DateTime<Utc>,
    labels: Vec<(String, &'static str)>,
    incidents: BTreeMap<String, (String, usize)>,
    keys: BTreeMap<String, String>,
    notifications: BTreeMap<i64, String>,
    actions: BTreeMap<String, String>,
    out: String,
}

impl Recorder {
    fn label(&self, target: &str) -> String {
        self.labels
            .iter()
            .find(|(needle, _)| target.contains(needle.as_str()))
            .map_or_else(|| target.to_owned(), |(_, l)| (*l).to_owned())
    }

    fn line(&mut self, at: DateTime<Utc>, what: String) {
        let s = (at - self.start).num_seconds().max(0);
        let _ = writeln!(self.out, "+{:02}:{:02}:{:02} {what}", s / 3600, s / 60 % 60, s % 60);
    }

    async fn look(&mut self, rig: &Rig) {
        let now = rig.now();
        for inc in rig.incidents() {
            let state = word(&inc.state);
            let (seen_state, seen_entries) =
                self.incidents.get(&inc.key).cloned().unwrap_or_default();
            for e in inc.timeline.iter().skip(seen_entries) {
                let line = format!("{} {}: {}", inc.key, word(&e.kind), e.detail);
                self.line(e.at, line);
            }
            if seen_state != state {
                self.line(now, format!("{} is {state}", inc.key));
            }
            self.incidents.insert(inc.key.clone(), (state, inc.timeline.len()));
        }
        // Sticky: the machine forgets resolved incidents after a while, their rows stay.
        self.keys.extend(rig.incidents().into_iter().map(|i| (i.id, i.key)));
        let keys = self.keys.clone();
        let mut rows = rig.core.state.db.recent_notifications(1000).await.unwrap();
        rows.sort_by_key(|r| r.id);
        for r in rows {
            let view = format!(
                "notification {} {} to {}: {} after {} attempt(s){}",
                word(&r.kind),
                r.incident_id.as_ref().and_then(|id| keys.get(id)).map_or("-", String::as_str),
                self.label(&r.target),
                r.status.as_str(),
                r.attempts,
                if r.last_error.is_some() { ", last attempt failed" } else { "" },
            );
            if self.notifications.get(&r.id) != Some(&view) {
                self.line(now, view.clone());
                self.notifications.insert(r.id, view);
            }
        }
        let mut actions = rig.actions().await;
        actions.reverse();
        for a in actions {
            let view = format!("action {} {} {}", a.action, a.args, word(&a.result));
            if self.actions.get(&a.id) != Some(&view) {
                self.line(now, view.clone());
                self.actions.insert(a.id.clone(), view);
            }
        }
    }
}

/// A value's serde word (`"open"`, `"detected"`, …).
fn word<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).unwrap().as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn golden_a_dead_notification_target_retries_alone_and_never_holds_the_others_up() {
    let smtp = Smtp::start(SmtpOptions::default());
    let healthy = Receiver::start().await;
    let dead = refused_addr();
    let mut rig = Rig::start(RigOptions {
        smtp: Some(format!("smtp://{}?tls=none", smtp.addr)),
        webhooks: vec![
            format!("json:{}", healthy.url("/hook")),
            format!("ntfy:http://{dead}/alerts"),
        ],
        guests: 4,
        ..RigOptions::default()
    })
    .await;
    let mut rec = Recorder {
        start: rig.now(),
        labels: vec![
            (smtp.addr.to_string(), "smtp"),
            // Stored webhook targets are masked past the authority: match on host and port.
            (
                healthy.url("").trim_start_matches("http://").trim_end_matches('/').to_owned(),
                "json-healthy",
            ),
            (dead.to_string(), "ntfy-dead"),
        ],
        incidents: BTreeMap::new(),
        keys: BTreeMap::new(),
        notifications: BTreeMap::new(),
        actions: BTreeMap::new(),
        out: String::new(),
    };
    let step = Duration::seconds(30);
    let vmid = {
        let snap = rig.sim.control().snapshot();
        let mut running: Vec<u32> = snap
            .vms
            .iter()
            .filter(|v| v.status == GuestStatus::Running && !v.template)
            .map(|v| v.vmid)
            .collect();
        running.sort_unstable();
        running[0]
    };
    rig.run_for(Duration::minutes(1), step).await;
    rec.look(&rig).await;
    rec.line(rig.now(), format!("> guest {vmid} stops behind Jarvis's back"));
    rig.sim.control().crash_guest(vmid).unwrap();
    // Three hours cover the dead target's backoff (30 s, 2 min, 10 min, 30 min, 1 h, hourly).
    let end = rig.now() + Duration::hours(3);
    while rig.now() < end {
        rig.advance(step).await;
        rec.look(&rig).await;
    }
    let accepted =
        healthy.requests().iter().filter(|q| q.method == "POST" && q.status < 300).count();
    let _ = writeln!(
        rec.out,
        "--- delivered: smtp {} mail(s), json-healthy {accepted} request(s)",
        smtp.mails().len()
    );
    check_golden("dead-notification-target", &rec.out);
}
