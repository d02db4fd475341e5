//! A rig for the monitor on a virtual clock: the simulator, the real server core (database,
//! pipeline, guard, bus) built by `jarvis::build_core`, a real notification outbox with real
//! targets, and the monitor's driver — all stepped by hand on a [`ManualClock`], with the
//! simulator's reported clock kept in step, so a simulated day runs in about a minute. Actions
//! still run for real through the pipeline against the simulator (its tasks finish in real
//! time), and `restart` rebuilds everything on the same database like a Jarvis restart.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jarvis::clock::{Clock, ManualClock};
use jarvis::config::notify::{EmailSettings, NotifyConfig, SmtpSettings, WebhookSettings};
use jarvis::config::{Config, MonitorConfig};
use jarvis::monitor::{Driver, DriverDeps};
use jarvis::notify::{Outbox, OutboxSettings, Targets};
use jarvis_domain::monitor::{AutonomyLevel, Incident, MonitorAction};
use jarvis_sim::{SimConfig, SimHandle, SimServer};

use crate::harness::{config, pve_for};

/// What the rig is built with.
#[derive(Clone)]
pub struct RigOptions {
    pub level: AutonomyLevel,
    /// `SMTP_URL` (plain relay) and recipients.
    pub smtp: Option<String>,
    /// `ALERT_WEBHOOK_URL` entries.
    pub webhooks: Vec<String>,
    /// Tier intervals in seconds.
    pub intervals: [u64; 4],
    /// Simulated guests.
    pub guests: usize,
}

impl Default for RigOptions {
    fn default() -> Self {
        RigOptions {
            level: AutonomyLevel::ActReport,
            smtp: None,
            webhooks: Vec::new(),
            intervals: [12, 32, 300, 1800],
            guests: 12,
        }
    }
}

pub struct Rig {
    pub sim: SimHandle,
    pub core: jarvis::Core,
    pub driver: Driver,
    pub outbox: Outbox,
    pub clock: ManualClock,
    pub opts: RigOptions,
    pub db_path: PathBuf,
    poller: jarvis::cluster::Poller,
    _dir: Arc<tempfile::TempDir>,
}

fn notify_config(opts: &RigOptions) -> NotifyConfig {
    NotifyConfig {
        email: opts.smtp.as_ref().map(|url| EmailSettings {
            smtp: SmtpSettings::parse(url).unwrap(),
            from: "Jarvis <jarvis@jarvis.test>".into(),
            to: vec!["ops@example.org".into()],
        }),
        webhooks: opts.webhooks.iter().map(|w| WebhookSettings::parse(w).unwrap()).collect(),
        public_url: Some("https://jarvis.test".into()),
        ..NotifyConfig::default()
    }
}

impl Rig {
    /// A simulator (tasks take 100 ms, metrics only move when told) and everything on top.
    pub async fn start(opts: RigOptions) -> Rig {
        let sim = SimServer::start(SimConfig {
            tick: Duration::ZERO,
            task_duration: Duration::from_millis(100),
            guests: opts.guests,
            ssh: false,
            ..SimConfig::default()
        })
        .await
        .expect("simulator starts");
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let db_path = dir.path().join("jarvis.db");
        let clock = ManualClock::starting_at(Utc::now());
        Self::build(sim, opts, db_path, dir, clock).await
    }

