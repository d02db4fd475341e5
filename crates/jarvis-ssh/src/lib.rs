//! SSH to cluster nodes: pooled connections, exec with timeouts and output caps, PTY sessions and
//! host-key pinning behind the `RemoteExec` trait. Empty until the tools issue lands it.
