//! The command line: subcommands and every setting as a flag with its environment variable.
//!
//! clap reads flags first and environment variables second; `main` loads `.env` into the
//! environment before parsing, so the precedence is flag > env > `.env` > default. Secrets may also
//! come from `<NAME>_FILE` (resolved in [`crate::config`]). `--help` lists every variable.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config;

/// Jarvis: a self-hosted AI command center for Proxmox VE clusters.
#[derive(Debug, Parser)]
#[command(name = "jarvis", version, about, long_about = None)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of PROTOCOL.md.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server against a real Proxmox VE cluster.
    Serve(ServeArgs),
    /// Run the server against a built-in simulated cluster, with generated credentials.
    Demo(DemoArgs),
    /// Serve the tools over MCP on stdin/stdout (for Claude Desktop / Claude Code).
    ///
    /// Takes the same settings as `serve`; share its DB_PATH so confirmations created here
    /// appear in the dashboard (and are approved there) and the kill switch applies here too.
    Mcp(ServeArgs),
    /// Check that the configured PVE cluster and database are reachable, and say how to fix what is not.
    Doctor(ServeArgs),
    /// Ask a running server whether it is healthy (for container HEALTHCHECK); exit 0 when it is.
    Healthcheck(HealthcheckArgs),
    /// Print the argon2id hash of a password (read from stdin) for JARVIS_PASSWORD_HASH.
    HashPassword,
    /// Apply database migrations and exit.
    Migrate(MigrateArgs),
}

