//! Integration tests: a real simulator on a loopback port, called over real HTTP(S).
//!
//! Wire shapes are compared against the recorded PVE responses in `fixtures/pve/` (copied in from the shared reference set)
//! (key sets and JSON types), behaviour against what real PVE does. The per-node SSH servers
//! are tested with russh's client side (and OpenSSH's `ssh` where installed).

mod behaviour;
mod common;
mod control_http;
mod faults;
mod scale;
mod scenario;
mod scenario_http;
mod scenario_tasks;
mod shapes;
mod ssh;
mod ssh_client;
mod ssh_pty;
mod tls;
