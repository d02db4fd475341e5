//! The `jarvis` binary: loads `.env`, parses the command line, sets up logging and hands over to
//! the library. Nothing else lives here.

use std::process::ExitCode;

use clap::Parser;
use jarvis::cli::{Cli, Command};
use jarvis::config::Config;

fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Logs go to stderr: stdout is reserved for command output and for MCP over stdio.
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    // `.env` must be in the environment before clap reads it, and before any thread exists.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let json_logs = match &cli.command {
        Command::Serve(a) | Command::Mcp(a) | Command::Doctor(a) => a.common.log_format == "json",
        Command::Demo(a) => a.common.log_format == "json",
        _ => false,
    };
    init_tracing(json_logs);
    jarvis::auth::install_crypto();

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(dispatch(cli.command));
    // Don't let a blocking read of stdin (`jarvis mcp` attached to a terminal) hold up the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => {
            let env = |k: &str| std::env::var(k).ok();
            let config = Config::from_serve(&args, &env)?;
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
            let client = jarvis::pve_client(&config)?;
            jarvis::run(
                config,
                jarvis::PveHandles::new(client),
                listener,
                jarvis::shutdown_signal(),
            )
            .await?;
        }
        // stdout is the JSON-RPC stream here: logs already go to stderr (`init_tracing`).
        Command::Mcp(args) => jarvis::mcp::stdio::run(&args).await?,
        Command::Demo(args) => jarvis::commands::demo::run(args).await?,
        Command::Doctor(args) => {
            if !jarvis::commands::doctor::run(&args).await {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Healthcheck(args) => {
            if !jarvis::commands::healthcheck(&args).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::HashPassword => jarvis::commands::hash_password()?,
        Command::Migrate(args) => jarvis::commands::migrate(&args)?,
    }
    Ok(ExitCode::SUCCESS)
}
