//! Integration tests: a real simulator on a loopback port, called over real HTTP(S).
//!
//! Wire shapes are compared against the recorded PVE responses in `shared/fixtures/pve/`
//! (key sets and JSON types), behaviour against what real PVE does.

mod behaviour;
mod common;
mod control_http;
mod faults;
mod scale;
mod shapes;
mod tls;
