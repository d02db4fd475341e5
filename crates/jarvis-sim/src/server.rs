//! Listeners and connections: the main endpoint and the optional per-node endpoints
//! (127.0.1.x at the same port), taking an endpoint down (its listener is dropped, so new
//! connections are refused, and its open connections are cut) and back up (rebound on the same
//! address), TLS handshakes, and serving each connection with hyper's HTTP/1.1 server.
//!
//! HTTP/1.1 only, like pveproxy — which is also what lets the reason phrase carry PVE's error
//! text. The shared state every request reaches lives in [`Shared`]. The accept loop and the
//! listener bookkeeping ([`Running`]) are shared with the per-node SSH servers (`crate::ssh`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use parking_lot::Mutex;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::config::{SimConfig, SimError};
use crate::control::Faults;
use crate::model::Cluster;
use crate::tls::TlsMaterial;

/// State shared by every connection, the ticker and [`crate::SimControl`].
pub(crate) struct Shared {
    pub cfg: SimConfig,
    /// The per-node SSH servers (None when `cfg.ssh` is off).
    pub ssh: Option<crate::ssh::SshState>,
    pub cluster: Mutex<Cluster>,
    pub faults: Mutex<Faults>,
    pub requests: AtomicU64,
    pub tls: Option<TlsMaterial>,
    pub endpoints: Vec<Endpoint>,
    /// The node-online epoch the endpoints were last synced to (see `Cluster::epoch`).
    pub synced_epoch: AtomicU64,
    /// Cancelled on shutdown; every listener and connection token is a child of it.
    pub cancel: CancellationToken,
    pub tracker: TaskTracker,
    /// Runtime the simulator was started on, so synchronous control calls can rebind listeners.
    pub runtime: tokio::runtime::Handle,
}

/// One listening address.
pub(crate) struct Endpoint {
    pub addr: SocketAddr,
    /// The node this endpoint belongs to (None for the main listener).
    pub node: Option<usize>,
    state: Mutex<EndpointState>,
}

#[derive(Default)]
struct EndpointState {
    /// Taken down through `set_endpoint_down`.
    manual_down: bool,
    /// Set while listening.
    running: Option<Running>,
}

/// A listening endpoint's resources, kept here so taking it down is immediate: the listener is
/// dropped and every open connection shut down before `set_endpoint_down` returns, instead of
/// whenever the tasks next run.
pub(crate) struct Running {
    pub token: CancellationToken,
    pub listener: Arc<Mutex<Option<TcpListener>>>,
    pub conns: Arc<Mutex<HashMap<u64, std::net::TcpStream>>>,
}

impl Running {
    /// Wraps a listener (registered with the runtime already) with a child token of `parent`.
    pub fn new(parent: &CancellationToken, listener: TcpListener) -> Self {
        Self {
            token: parent.child_token(),
            listener: Arc::new(Mutex::new(Some(listener))),
            conns: Arc::default(),
        }
    }

    /// Drops the listener (new connections are refused), cuts every open connection and
    /// cancels the tasks serving them.
    pub fn stop(self) {
        drop(self.listener.lock().take());
        for (_, conn) in self.conns.lock().drain() {
            let _ = conn.shutdown(std::net::Shutdown::Both);
        }
        self.token.cancel();
    }
}

impl Endpoint {
    pub fn new(addr: SocketAddr, node: Option<usize>) -> Self {
        Self { addr, node, state: Mutex::new(EndpointState::default()) }
    }

    /// Whether the endpoint is currently listening.
    pub fn is_up(&self) -> bool {
        self.state.lock().running.is_some()
    }
}

/// Marks which endpoint a request came in on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EndpointIdx(pub usize);

/// Binds a listening socket, with a message that says what to do when it fails.
pub(crate) fn bind_std(addr: SocketAddr) -> Result<std::net::TcpListener, SimError> {
    // Any 127.x address but 127.0.0.1 is an alias that some systems do not route to lo.
    let alias =
        matches!(addr.ip(), IpAddr::V4(v4) if v4.octets()[0] == 127 && v4 != Ipv4Addr::LOCALHOST);
    let hint = if alias {
        " (per-node endpoints need the 127.0.x.y loopback addresses: Linux routes all of \
         127.0.0.0/8 to lo; elsewhere add aliases, e.g. `ifconfig lo0 alias 127.0.1.1`)"
    } else {
        ""
    };
    let listener = std::net::TcpListener::bind(addr).map_err(|source| SimError::Bind {
        addr,
        source,
        hint,
    })?;
    listener.set_nonblocking(true).map_err(|source| SimError::Bind { addr, source, hint: "" })?;
    Ok(listener)
}

impl Shared {
    /// Starts serving endpoint `i` on an already bound listener.
    pub fn serve_endpoint(
        self: &Arc<Self>,
        i: usize,
        listener: std::net::TcpListener,
    ) -> Result<(), SimError> {
        let ep = &self.endpoints[i];
        let listener = {
            let _rt = self.runtime.enter();
            TcpListener::from_std(listener).map_err(|source| SimError::Bind {
                addr: ep.addr,
                source,
                hint: "",
            })?
        };
        let running = Running::new(&self.cancel, listener);
        let router = crate::http::router(self.clone());
        let shared = self.clone();
        let task = accept_loop(self.clone(), &running, move |stream, token| {
            serve_connection(shared.clone(), i, stream, token, router.clone())
        });
        ep.state.lock().running = Some(running);
        self.tracker.spawn_on(task, &self.runtime);
        Ok(())
    }

