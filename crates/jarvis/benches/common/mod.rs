//! Setup shared by the benchmarks: a simulated cluster (no SSH, no ticks), a real SQLite file
//! and the one tool pipeline over them, with the cluster snapshot already published — what the
//! server has after its first poll.

use std::sync::Arc;
use std::time::Duration;

use jarvis::cluster::ClusterState;
use jarvis::db::Db;
use jarvis::guard::Guard;
use jarvis::tools::Pipeline;

/// The pieces a benchmark builds on; dropping it stops the simulator.
pub struct Bench {
    /// Keeps the simulator running.
    pub _sim: jarvis_sim::SimHandle,
    /// The pipeline (its `db`, `guard`, `cluster` and `bus` are the shared handles).
    pub pipeline: Pipeline,
}

/// Starts the simulator and builds the pipeline over `db`.
pub async fn pipeline_on_simulator(db: Db) -> Bench {
    let sim = jarvis_sim::SimServer::start(jarvis_sim::SimConfig {
        ssh: false,
        tick: Duration::ZERO,
        ..jarvis_sim::SimConfig::default()
    })
    .await
    .unwrap();
    let defaults = jarvis_sim::SimConfig::default();
    let mut pve = jarvis_proxmox::PveConfig::new(
        vec![url::Url::parse(&sim.base_url()).unwrap()],
        defaults.token_id,
        defaults.token_secret,
    );
    pve.tls = jarvis_proxmox::TlsMode::Insecure;
    pve.discover_endpoints = false;
    let api = Arc::new(jarvis_proxmox::PveClient::new(pve).unwrap());
    let cluster = ClusterState::new();
    let view = jarvis_proxmox::read_cluster(api.as_ref()).await.unwrap();
    cluster.publish(jarvis::cluster::apply_poll(
        &cluster.snapshot(),
        Ok(view),
        chrono::Utc::now(),
        None,
    ));
    let guard = Arc::new(
        Guard::load(db.clone(), jarvis_domain::safety::Protected::default(), None).await.unwrap(),
    );
    let pve = jarvis::PveHandles::new(api);
    let pipeline = Pipeline::new(db, guard, cluster, pve, None, jarvis::bus::Bus::default());
    Bench { _sim: sim, pipeline }
}

/// The `p` quantile (0..=1) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
