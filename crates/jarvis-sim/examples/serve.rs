//! Runs the demo cluster until Ctrl-C, for poking at it with curl:
//!
//! ```sh
//! cargo run -p jarvis-sim --example serve
//! curl -k -H "Authorization: PVEAPIToken=root@pam!jarvis=<secret>" https://127.0.0.1:<port>/api2/json/cluster/resources
//! ```
//!
//! Every node also runs an SSH server (any key is accepted); the known_hosts lines are printed:
//!
//! ```sh
//! ssh -o UserKnownHostsFile=<file with those lines> -p <ssh port> root@127.0.1.1 uptime
//! ```
//!
//! `SIM_PORT`, `SIM_NODES`, `SIM_GUESTS`, `SIM_SSH_PORT` and `SIM_TLS=0` change the defaults.

use jarvis_sim::{SimConfig, SimServer};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cfg = SimConfig {
        port: env_or("SIM_PORT", 0),
        nodes: env_or("SIM_NODES", 4),
        guests: env_or("SIM_GUESTS", 12),
        tls: env_or("SIM_TLS", 1u8) != 0,
        ssh_port: env_or("SIM_SSH_PORT", 0),
        ..SimConfig::default()
    };
    let sim = SimServer::start(cfg).await?;
    println!("PVE simulator at {}", sim.base_url());
    println!("Authorization: {}", sim.auth_header());
    if let Some(fp) = sim.fingerprint() {
        println!("certificate fingerprint {fp}");
    }
    if let (Some(port), Some(fp)) = (sim.ssh_port(), sim.ssh_host_key_fingerprint()) {
        println!("SSH on port {port} of every node address (host key {fp}); known_hosts:");
        print!("{}", sim.ssh_known_hosts().unwrap_or_default());
    }
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
