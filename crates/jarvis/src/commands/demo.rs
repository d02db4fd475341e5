//! `jarvis demo`: the real server wired to the built-in simulated cluster.
//!
//! It starts `jarvis-sim` on loopback (HTTPS with a self-signed certificate, pinned by its
//! fingerprint exactly as an operator would pin a real PVE node), generates whatever credentials
//! the operator did not set, prints them once, and runs the same server code as `serve`.

use std::path::Path;
use std::time::Duration;

use jarvis_proxmox::{PveConfig, TlsMode};
use jarvis_sim::{SimConfig, SimServer};

use jarvis_ssh::{HostKeyPolicy, SshConfig};

use crate::cli::DemoArgs;
use crate::config::{ClaudeSettings, Config, LocalSettings, Secret, SshSettings};

/// The model name the scripted "Claude" answers as.
const SCRIPTED_CLAUDE_MODEL: &str = "scripted-claude";

/// Runs the demo until SIGINT/SIGTERM.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let token_id = args.pve_token_id.clone().unwrap_or_else(|| "root@pam!jarvis".to_string());
    let token_secret =
        args.pve_token_secret.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    // SSH for the simulated nodes: a throwaway client key the simulator accepts, and the
    // simulator's host keys pinned through a known_hosts file, exactly like production.
    let ssh_dir =
        std::env::temp_dir().join(format!("jarvis-demo-ssh-{}", uuid::Uuid::new_v4().simple()));
    let (key_path, public_key) = demo_ssh_key(&ssh_dir)?;
    let sim = SimServer::start(SimConfig {
        ssh: true,
        ssh_authorized_keys: vec![public_key],
        nodes: args.sim_nodes.max(1),
        guests: args.sim_guests,
        port: args.sim_port,
        tick: Duration::from_millis(args.sim_tick_ms.max(100)),
        token_id: token_id.clone(),
        token_secret: token_secret.clone(),
        tls: true,
        ..SimConfig::default()
    })
    .await?;
    let fingerprint = sim.fingerprint().ok_or_else(|| anyhow::anyhow!("simulator has no TLS"))?;
    let mut pve = PveConfig::new(vec![url::Url::parse(&sim.base_url())?], &token_id, token_secret);
    pve.tls = TlsMode::Fingerprints(jarvis_proxmox::parse_fingerprints(&fingerprint)?);
    // The simulator's node addresses are not listening in the demo; stay on the one endpoint.
    pve.discover_endpoints = false;
    let env = |k: &str| std::env::var(k).ok();
    let (mut config, generated_password) = Config::for_demo(&args, &env, pve)?;
    if let (Some(port), Some(known_hosts)) = (sim.ssh_port(), sim.ssh_known_hosts()) {
        let known_hosts_path = ssh_dir.join("known_hosts");
        std::fs::write(&known_hosts_path, known_hosts)?;
        config.ssh = Some(SshSettings {
            client: SshConfig::new(&key_path, HostKeyPolicy::KnownHosts(known_hosts_path)),
            port,
        });
    }
    // `--scripted-llm`: the simulator's scripted servers stand in for Claude (Anthropic wire
    // format) and the local model (OpenAI wire format), answering whatever the operator types.
    let scripted = if config.llm.scripted {
        let llm = jarvis_sim::ScriptedLlm::start_demo().await?;
        // Price the scripted "Claude" like the default Claude model, so the cost panel shows
        // realistic figures (an unknown Claude model would be priced at the dearest one).
        let (sonnet, _) = config
            .llm
            .prices
            .lookup(jarvis_domain::routing::Provider::Claude, crate::config::DEFAULT_CLAUDE_MODEL);
        config.llm.prices.models.insert(SCRIPTED_CLAUDE_MODEL.into(), sonnet);
        config.llm.claude = Some(ClaudeSettings {
            api_key: Secret::new("scripted-demo".into()),
            base_url: llm.base_url(),
            model: SCRIPTED_CLAUDE_MODEL.into(),
            max_tokens: 1024,
        });
        config.llm.local = Some(LocalSettings {
            endpoint: llm.base_url(),
            model: "scripted-local".into(),
            context_window: 8192,
            api_key: None,
        });
        Some(llm)
    } else {
        None
    };
    let assistant_line = match (&scripted, &config.llm.claude, &config.llm.local) {
        (Some(_), _, _) => {
            "scripted demo (--scripted-llm): no real model, canned answers".to_owned()
        }
        (None, None, None) => {
            "no LLM configured (set ANTHROPIC_API_KEY or LOCAL_LLM_ENDPOINT); slash commands work"
                .to_owned()
        }
        (None, claude, local) => format!(
            "{}{}",
            claude.as_ref().map(|c| format!("Claude {} ", c.model)).unwrap_or_default(),
            local
                .as_ref()
                .map(|l| format!("local {} at {}", l.model, l.endpoint))
                .unwrap_or_default()
        ),
    };
    let level = config.monitor.initial_level.number();
    let incidents_line = if args.demo_incidents > 0 {
        format!(
            "a guest crashes behind Jarvis's back every {} s (JARVIS_DEMO_INCIDENTS=0 stops that)",
            args.demo_incidents
        )
    } else {
        "no demo incidents (JARVIS_DEMO_INCIDENTS=0)".to_owned()
    };
    let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(|e| {
        anyhow::anyhow!("cannot listen on {}: {e} (set PORT to another port)", config.listen)
    })?;
    let addr = listener.local_addr()?;
    let shown_host =
        if addr.ip().is_unspecified() { "localhost".to_string() } else { addr.ip().to_string() };
    let password_line = match &generated_password {
        Some(p) => format!("{p}   (generated; set JARVIS_PASSWORD to choose one)"),
        None => "(from JARVIS_PASSWORD)".to_string(),
    };
    eprintln!(
        "\n  J.A.R.V.I.S. demo: a simulated Proxmox VE cluster ({} nodes, {} guests)\n\n  \
         Open      http://{shown_host}:{}\n  Password  {password_line}\n  Database  {}\n  \
         Sim PVE   {}/api2/json  (token {token_id}, fingerprint {fingerprint})\n  \
         Assistant {assistant_line}\n  Monitor   autonomy level {level}; {incidents_line}\n\n  \
         Press Ctrl+C to stop.\n",
        args.sim_nodes.max(1),
        args.sim_guests,
        addr.port(),
        config.db_path.display(),
        sim.base_url(),
    );
    // A generated database lives in its own temp directory; remove it on the way out so demos
    // leave nothing behind. A DB_PATH the operator chose is theirs and stays.
    let throwaway_dir = args
        .common
        .db_path
        .is_none()
        .then(|| config.db_path.parent().map(Path::to_path_buf))
        .flatten();
    let client = crate::pve_client(&config)?;
    let chaos = tokio_util::sync::CancellationToken::new();
    if args.demo_incidents > 0 {
        let every = Duration::from_secs(args.demo_incidents);
        let protected = config.safety.protected.clone();
        tokio::spawn(demo_incidents(sim.control(), every, protected, chaos.clone()));
    }
    let result =
        crate::run(config, crate::PveHandles::new(client), listener, crate::shutdown_signal())
            .await;
    chaos.cancel();
    sim.shutdown().await;
    if let Some(llm) = scripted {
        llm.shutdown().await;
    }
    if let Some(dir) = throwaway_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    let _ = std::fs::remove_dir_all(&ssh_dir);
    result
}

