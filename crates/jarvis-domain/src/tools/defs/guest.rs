//! Tools about one guest: its configuration (GREEN), starting it (YELLOW) and stopping, shutting
//! down or rebooting it (RED: only after the operator approves a server-side confirmation).
//! The executor checks the guest's type and node against the cluster before PVE sees anything.

#[cfg(test)]
use serde_json::json;

use crate::tools::args::GuestArgs;
use crate::tools::{Tier, ToolCall, ToolDef};

/// The call a guest tool's test expects for `{"node": "pve1", "vmid": 101}`, and its summary.
#[cfg(test)]
fn check_guest<T: ToolDef>(
    variant: fn(crate::ids::NodeName, crate::ids::VmId) -> ToolCall,
) -> String {
    let node = serde_json::from_value(json!("pve1")).unwrap();
    let vmid = crate::ids::VmId::new(101).unwrap();
    let call = super::check::<T>(json!({"node": "pve1", "vmid": 101}), variant(node, vmid));
    let message = super::refusal::<T>(json!({"node": "pve1", "vmid": 99}));
    assert!(message.contains("vmid"), "{message}");
    call.summary()
}

/// `get_guest_config`: one guest's configuration.
pub(crate) struct GetGuestConfig;

impl ToolDef for GetGuestConfig {
    const NAME: &'static str = "get_guest_config";
    const TIER: Tier = Tier::Green;
    const MUTATING: bool = false;
    const DESCRIPTION: &'static str = concat!(
        "Configuration of one VM or container (cores, memory, disks, network, boot order). \
         Use before suggesting changes or to explain a guest's setup.",
        data_note!()
    );
    type Args = GuestArgs;
    fn call(a: GuestArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::GetGuestConfig { node: a.node, vmid: a.vmid })
    }
}

#[test]
fn get_guest_config() {
    let summary =
        check_guest::<GetGuestConfig>(|node, vmid| ToolCall::GetGuestConfig { node, vmid });
    assert_eq!(summary, "Read the config of guest 101 on pve1");
}

/// `start_vm`: start a stopped QEMU VM.
pub(crate) struct StartVm;

impl ToolDef for StartVm {
    const NAME: &'static str = "start_vm";
    const TIER: Tier = Tier::Yellow;
    const MUTATING: bool = true;
    const DESCRIPTION: &'static str =
        "Start a stopped QEMU VM and wait for the start task to finish.";
    type Args = GuestArgs;
    fn call(a: GuestArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::StartVm { node: a.node, vmid: a.vmid })
    }
}

#[test]
fn start_vm() {
    let summary = check_guest::<StartVm>(|node, vmid| ToolCall::StartVm { node, vmid });
    assert_eq!(summary, "Start VM 101 on node pve1");
}

/// `start_container`: start a stopped LXC container.
pub(crate) struct StartContainer;

impl ToolDef for StartContainer {
    const NAME: &'static str = "start_container";
    const TIER: Tier = Tier::Yellow;
    const MUTATING: bool = true;
    const DESCRIPTION: &'static str =
        "Start a stopped LXC container and wait for the start task to finish.";
    type Args = GuestArgs;
    fn call(a: GuestArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::StartContainer { node: a.node, vmid: a.vmid })
    }
}

#[test]
fn start_container() {
    let summary =
        check_guest::<StartContainer>(|node, vmid| ToolCall::StartContainer { node, vmid });
    assert_eq!(summary, "Start container 101 on node pve1");
}

/// `stop_vm`: hard power-off of a QEMU VM.
pub(crate) struct StopVm;

impl ToolDef for StopVm {
    const NAME: &'static str = "stop_vm";
    const TIER: Tier = Tier::Red;
    const MUTATING: bool = true;
    const DESCRIPTION: &'static str = "Hard-stop a QEMU VM immediately, like pulling the power \
        cord (data in flight may be lost). Prefer shutdown_vm. Needs the operator's \
        confirmation.";
    type Args = GuestArgs;
    fn call(a: GuestArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::StopVm { node: a.node, vmid: a.vmid })
    }
}

