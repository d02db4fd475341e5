//! `jarvis mcp`: the tools over MCP on stdin/stdout, for Claude Desktop and Claude Code.
//!
//! It is a second process next to (or instead of) `jarvis serve`, built from the same settings
//! (`Config::from_serve`: flags, env, `.env`) and the same core ([`crate::build_core`]): the same
//! SQLite database, a PVE client, its own cluster poller (so node names are checked against the
//! live cluster) and the one tool pipeline. Sharing `DB_PATH` with a running `serve` is the point:
//! confirmations created here are stored there, listed by the dashboard and approved there, and
//! the kill switch thrown in the dashboard is read from the database at every decision.
//!
//! stdout carries nothing but the JSON-RPC stream; every log line goes to stderr (`main` sets the
//! tracing writer to stderr before anything runs).

use rmcp::ServiceExt;
use rmcp::transport::stdio_pipes;
use tokio_util::sync::CancellationToken;

use super::JarvisMcp;
use crate::cli::ServeArgs;
use crate::config::Config;

/// Runs the stdio server until the client closes stdin or SIGINT/SIGTERM arrives, then stops
/// the background components and closes the database.
pub async fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    let config = Config::from_serve(args, &env)?;
    let db_path = config.db_path.clone();
    let pve = crate::pve_client(&config)?;
    let core = crate::build_core(config, crate::PveHandles::new(pve)).await?;
    let handler = JarvisMcp::new(core.state.tools.clone(), core.state.cluster.clone());
    tracing::info!(db = %db_path.display(), "serving MCP on stdin/stdout");
    let served = serve(handler, core.supervisor.token().child_token()).await;
    core.shutdown().await?;
    served
}

async fn serve(handler: JarvisMcp, cancel: CancellationToken) -> anyhow::Result<()> {
    // `stdio_pipes` drives pipes through the reactor (no blocking thread stuck in a read of
    // stdin that would hold up the runtime's shutdown) and falls back to plain stdio otherwise.
    let running = tokio::select! {
        r = handler.serve_with_ct(stdio_pipes(), cancel) => {
            r.map_err(|e| anyhow::anyhow!("the MCP client did not complete initialization: {e}"))?
        }
        () = crate::shutdown_signal() => return Ok(()),
    };
    tokio::select! {
        r = running.waiting() => {
            let reason = r?;
            tracing::info!(?reason, "MCP client disconnected");
        }
        () = crate::shutdown_signal() => tracing::info!("signal received: stopping the MCP server"),
    }
    Ok(())
}
