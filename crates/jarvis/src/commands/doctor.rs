//! `jarvis doctor`: checks configuration, database and PVE, and says how to fix what is wrong.
//!
//! Each check prints one line: `ok`, or `FAIL` with the cause and a concrete next step. The exit
//! status is non-zero when any check failed, so it works in scripts too.

use jarvis_proxmox::PveError;

use crate::cli::ServeArgs;
use crate::config::Config;

/// One check's outcome.
struct Check {
    name: &'static str,
    result: Result<String, (String, String)>,
}

fn print(check: &Check) {
    match &check.result {
        Ok(detail) => println!("  ok    {:<10} {detail}", check.name),
        Err((cause, fix)) => {
            println!("  FAIL  {:<10} {cause}", check.name);
            println!("        {:<10} fix: {fix}", "");
        }
    }
}

/// How to fix a PVE error, in one sentence an operator can act on.
pub fn pve_hint(err: &PveError) -> String {
    match err {
        PveError::Unauthorized(_) => "check PVE_TOKEN_ID (user@realm!name) and PVE_TOKEN_SECRET; \
            create one under Datacenter → Permissions → API Tokens"
            .into(),
        PveError::Forbidden(_) => "give the token's user the PVEAuditor role on / (and \
            PVEVMUser for VM actions), or untick Privilege Separation"
            .into(),
        PveError::Tls { .. } => "pin the certificate: PVE_TLS_FINGERPRINT as shown under \
            System → Certificates, or PVE_CA_FILE=/etc/pve/pve-root-ca.pem"
            .into(),
        PveError::Connect { .. } | PveError::Timeout { .. } | PveError::AllEndpointsFailed(_) => {
            "check PVE_URL (https://<node>:8006), that port 8006 is reachable from here, \
             and list more than one node for failover"
                .into()
        }
        _ => "run with RUST_LOG=debug for details".into(),
    }
}

/// Runs every check; returns whether all passed.
pub async fn run(args: &ServeArgs) -> bool {
    println!("Jarvis doctor\n");
    let env = |k: &str| std::env::var(k).ok();
    let config = match Config::from_serve(args, &env) {
        Ok(c) => {
            print(&Check { name: "config", result: Ok("all settings valid".into()) });
            c
        }
        Err(e) => {
            for problem in &e.0 {
                print(&Check {
                    name: "config",
                    result: Err((problem.clone(), "set it in the environment or .env".into())),
                });
            }
            return false;
        }
    };
    let mut all_ok = true;

    let db = match crate::db::Db::open(&config.db_path).await {
        Ok(db) => {
            let _ = db.close().await;
            Ok(format!("{} is writable and migrated", config.db_path.display()))
        }
        Err(e) => Err((e.to_string(), "check DB_PATH and the directory's permissions".into())),
    };
    let db_check = Check { name: "database", result: db };
    all_ok &= db_check.result.is_ok();
    print(&db_check);

    let pve = match crate::pve_client(&config) {
        Err(e) => Err((e.to_string(), "check the PVE_* settings".to_string())),
        Ok(client) => match jarvis_proxmox::read_cluster(client.as_ref()).await {
            Ok(view) => Ok(format!(
                "{} nodes, {} guests, {} storages via {}",
                view.nodes.len(),
                view.vms.len(),
                view.storage.len(),
                jarvis_proxmox::ProxmoxApi::current_endpoint(client.as_ref()).unwrap_or_default()
            )),
            Err(e) => Err((e.to_string(), pve_hint(&e))),
        },
    };
    let pve_check = Check { name: "proxmox", result: pve };
    all_ok &= pve_check.result.is_ok();
    print(&pve_check);
    println!();
    all_ok
}
