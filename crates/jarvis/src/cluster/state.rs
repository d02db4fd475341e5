//! [`ClusterState`]: the latest snapshot behind a `watch` channel.
//!
//! Readers get an `Arc` of an immutable snapshot, so a reader never blocks the poller and a slow
//! consumer (a browser on a bad link) never holds anything up: it just sees the newest version
//! when it next looks.

use std::sync::Arc;

use jarvis_domain::ClusterSnapshot;
use tokio::sync::watch;

/// Shared, versioned cluster snapshot. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ClusterState {
    tx: Arc<watch::Sender<Arc<ClusterSnapshot>>>,
}

impl Default for ClusterState {
    fn default() -> Self {
        Self::new()
    }
}

impl ClusterState {
    /// An empty state, before the first poll.
    pub fn new() -> Self {
        let (tx, _) = watch::channel(Arc::new(ClusterSnapshot::empty()));
        Self { tx: Arc::new(tx) }
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<ClusterSnapshot> {
        self.tx.borrow().clone()
    }

    /// A receiver that wakes on every published snapshot.
    pub fn subscribe(&self) -> watch::Receiver<Arc<ClusterSnapshot>> {
        self.tx.subscribe()
    }

    /// Publishes a new snapshot (only when it differs, so subscribers wake only on change).
    pub fn publish(&self, snapshot: ClusterSnapshot) {
        self.update(|_| snapshot);
    }

    /// Atomically derives the next snapshot from the current one. The poller and the
    /// temperature reader both write; doing read-modify-write under the channel's lock means
    /// neither can overwrite the other's newer data. `f` must be quick and do no IO.
    pub fn update(&self, f: impl FnOnce(&ClusterSnapshot) -> ClusterSnapshot) {
        self.tx.send_if_modified(|current| {
            let next = f(current);
            if **current == next {
                false
            } else {
                *current = Arc::new(next);
                true
            }
        });
    }
}
