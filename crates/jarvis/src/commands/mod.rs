//! The subcommands besides `serve`: `demo`, `doctor`, `healthcheck`, `hash-password`, `migrate`.

pub mod demo;
pub mod doctor;

use std::io::{BufRead, IsTerminal, Write};

use crate::cli::{HealthcheckArgs, MigrateArgs};

/// `jarvis healthcheck`: exit 0 when the server at host:port answers `ok` or `degraded`.
pub async fn healthcheck(args: &HealthcheckArgs) -> anyhow::Result<bool> {
    let url = format!("http://{}/api/health", std::net::SocketAddr::new(args.host, args.port));
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build()?;
    let resp = client.get(&url).send().await?;
    let body: serde_json::Value = resp.json().await?;
    let status = body["status"].as_str().unwrap_or("down").to_string();
    println!("{status}");
    Ok(matches!(status.as_str(), "ok" | "degraded"))
}

/// `jarvis hash-password`: reads one line from stdin and prints its argon2id PHC hash.
pub fn hash_password() -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password: ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.chars().count() < 8 {
        anyhow::bail!("the password must be at least 8 characters");
    }
    let hash = crate::auth::password::hash(password).map_err(anyhow::Error::msg)?;
    println!("{hash}");
    Ok(())
}

/// `jarvis migrate`: applies pending migrations and prints the schema version.
pub fn migrate(args: &MigrateArgs) -> anyhow::Result<()> {
    if let Some(dir) = args.db_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let version = crate::db::migrate_file(&args.db_path)?;
    println!("database {} is at schema version {version}", args.db_path.display());
    Ok(())
}
