//! The supervisor of the background components: one cancellation token for all of them, a
//! tracker shutdown waits on, and [`Supervisor::spawn`] that names each component so its end —
//! expected at shutdown, unexpected otherwise, or a panic — is logged with the name.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Starts, names and stops the background components.
#[derive(Debug, Clone, Default)]
pub struct Supervisor {
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Supervisor {
    /// A supervisor with nothing running.
    pub fn new() -> Supervisor {
        Supervisor::default()
    }

    /// The token every component watches; cancelled at shutdown.
    pub fn token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Runs `component` until it ends. A component is expected to end only when the token is
    /// cancelled; ending earlier, or panicking, is logged as an error with its name (the panic
    /// does not take the server down).
    pub fn spawn<F>(&self, name: &'static str, component: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let cancel = self.cancel.clone();
        self.tracker.spawn(async move {
            match AssertUnwindSafe(component).catch_unwind().await {
                Ok(()) if cancel.is_cancelled() => tracing::debug!(component = name, "stopped"),
                Ok(()) => tracing::error!(component = name, "stopped unexpectedly"),
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".into());
                    tracing::error!(component = name, panic = %what, "component panicked");
                }
            }
        });
    }

    /// Cancels every component and waits for them, at most `grace`; true when all stopped.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.cancel.cancel();
        self.tracker.close();
        tokio::time::timeout(grace, self.tracker.wait()).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn components_stop_on_shutdown_and_a_panic_stays_contained() {
        let s = Supervisor::new();
        let token = s.token();
        s.spawn("waits", async move { token.cancelled().await });
        s.spawn("panics", async { panic!("boom") });
        s.spawn("ends", async {});
        assert!(s.shutdown(Duration::from_secs(5)).await, "every component stopped");
        assert!(s.token().is_cancelled());
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_gives_up_on_a_component_that_never_stops() {
        let s = Supervisor::new();
        s.spawn("stuck", std::future::pending());
        assert!(!s.shutdown(Duration::from_secs(10)).await);
    }
}