    /// Stops every endpoint and SSH server at once (shutdown).
    pub fn stop_all(&self) {
        if let Some(ssh) = &self.ssh {
            ssh.stop_all();
        }
        for ep in &self.endpoints {
            if let Some(r) = ep.state.lock().running.take() {
                r.stop();
            }
        }
    }

    /// Brings endpoint `i` to the state it should have: listening unless taken down by hand or
    /// its node is offline.
    pub fn sync_endpoint(self: &Arc<Self>, i: usize, node_online: bool) -> Result<(), SimError> {
        let ep = &self.endpoints[i];
        let want_up = {
            let st = ep.state.lock();
            !st.manual_down && (ep.node.is_none() || node_online)
        };
        let is_up = ep.state.lock().running.is_some();
        match (want_up, is_up) {
            (true, false) => {
                if self.cancel.is_cancelled() {
                    return Ok(());
                }
                let l = bind_std(ep.addr)?;
                self.serve_endpoint(i, l)
            }
            (false, true) => {
                let running = ep.state.lock().running.take();
                if let Some(r) = running {
                    r.stop();
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Sets the manual down flag of endpoint `i` and applies it.
    pub fn set_endpoint_down(self: &Arc<Self>, i: usize, down: bool) -> Result<(), SimError> {
        let ep = self.endpoints.get(i).ok_or(SimError::UnknownEndpoint(i))?;
        ep.state.lock().manual_down = down;
        let online = match ep.node {
            Some(n) => self.cluster.lock().nodes[n].online,
            None => true,
        };
        self.sync_endpoint(i, online)
    }

    /// Re-syncs node endpoints after node online states may have changed.
    pub fn sync_node_endpoints(self: &Arc<Self>) {
        crate::ssh::sync_listeners(self);
        if self.endpoints.len() < 2 {
            return;
        }
        let (epoch, online): (u64, Vec<bool>) = {
            let cl = self.cluster.lock();
            (cl.epoch, cl.nodes.iter().map(|n| n.online).collect())
        };
        if self.synced_epoch.swap(epoch, Ordering::AcqRel) == epoch {
            return;
        }
        for i in 1..self.endpoints.len() {
            let node_online = self.endpoints[i].node.is_none_or(|n| online[n]);
            if let Err(e) = self.sync_endpoint(i, node_online) {
                tracing::warn!(endpoint = i, error = %e, "simulator endpoint could not follow its node");
            }
        }
    }
}

/// Accepts connections on `running`'s listener until it is dropped or cancelled, and serves
/// each with `serve` on the tracker, keeping a duplicate socket so `Running::stop` can cut it.
pub(crate) fn accept_loop<F, Fut>(
    shared: Arc<Shared>,
    running: &Running,
    serve: F,
) -> impl Future<Output = ()> + Send + 'static
where
    F: Fn(TcpStream, CancellationToken) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (listener, conns, token) =
        (running.listener.clone(), running.conns.clone(), running.token.clone());
    async move {
        let mut next_id = 0u64;
        loop {
            let accepted = std::future::poll_fn(|cx| match listener.lock().as_ref() {
                Some(l) => l.poll_accept(cx).map(Some),
                None => std::task::Poll::Ready(None),
            });
            let stream = tokio::select! {
                _ = token.cancelled() => break,
                accepted = accepted => match accepted {
                    None => break,
                    Some(Ok((stream, _))) => stream,
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "simulator accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        continue;
                    }
                },
            };
            // Keep a duplicate of the socket so the endpoint can cut it synchronously.
            let Ok(std_stream) = stream.into_std() else { continue };
            let Ok(dup) = std_stream.try_clone() else { continue };
            let Ok(stream) = TcpStream::from_std(std_stream) else { continue };
            next_id += 1;
            let id = next_id;
            conns.lock().insert(id, dup);
            let conns = conns.clone();
            let conn = serve(stream, token.clone());
            shared.tracker.spawn(async move {
                conn.await;
                conns.lock().remove(&id);
            });
        }
        // The listener is dropped by whoever took it out of the slot (or here, on shutdown).
        drop(listener.lock().take());
    }
}

async fn serve_connection(
    shared: Arc<Shared>,
    i: usize,
    stream: TcpStream,
    token: CancellationToken,
    router: Router,
) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(EndpointIdx(i));
        let router = router.clone();
        async move {
            let res = router.oneshot(req).await;
            Ok::<_, Infallible>(res.unwrap_or_else(|never| match never {}))
        }
    });
    let builder = {
        let mut b = hyper::server::conn::http1::Builder::new();
        b.timer(TokioTimer::new());
        b
    };
    match &shared.tls {
        Some(tls) => {
            let accepted = tokio::select! {
                _ = token.cancelled() => return,
                r = tls.acceptor.accept(stream) => r,
            };
            let Ok(tls_stream) = accepted else { return };
            let conn = builder.serve_connection(TokioIo::new(tls_stream), service);
            tokio::select! {
                _ = token.cancelled() => {}
                _ = conn => {}
            }
        }
        None => {
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = token.cancelled() => {}
                _ = conn => {}
            }
        }
    }
}
