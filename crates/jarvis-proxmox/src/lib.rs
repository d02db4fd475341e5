//! Typed Proxmox VE API client (requirement CORE-07).
//!
//! The server reads PVE through the [`ProxmoxApi`] trait (`Arc<dyn ProxmoxApi>`) and changes it
//! through the separate [`ProxmoxActions`] trait (guest and node power, Wake-on-LAN), which only
//! the server's tool pipeline holds. [`PveClient`] implements both, against real PVE or the
//! simulator (`jarvis-sim`).
//!
//! - API-token auth (`Authorization: PVEAPIToken=user@realm!name=secret`) on every call.
//! - TLS per [`TlsMode`]: system roots, the cluster CA only, SHA-256 fingerprint pins (no
//!   hostname check), or explicit insecure mode. One `reqwest::Client`, rustls with aws-lc-rs,
//!   configured explicitly; nothing process-wide is touched.
//! - Failover across the configured endpoints and the node IPs discovered from
//!   `/cluster/status`, with per-endpoint health and backoff.
//! - Tolerant models: numbers as strings, 0/1 booleans, missing and unknown fields.
//! - PVE's error texts (reason phrase, `message`, `errors`) surfaced in a branchable
//!   [`PveError`].
//! - UPID task polling ([`ProxmoxApi::wait_for_task`]) on the node that runs the task.
//! - [`read_cluster`]: one poll of nodes, guests, storage and quorum as domain types.
//!
//! Module map: [`config`] (settings and their parsers), [`tls`] (trust and verifiers),
//! [`error`], [`de`] (lenient serde helpers), [`models`] and [`task`] (payloads), [`upid`],
//! [`endpoints`] (failover bookkeeping), [`client`] (HTTP engine + trait impl), [`api`] (the
//! traits), [`cluster`] (mapping to domain types).

pub mod api;
pub mod client;
pub mod cluster;
pub mod config;
pub mod content;
pub mod de;
pub mod endpoints;
pub mod error;
pub mod models;
pub mod task;
pub mod tls;
pub mod upid;

pub use api::{Consolidation, GuestAction, ProxmoxActions, ProxmoxApi, ResourceKind, Timeframe};
pub use client::PveClient;
pub use cluster::{ClusterView, map_cluster, read_cluster};
pub use config::{
    ConfigError, PveConfig, TlsMode, format_fingerprint, parse_endpoint, parse_endpoints,
    parse_fingerprint, parse_fingerprints,
};
pub use content::{NodePower, StorageContent};
pub use endpoints::EndpointHealth;
pub use error::PveError;
pub use models::{
    ClusterResource, ClusterStatusEntry, CpuInfo, GuestCurrent, HaStatus, NodeListEntry,
    NodeStatusInfo, NodeStorage, ResourceType, RrdPoint, Usage, Version,
};
pub use task::{TaskListEntry, TaskStatus};
pub use upid::{Upid, UpidParseError};