/// Settings shared by `serve` and `demo`.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Address to listen on.
    #[arg(long, env = "HOST")]
    pub host: Option<IpAddr>,
    /// Port for the web UI, API, Socket.IO and metrics.
    #[arg(long, env = "PORT", default_value_t = 4000)]
    pub port: u16,
    /// SQLite database file.
    #[arg(long, env = "DB_PATH")]
    pub db_path: Option<PathBuf>,
    /// Secret for signing session tokens (at least 32 characters).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Lifetime of a session token, in hours.
    #[arg(long, env = "JWT_TTL_HOURS", default_value_t = 24)]
    pub jwt_ttl_hours: u32,
    /// Operator password (hashed with argon2id at start; prefer JARVIS_PASSWORD_HASH).
    #[arg(long, env = "JARVIS_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// argon2id PHC hash of the operator password (from `jarvis hash-password`).
    #[arg(long, env = "JARVIS_PASSWORD_HASH", hide_env_values = true)]
    pub password_hash: Option<String>,
    /// Seconds between cluster polls (the dashboard's refresh rate).
    #[arg(long, env = "CLUSTER_POLL_INTERVAL", default_value_t = 5)]
    pub poll_interval_secs: u64,
    /// Trust the client address in X-Forwarded-For (only behind your own reverse proxy).
    #[arg(long, env = "TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Log format: `text` or `json`.
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    pub log_format: String,
    /// VMIDs no tool may act on, comma-separated (no override unlocks them).
    #[arg(long, env = "PROTECTED_VMIDS", default_value = "")]
    pub protected_vmids: String,
    /// Nodes no tool may act on, comma-separated.
    #[arg(long, env = "PROTECTED_NODES", default_value = "")]
    pub protected_nodes: String,
    /// systemd services no tool may restart, comma-separated.
    #[arg(long, env = "PROTECTED_SERVICES", default_value = "")]
    pub protected_services: String,
    /// Override passkey for `/api/auth/elevate` (unset disables elevation).
    #[arg(long, env = "JARVIS_OVERRIDE_KEY", hide_env_values = true)]
    pub override_key: Option<String>,
    /// Seconds between temperature readings over SSH (0 disables).
    #[arg(long, env = "TEMPERATURE_INTERVAL", default_value_t = 30)]
    pub temperature_interval_secs: u64,
    /// Host names accepted by the MCP endpoint `/mcp`, comma-separated (DNS-rebinding guard);
    /// loopback names are always accepted.
    #[arg(long, env = "JARVIS_MCP_ALLOWED_HOSTS", value_delimiter = ',')]
    pub mcp_allowed_hosts: Vec<String>,
    /// Anthropic API key; the chat uses Claude when it is set.
    #[arg(long, env = "ANTHROPIC_API_KEY", hide_env_values = true)]
    pub anthropic_api_key: Option<String>,
    /// Anthropic API base URL (default `https://api.anthropic.com`).
    #[arg(long, env = "ANTHROPIC_BASE_URL")]
    pub anthropic_base_url: Option<String>,
    /// Claude model for the chat.
    #[arg(long, env = "CLAUDE_MODEL", default_value = config::DEFAULT_CLAUDE_MODEL)]
    pub claude_model: String,
    /// Largest Claude answer per call, in tokens.
    #[arg(long, env = "CLAUDE_MAX_TOKENS", default_value_t = config::DEFAULT_CLAUDE_MAX_TOKENS)]
    pub claude_max_tokens: u32,
    /// OpenAI-compatible local model server (e.g. `http://127.0.0.1:8080/v1`); the chat uses it
    /// when set.
    #[arg(long, env = "LOCAL_LLM_ENDPOINT")]
    pub local_llm_endpoint: Option<String>,
    /// Model name sent to the local server.
    #[arg(long, env = "LOCAL_LLM_MODEL", default_value = config::DEFAULT_LOCAL_MODEL)]
    pub local_llm_model: String,
    /// Context window of the local model, in tokens.
    #[arg(long, env = "LOCAL_LLM_CONTEXT_WINDOW", default_value_t = config::DEFAULT_LOCAL_CONTEXT_WINDOW)]
    pub local_llm_context_window: u32,
    /// API key for the local server, if it wants one.
    #[arg(long, env = "LOCAL_LLM_API_KEY", hide_env_values = true)]
    pub local_llm_api_key: Option<String>,
    /// Daily LLM spend cap in USD (0 = no limit); `PUT /api/routing` overrides it.
    #[arg(long, env = "DAILY_COST_LIMIT", default_value_t = config::DEFAULT_DAILY_COST_LIMIT, allow_negative_numbers = true)]
    pub daily_cost_limit: f64,
    /// Stored chat messages sent to the model as history.
    #[arg(long, env = "CHAT_HISTORY_LIMIT", default_value_t = config::DEFAULT_HISTORY_LIMIT)]
    pub chat_history_limit: usize,
    /// Model calls per chat turn before it stops.
    #[arg(long, env = "CHAT_MAX_LOOP", default_value_t = config::DEFAULT_MAX_LOOP)]
    pub chat_max_loop: u32,
    /// Longest a tool call may run inside a chat turn, in seconds.
    #[arg(long = "chat-tool-timeout", env = "CHAT_TOOL_TIMEOUT", default_value_t = config::DEFAULT_TOOL_TIMEOUT_SECS)]
    pub chat_tool_timeout_secs: u64,
    /// Claude's context budget in tokens: `live/recent/knowledge` or a total (default
    /// `1000/2500/1500`).
    #[arg(long, env = "CONTEXT_BUDGET_CLAUDE")]
    pub context_budget_claude: Option<String>,
    /// The local model's context budget in tokens: `live/recent/knowledge` or a total (default
    /// `800/500/200`).
    #[arg(long, env = "CONTEXT_BUDGET_LOCAL")]
    pub context_budget_local: Option<String>,
    /// JSON price table extending the built-in one:
    /// `{"models": {"<model>": {"inputPerMtok": 3, "outputPerMtok": 15}}}`.
    #[arg(long, env = "LLM_PRICES_FILE")]
    pub llm_prices_file: Option<PathBuf>,
    /// Offset in which cost days, weeks and months are counted (`UTC`, `+02:00`, `-05:30`).
    #[arg(long, env = "COST_TIMEZONE", default_value = "UTC", allow_hyphen_values = true)]
    pub cost_timezone: String,
    /// Seconds between the monitor's critical checks: crashes, nodes, quorum (0 disables).
    #[arg(long, env = "MONITOR_CRITICAL_INTERVAL", default_value_t = 12)]
    pub monitor_critical_interval: u64,
    /// Seconds between the monitor's metric checks: CPU, RAM, disk, temperature (0 disables).
    #[arg(long, env = "MONITOR_IMPORTANT_INTERVAL", default_value_t = 32)]
    pub monitor_important_interval: u64,
    /// Seconds between the monitor's routine checks: storage, heartbeat, reminders (0 disables).
    #[arg(long, env = "MONITOR_ROUTINE_INTERVAL", default_value_t = 300)]
    pub monitor_routine_interval: u64,
    /// Seconds between the monitor's background checks: failed backups (0 disables).
    #[arg(long, env = "MONITOR_BACKGROUND_INTERVAL", default_value_t = 1800)]
    pub monitor_background_interval: u64,
    /// Autonomy level on a fresh database (0 observe, 1 alert, 2 recommend, 3 act and report,
    /// 4 act and report failures); a level set later in the dashboard is stored and wins.
    #[arg(long, env = "AUTONOMY_LEVEL", default_value_t = config::DEFAULT_AUTONOMY_LEVEL)]
    pub autonomy_level: u8,
    /// Hours after which an open, unacknowledged incident is notified again (0 = never).
    #[arg(long = "alert-repeat-interval", env = "ALERT_REPEAT_INTERVAL", default_value_t = config::DEFAULT_REPEAT_HOURS)]
    pub alert_repeat_interval_hours: u32,
    /// SMTP relay for alert e-mail: `smtp://user:pass@host:587` (STARTTLS, required),
    /// `smtps://user:pass@host:465`, `smtp://host:25?tls=none` (plain LAN relay);
    /// `?tls=insecure` accepts a self-signed certificate.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Alert e-mail recipients, comma-separated.
    #[arg(long, env = "ALERT_EMAIL_TO")]
    pub alert_email_to: Option<String>,
    /// Sender of alert e-mail (default `jarvis@<hostname>`).
    #[arg(long, env = "ALERT_EMAIL_FROM")]
    pub alert_email_from: Option<String>,
    /// Alert webhooks, comma-separated; `ntfy:`, `gotify:`, `discord:`, `slack:` or `json:`
    /// before a URL picks the payload (a URL that names its service needs none).
    #[arg(long, env = "ALERT_WEBHOOK_URL", hide_env_values = true)]
    pub alert_webhook_url: Option<String>,
    /// The dashboard's address as users reach it, for links in notifications
    /// (`{PUBLIC_URL}/incidents/{id}`).
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Seconds within which notifications for one target are grouped into one message (0 = none).
    #[arg(long = "notify-group-window", env = "NOTIFY_GROUP_WINDOW", default_value_t = config::notify::DEFAULT_GROUP_WINDOW_SECS)]
    pub notify_group_window_secs: u64,
    /// Longest one notification delivery may take, in seconds.
    #[arg(long = "notify-timeout", env = "NOTIFY_TIMEOUT", default_value_t = config::notify::DEFAULT_NOTIFY_TIMEOUT_SECS)]
    pub notify_timeout_secs: u64,
    /// Retention (`RETENTION_*`).
    #[command(flatten)]
    pub retention: config::retention::RetentionArgs,
}