#[test]
fn stop_vm() {
    let summary = check_guest::<StopVm>(|node, vmid| ToolCall::StopVm { node, vmid });
    assert_eq!(summary, "Stop VM 101 on node pve1 (hard power-off)");
}

/// `shutdown_vm`: clean ACPI / guest-agent shutdown of a QEMU VM.
pub(crate) struct ShutdownVm;

impl ToolDef for ShutdownVm {
    const NAME: &'static str = "shutdown_vm";
    const TIER: Tier = Tier::Red;
    const MUTATING: bool = true;
    const DESCRIPTION: &'static str = "Cleanly shut down a QEMU VM through ACPI or the guest \
        agent. Needs the operator's confirmation.";
    type Args = GuestArgs;
    fn call(a: GuestArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::ShutdownVm { node: a.node, vmid: a.vmid })
    }
}

#[test]
fn shutdown_vm() {
    let summary = check_guest::<ShutdownVm>(|node, vmid| ToolCall::ShutdownVm { node, vmid });
    assert_eq!(summary, "Shut down VM 101 on node pve1 (clean shutdown)");
}

/// `restart_vm`: reboot a running QEMU VM.
pub(crate) struct RestartVm;

impl ToolDef for RestartVm {
    const NAME: &'static str = "restart_vm";
    const TIER: Tier = Tier::Red;
    const MUTATING: bool = true;
    const DESCRIPTION: &'static str =
        "Reboot a running QEMU VM. Needs the operator's confirmation.";
    type Args = GuestArgs;
    fn call(a: GuestArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::RestartVm { node: a.node, vmid: a.vmid })
    }
}

#[test]
fn restart_vm() {
    let summary = check_guest::<RestartVm>(|node, vmid| ToolCall::RestartVm { node, vmid });
    assert_eq!(summary, "Reboot VM 101 on node pve1");
}

/// `stop_container`: hard stop of an LXC container.
pub(crate) struct StopContainer;

impl ToolDef for StopContainer {
    const NAME: &'static str = "stop_container";
    const TIER: Tier = Tier::Red;
    const MUTATING: bool = true;
    const DESCRIPTION: &'static str = "Hard-stop an LXC container immediately. Prefer \
        shutdown_container. Needs the operator's confirmation.";
    type Args = GuestArgs;
    fn call(a: GuestArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::StopContainer { node: a.node, vmid: a.vmid })
    }
}

#[test]
fn stop_container() {
    let summary = check_guest::<StopContainer>(|node, vmid| ToolCall::StopContainer { node, vmid });
    assert_eq!(summary, "Stop container 101 on node pve1 (hard stop)");
}

/// `shutdown_container`: clean shutdown of an LXC container.
pub(crate) struct ShutdownContainer;

impl ToolDef for ShutdownContainer {
    const NAME: &'static str = "shutdown_container";
    const TIER: Tier = Tier::Red;
    const MUTATING: bool = true;
    const DESCRIPTION: &'static str =
        "Cleanly shut down an LXC container. Needs the operator's confirmation.";
    type Args = GuestArgs;
    fn call(a: GuestArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::ShutdownContainer { node: a.node, vmid: a.vmid })
    }
}

#[test]
fn shutdown_container() {
    let summary =
        check_guest::<ShutdownContainer>(|node, vmid| ToolCall::ShutdownContainer { node, vmid });
    assert_eq!(summary, "Shut down container 101 on node pve1 (clean shutdown)");
}

/// `restart_container`: reboot a running LXC container.
pub(crate) struct RestartContainer;

impl ToolDef for RestartContainer {
    const NAME: &'static str = "restart_container";
    const TIER: Tier = Tier::Red;
    const MUTATING: bool = true;
    const DESCRIPTION: &'static str =
        "Reboot a running LXC container. Needs the operator's confirmation.";
    type Args = GuestArgs;
    fn call(a: GuestArgs) -> Result<ToolCall, String> {
        Ok(ToolCall::RestartContainer { node: a.node, vmid: a.vmid })
    }
}

#[test]
fn restart_container() {
    let summary =
        check_guest::<RestartContainer>(|node, vmid| ToolCall::RestartContainer { node, vmid });
    assert_eq!(summary, "Reboot container 101 on node pve1");
}