    async fn build(
        sim: SimHandle,
        opts: RigOptions,
        db_path: PathBuf,
        dir: Arc<tempfile::TempDir>,
        clock: ManualClock,
    ) -> Rig {
        let mut cfg: Config = config(pve_for(&sim), db_path.clone());
        // The rig polls itself, right before each step.
        cfg.poll_interval = Duration::from_secs(3600);
        let secs = |s: u64| (s > 0).then(|| chrono::Duration::seconds(s as i64));
        cfg.monitor = MonitorConfig {
            intervals: opts.intervals.map(secs),
            initial_level: opts.level,
            repeat_interval: Some(chrono::Duration::hours(24)),
        };
        cfg.notify = notify_config(&opts);
        let client = jarvis::pve_client(&cfg).unwrap();
        let core = jarvis::build_core(cfg.clone(), jarvis::PveHandles::new(client)).await.unwrap();
        let state = &core.state;
        let shared_clock: Arc<dyn Clock> = Arc::new(clock.clone());
        let outbox = Outbox::new(
            state.db.clone(),
            Targets::from_config(&cfg.notify).unwrap(),
            OutboxSettings::from_config(&cfg.notify),
            state.metrics.clone(),
            shared_clock.clone(),
        );
        let poller = jarvis::cluster::Poller {
            api: core.pve_read.clone(),
            state: state.cluster.clone(),
            metrics: state.metrics.clone(),
            interval: Duration::from_secs(3600),
        };
        let mut rig_sync = (sim.clone(), clock.clone());
        sync_sim_clock(&mut rig_sync);
        poller.poll_once().await;
        let driver = Driver::start(DriverDeps {
            db: state.db.clone(),
            pipeline: state.tools.clone(),
            pve: core.pve_read.clone(),
            cluster: state.cluster.clone(),
            guard: state.guard.clone(),
            outbox: outbox.clone(),
            bus: state.bus.clone(),
            metrics: state.metrics.clone(),
            clock: shared_clock,
            service: state.monitor.clone(),
            config: cfg.monitor.clone(),
        })
        .await
        .unwrap();
        Rig { sim, core, driver, outbox, clock, opts, db_path, poller, _dir: dir }
    }

    /// Virtual now.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Moves the virtual clock (and the simulator's reported clock) on, polls the cluster,
    /// runs whatever is due, waits for actions in flight, and delivers due notifications.
    pub async fn advance(&mut self, by: chrono::Duration) {
        self.clock.advance(by);
        let mut pair = (self.sim.clone(), self.clock.clone());
        sync_sim_clock(&mut pair);
        self.poller.poll_once().await;
        self.driver.process_commands().await;
        self.driver.step().await;
        self.driver.settle().await;
        // Verification reads the cluster: give it the state the actions left behind.
        self.poller.poll_once().await;
        self.outbox.step(self.clock.now()).await;
    }

    /// Advances in steps of `every` for `total`.
    pub async fn run_for(&mut self, total: chrono::Duration, every: chrono::Duration) {
        let end = self.now() + total;
        while self.now() < end {
            self.advance(every).await;
        }
    }

    /// Advances in 12 s steps until `pred` holds (panics after `max`).
    pub async fn until(
        &mut self,
        max: chrono::Duration,
        what: &str,
        mut pred: impl FnMut(&Rig) -> bool,
    ) {
        let end = self.now() + max;
        while !pred(self) {
            assert!(self.now() < end, "not reached within {max}: {what}\n{:#?}", self.incidents());
            self.advance(chrono::Duration::seconds(12)).await;
        }
    }

    /// Incidents the machine remembers.
    pub fn incidents(&self) -> Vec<Incident> {
        self.driver.machine().incidents().cloned().collect()
    }

    /// The incident with `key`, if the machine has one.
    pub fn incident(&self, key: &str) -> Option<Incident> {
        self.driver.machine().incidents().find(|i| i.key == key).cloned()
    }

    /// Runbook attempts, newest first (from the database).
    pub async fn actions(&self) -> Vec<MonitorAction> {
        self.core.state.db.monitor_actions(1000, None).await.unwrap()
    }

    /// Audit rows written by the monitor.
    pub async fn monitor_audit(&self) -> Vec<jarvis_domain::AuditEntry> {
        let all = self.core.state.db.audit_entries(1000, None, None).await.unwrap();
        all.into_iter().filter(|e| e.source == "monitor").collect()
    }

    /// Jarvis stops and starts again on the same database (and the same cluster and clock).
    pub async fn restart(self) -> Rig {
        let Rig { sim, core, driver, opts, db_path, _dir, clock, .. } = self;
        drop(driver);
        core.shutdown().await.unwrap();
        Self::build(sim, opts, db_path, _dir, clock).await
    }
}

/// Keeps the simulator's reported wall clock on the rig's virtual clock (task times must be
/// comparable with the monitor's observations).
fn sync_sim_clock((sim, clock): &mut (SimHandle, ManualClock)) {
    let control = sim.control();
    let wanted = clock.now() - Utc::now();
    let have = chrono::Duration::from_std(control.clock_offset()).unwrap_or_default();
    if wanted > have {
        control.advance_clock((wanted - have).to_std().unwrap());
    }
}
