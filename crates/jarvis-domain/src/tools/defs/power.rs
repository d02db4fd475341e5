//! Tools that take a whole node down. BLACK: they never run, except confirmed by the operator
//! during an override (elevation with the passkey).

#[cfg(test)]
use serde_json::json;

use crate::tools::args::NodeArgs;
use crate::tools::{Tier, ToolCall, ToolDef};

/// `reboot_node`: reboot a node and every guest on it.
pub(crate) struct RebootNode;

impl ToolDef for RebootNode {
    const NAME: &'static str = "reboot_node";
    const TIER: Tier = Tier::Black;
    const MUTATING: bool = true;
    const DESCRIPTION: &'static str = "Reboot a whole node, taking down every guest on it. \
        Never runs unless the operator has elevated with the override passkey, and then only \
        after confirmation. Suggest safer alternatives first.";
    type Args = NodeArgs;
    fn call(a: NodeArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::RebootNode { node: a.node })
    }
}

#[test]
fn reboot_node() {
    let node = serde_json::from_value(json!("pve2")).unwrap();
    let call = super::check::<RebootNode>(json!({"node": "pve2"}), ToolCall::RebootNode { node });
    assert_eq!(call.summary(), "Reboot node pve2");
}

/// `shutdown_node`: power a node off until it is woken.
pub(crate) struct ShutdownNode;

impl ToolDef for ShutdownNode {
    const NAME: &'static str = "shutdown_node";
    const TIER: Tier = Tier::Black;
    const MUTATING: bool = true;
    const DESCRIPTION: &'static str = "Power off a whole node, taking down every guest on it; \
        it stays off until woken. Never runs unless the operator has elevated with the \
        override passkey, and then only after confirmation. Suggest safer alternatives first.";
    type Args = NodeArgs;
    fn call(a: NodeArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::ShutdownNode { node: a.node })
    }
}

#[test]
fn shutdown_node() {
    let node = serde_json::from_value(json!("pve2")).unwrap();
    let call =
        super::check::<ShutdownNode>(json!({"node": "pve2"}), ToolCall::ShutdownNode { node });
    assert_eq!(call.summary(), "Shut down node pve2 (power off)");
}