/// Now and then a running guest dies behind Jarvis's back (no task, as if QEMU crashed), so the
/// monitor has something to do within a minute of logging in: detect it, restart it (at level
/// 3), verify it and report it. The first one comes after 45 s (or `every`, if sooner).
async fn demo_incidents(
    sim: jarvis_sim::SimControl,
    every: Duration,
    protected: jarvis_domain::safety::Protected,
    cancel: tokio_util::sync::CancellationToken,
) {
    use rand::seq::IndexedRandom;
    let mut wait = every.min(Duration::from_secs(45));
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = every;
        let snap = sim.snapshot();
        let running: Vec<u32> = snap
            .vms
            .iter()
            .filter(|v| v.status == jarvis_domain::GuestStatus::Running && !v.template)
            .filter(|v| !protected.vmids.contains(&v.vmid))
            .map(|v| v.vmid)
            .collect();
        let Some(&vmid) = running.choose(&mut rand::rng()) else { continue };
        match sim.crash_guest(vmid) {
            Ok(()) => tracing::info!(vmid, "demo: a guest crashed behind Jarvis's back"),
            Err(e) => tracing::debug!(vmid, error = %e, "demo: could not crash a guest"),
        }
    }
}

/// Writes a fresh ed25519 key pair for the demo (private key mode 0600) and returns its path and
/// the public key line for the simulator's authorized keys.
pub fn demo_ssh_key(dir: &Path) -> anyhow::Result<(std::path::PathBuf, String)> {
    use rand::Rng;
    use russh::keys::ssh_key::LineEnding;
    use russh::keys::ssh_key::private::{Ed25519Keypair, PrivateKey};
    std::fs::create_dir_all(dir)?;
    let seed: [u8; 32] = rand::rng().random();
    let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    let path = dir.join("id_ed25519");
    let pem = key.to_openssh(LineEnding::LF).map_err(|e| anyhow::anyhow!("demo SSH key: {e}"))?;
    std::fs::write(&path, pem.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    let public = key.public_key().to_openssh().map_err(|e| anyhow::anyhow!("demo SSH key: {e}"))?;
    Ok((path, public))
}