/// Settings of `serve` (and `mcp`, `doctor`).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Shared settings.
    #[command(flatten)]
    pub common: CommonArgs,
    /// PVE API endpoints, comma-separated (e.g. `https://pve1:8006,https://pve2:8006`).
    #[arg(long, env = "PVE_URL", value_delimiter = ',')]
    pub pve_url: Vec<String>,
    /// PVE API token id, `user@realm!tokenname`.
    #[arg(long, env = "PVE_TOKEN_ID")]
    pub pve_token_id: Option<String>,
    /// PVE API token secret (a UUID).
    #[arg(long, env = "PVE_TOKEN_SECRET", hide_env_values = true)]
    pub pve_token_secret: Option<String>,
    /// SHA-256 fingerprint(s) of the PVE certificate(s), colon-separated hex, comma-separated list.
    #[arg(long, env = "PVE_TLS_FINGERPRINT")]
    pub pve_tls_fingerprint: Option<String>,
    /// PEM file of the CA that signed the PVE certificates (`/etc/pve/pve-root-ca.pem`).
    #[arg(long, env = "PVE_CA_FILE")]
    pub pve_ca_file: Option<PathBuf>,
    /// Accept any PVE certificate. Insecure; only for a first test on a trusted network.
    #[arg(long, env = "PVE_TLS_INSECURE", default_value_t = false)]
    pub pve_tls_insecure: bool,
    /// Also fail over to the node addresses the cluster reports (same scheme and port).
    #[arg(long, env = "PVE_DISCOVER_ENDPOINTS", default_value_t = true, action = clap::ArgAction::Set)]
    pub pve_discover_endpoints: bool,
    /// Private key for SSH to the nodes (OpenSSH format); SSH features are off when unset.
    #[arg(long, env = "SSH_KEY_PATH")]
    pub ssh_key_path: Option<PathBuf>,
    /// Passphrase of the SSH key.
    #[arg(long, env = "SSH_KEY_PASSPHRASE", hide_env_values = true)]
    pub ssh_key_passphrase: Option<String>,
    /// Remote user for SSH.
    #[arg(long, env = "SSH_USER", default_value = "root")]
    pub ssh_user: String,
    /// sshd port on the nodes.
    #[arg(long, env = "SSH_PORT", default_value_t = 22)]
    pub ssh_port: u16,
    /// OpenSSH known_hosts file to verify node host keys; unset = pin each key on first use
    /// (recorded next to the database).
    #[arg(long, env = "SSH_KNOWN_HOSTS")]
    pub ssh_known_hosts: Option<PathBuf>,
}

