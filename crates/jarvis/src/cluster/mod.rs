//! The one in-memory cluster state and the poller that fills it.
//!
//! Everything that needs cluster data (dashboard push, REST snapshot, later the chat context and
//! the monitor) reads [`ClusterState`]; only the poller talks to PVE.

mod poller;
mod state;
pub mod temperatures;

pub use poller::{Poller, apply_poll};
pub use state::ClusterState;
