//! The server's integration tests: one binary, real HTTP, a real SQLite file, the simulated PVE
//! cluster over HTTPS, and the real `jarvis` executable where a process boundary matters.

mod auth;
mod chat;
mod chat_api;
mod chat_real_local;
mod chat_recorded;
mod chat_routing;
mod cluster;
mod contract;
mod harness;
mod mcp;
mod monitor;
mod monitor_api;
mod monitor_golden;
mod monitor_rig;
mod monitor_soak;
mod notifications;
#[path = "../support/notify_servers.rs"]
#[allow(dead_code)]
mod notify_servers;
mod pipeline;
mod process;
mod real_sshd;
mod recorded_pve;
mod sio;
mod socket;
mod ssh_tools;
mod tools;