/// Settings of `demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Shared settings.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Nodes in the simulated cluster.
    #[arg(long, env = "JARVIS_SIM_NODES", default_value_t = 4)]
    pub sim_nodes: usize,
    /// Guests (VMs and containers) in the simulated cluster.
    #[arg(long, env = "JARVIS_SIM_GUESTS", default_value_t = 12)]
    pub sim_guests: usize,
    /// Port of the simulated PVE API (0 = any free port).
    #[arg(long, env = "JARVIS_SIM_PORT", default_value_t = 0)]
    pub sim_port: u16,
    /// Milliseconds between simulated metric changes.
    #[arg(long, env = "JARVIS_SIM_TICK_MS", default_value_t = 2000)]
    pub sim_tick_ms: u64,
    /// Token id the simulated PVE API accepts.
    #[arg(long, env = "PVE_TOKEN_ID")]
    pub pve_token_id: Option<String>,
    /// Token secret the simulated PVE API accepts (generated when unset).
    #[arg(long, env = "PVE_TOKEN_SECRET", hide_env_values = true)]
    pub pve_token_secret: Option<String>,
    /// Answer the chat with the simulator's scripted Claude and local model servers (no API key
    /// or GPU needed).
    #[arg(long)]
    pub scripted_llm: bool,
    /// Seconds between incidents the demo makes on its own (a guest crashing behind Jarvis's
    /// back), so the monitor has something to do; 0 turns them off.
    #[arg(long, env = "JARVIS_DEMO_INCIDENTS", default_value_t = 180)]
    pub demo_incidents: u64,
}

/// Settings of `healthcheck`.
#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// Port of the running server.
    #[arg(long, env = "PORT", default_value_t = 4000)]
    pub port: u16,
    /// Address of the running server.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
}

/// Settings of `migrate`.
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    /// SQLite database file.
    #[arg(long, env = "DB_PATH", default_value = "data/jarvis.db")]
    pub db_path: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_parse_into_typed_settings() {
        let cli = Cli::try_parse_from([
            "jarvis",
            "serve",
            "--port",
            "4100",
            "--pve-url",
            "https://a:8006,https://b:8006",
            "--pve-discover-endpoints",
            "false",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else { panic!("expected serve") };
        assert_eq!(args.common.port, 4100);
        assert_eq!(args.pve_url, vec!["https://a:8006", "https://b:8006"]);
        assert!(!args.pve_discover_endpoints);
    }

    #[test]
    fn bad_port_is_a_clear_error() {
        let err = Cli::try_parse_from(["jarvis", "serve", "--port", "99999"]).unwrap_err();
        assert!(err.to_string().contains("99999"), "{err}");
    }
}
