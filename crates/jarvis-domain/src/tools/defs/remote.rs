//! Tools that act on a node from outside PVE's guest API: one diagnostic SSH command, a service
//! restart, and Wake-on-LAN. All YELLOW: operational, recoverable and audited.

use schemars::JsonSchema;
use serde::Deserialize;
#[cfg(test)]
use serde_json::json;

use crate::ids::{NodeName, ServiceName};
use crate::tools::args::{CommandText, NodeArgs, TimeoutSeconds};
use crate::tools::{Tier, ToolCall, ToolDef};

/// Default `timeoutSeconds` of `execute_ssh`.
pub const DEFAULT_SSH_TIMEOUT_SECONDS: u32 = 30;

#[cfg(test)]
fn node(name: &str) -> NodeName {
    serde_json::from_value(json!(name)).expect("valid node name")
}

/// A diagnostic command on a node.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ExecuteSshArgs {
    /// The node to run it on.
    pub node: NodeName,
    /// The command: one allow-listed program and its arguments, separated by spaces.
    pub command: CommandText,
    /// Give up after this many seconds (1-120, default 30).
    pub timeout_seconds: Option<TimeoutSeconds>,
}

/// `execute_ssh`: one allow-listed, read-only command over SSH. The text is judged by the
/// command policy in `safety::decide`, not here.
pub(crate) struct ExecuteSsh;

impl ToolDef for ExecuteSsh {
    const NAME: &'static str = "execute_ssh";
    const TIER: Tier = Tier::Yellow;
    const MUTATING: bool = true;
    const DESCRIPTION: &'static str = concat!(
        "Run ONE read-only diagnostic command on a node over SSH and return its output. \
         Only allow-listed commands with allow-listed arguments run (e.g. df -h, free -h, \
         uptime, systemctl status UNIT, journalctl -u UNIT -n 100, zpool status, qm list, \
         cat /proc/loadavg, tail -n 100 /var/log/syslog, ip addr show, ss -tlnp, sensors). \
         No pipes, redirection, quoting, globs, variables or chaining; arguments are single \
         words separated by spaces; anything that follows or waits forever (tail -f, \
         journalctl -f, top without -b -n 1, ping without -c) is refused. It never changes \
         anything: use the dedicated tools to start, stop or restart things.",
        data_note!()
    );
    type Args = ExecuteSshArgs;
    fn call(a: ExecuteSshArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::ExecuteSsh {
            node: a.node,
            command: a.command.0,
            timeout_seconds: a.timeout_seconds.map_or(DEFAULT_SSH_TIMEOUT_SECONDS, |t| t.0),
        })
    }
}

#[test]
fn execute_ssh() {
    let call = super::check::<ExecuteSsh>(
        json!({"node": "pve1", "command": "df -h", "timeoutSeconds": 10}),
        ToolCall::ExecuteSsh { node: node("pve1"), command: "df -h".into(), timeout_seconds: 10 },
    );
    assert_eq!(call.summary(), "Run `df -h` on pve1");
    super::check::<ExecuteSsh>(
        json!({"node": "pve1", "command": "uptime"}),
        ToolCall::ExecuteSsh { node: node("pve1"), command: "uptime".into(), timeout_seconds: 30 },
    );
    let message = super::refusal::<ExecuteSsh>(json!({"node": "a", "command": "   "}));
    assert!(message.contains("command: must not be empty"), "{message}");
}

/// A service on a node.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RestartServiceArgs {
    /// The node the service runs on.
    pub node: NodeName,
    /// The systemd service, e.g. pveproxy or pveproxy.service.
    pub service: ServiceName,
}

/// `restart_service`: `systemctl restart` of one `.service` unit.
pub(crate) struct RestartService;

impl ToolDef for RestartService {
    const NAME: &'static str = "restart_service";
    const TIER: Tier = Tier::Yellow;
    const MUTATING: bool = true;
    const DESCRIPTION: &'static str = "Restart one systemd service on a node (systemctl \
        restart), then report whether it is active. Use when a service is failed or hung. \
        Only .service units; protected services are refused.";
    type Args = RestartServiceArgs;
    fn call(a: RestartServiceArgs) -> Result<ToolCall, String> {
        // `systemctl restart reboot.target` reboots the node: this tool is for services only.
        if !a.service.is_service_unit() {
            return Err(format!(
                "service: restart_service only restarts .service units, not `{}`",
                a.service
            ));
        }
        Ok(ToolCall::RestartService { node: a.node, service: a.service })
    }
}

#[test]
fn restart_service() {
    let service: ServiceName = serde_json::from_value(json!("pveproxy")).unwrap();
    let call = super::check::<RestartService>(
        json!({"node": "pve1", "service": "pveproxy"}),
        ToolCall::RestartService { node: node("pve1"), service },
    );
    assert_eq!(call.summary(), "Restart service pveproxy on node pve1");
    for unit in ["reboot.target", "poweroff.target", "ssh.socket"] {
        let message = super::refusal::<RestartService>(json!({"node": "a", "service": unit}));
        assert!(message.contains("only restarts .service units"), "{unit}: {message}");
    }
}

/// `wake_node`: Wake-on-LAN for a powered-off node.
pub(crate) struct WakeNode;

impl ToolDef for WakeNode {
    const NAME: &'static str = "wake_node";
    const TIER: Tier = Tier::Yellow;
    const MUTATING: bool = true;
    const DESCRIPTION: &'static str = "Send Wake-on-LAN to a powered-off node. Use when a node \
        is offline and should be running.";
    type Args = NodeArgs;
    fn call(a: NodeArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::WakeNode { node: a.node })
    }
}

#[test]
fn wake_node() {
    let call = super::check::<WakeNode>(
        json!({"node": "pve3"}),
        ToolCall::WakeNode { node: node("pve3") },
    );
    assert_eq!(call.summary(), "Wake node pve3 (Wake-on-LAN)");
}
