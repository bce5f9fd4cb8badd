//! The edge's listening sockets (`[edge] http` and `https`), which a reload may move: the new
//! addresses are bound before anything changes, so a reload whose address cannot be bound
//! leaves the sockets, sites and rulesets in force; a listener that is moved or removed stops
//! accepting while its connections finish the requests they are serving (HTTP/1.1 keep-alive
//! and HTTP/2 connections then close, as on shutdown).

use std::net::SocketAddr;
use std::sync::Arc;

use mamori_core::config::edge::EdgeConfig;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::server::EdgeContext;

/// Which listener: the configuration key it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    Http,
    Https,
}

impl ListenerKind {
    pub fn key(self) -> &'static str {
        match self {
            ListenerKind::Http => "edge.http",
            ListenerKind::Https => "edge.https",
        }
    }
}

/// A listen address that could not be bound.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on TCP {addr} ({}): {source}; is another program using it?", .kind.key())]
pub struct ListenError {
    pub kind: ListenerKind,
    pub addr: SocketAddr,
    #[source]
    pub source: std::io::Error,
}

/// The addresses a configuration asks for. Without any certificate every TLS handshake would
/// fail: no HTTPS listener then.
pub fn wanted(config: &EdgeConfig) -> [(ListenerKind, Option<SocketAddr>); 2] {
    let certificates = config.sites.iter().any(|s| s.tls_cert.is_some());
    [(ListenerKind::Http, config.http), (ListenerKind::Https, config.https.filter(|_| certificates))]
}

struct Running {
    /// As configured (port 0 stays 0 here, so that an unchanged configuration keeps it).
    configured: SocketAddr,
    local: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

/// The listeners in force; `shutdown` stops them all (each has a child token of its own).
pub(crate) struct Listeners {
    shutdown: CancellationToken,
    running: Vec<(ListenerKind, Running)>,
}

impl Listeners {
    pub(crate) fn new(shutdown: CancellationToken) -> Listeners {
        Listeners { shutdown, running: Vec::new() }
    }

    fn get(&self, kind: ListenerKind) -> Option<&Running> {
        self.running.iter().find(|(k, _)| *k == kind).map(|(_, r)| r)
    }

    /// The bound local addresses.
    pub(crate) fn local(&self, kind: ListenerKind) -> Option<SocketAddr> {
        self.get(kind).map(|r| r.local)
    }

    /// Binds what `config` asks for and is not bound yet; nothing changes on an error.
    pub(crate) async fn bind_changes(&self, config: &EdgeConfig) -> Result<Changes, ListenError> {
        let mut changes = Changes::default();
        for (kind, addr) in wanted(config) {
            let current = self.get(kind).map(|r| r.configured);
            if current == addr {
                continue;
            }
            let bound = match addr {
                Some(addr) => {
                    Some((addr, TcpListener::bind(addr).await.map_err(|source| ListenError { kind, addr, source })?))
                }
                None => None,
            };
            changes.0.push((kind, bound));
        }
        Ok(changes)
    }

    /// Serves the newly bound listeners and stops the ones they replace; returns when the
    /// replaced sockets are closed (their connections go on until their requests are done).
    pub(crate) async fn apply(&mut self, ctx: &Arc<EdgeContext>, changes: Changes) {
        for (kind, bound) in changes.0 {
            if let Some(i) = self.running.iter().position(|(k, _)| *k == kind) {
                let (_, old) = self.running.remove(i);
                old.stop.cancel();
                match old.task.await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(listener = kind.key(), error = %e, "edge listener ended with an error")
                    }
                    Err(e) => tracing::warn!(listener = kind.key(), error = %e, "edge listener task failed"),
                }
                tracing::info!(listener = kind.key(), local = %old.local, "edge listener stopped (configuration changed)");
            }
            let Some((configured, listener)) = bound else { continue };
            let local = listener.local_addr().unwrap_or(configured);
            let stop = self.shutdown.child_token();
            let task = match kind {
                ListenerKind::Http => tokio::spawn(crate::server::serve_http(listener, ctx.clone(), stop.clone())),
                ListenerKind::Https => tokio::spawn(crate::server::serve_https(listener, ctx.clone(), stop.clone())),
            };
            self.running.push((kind, Running { configured, local, stop, task }));
        }
    }

    /// Stops every listener (after shutdown) and waits for the accept loops to end.
    pub(crate) async fn close(&mut self) -> std::io::Result<()> {
        let mut result = Ok(());
        for (_, r) in self.running.drain(..) {
            r.stop.cancel();
            match r.task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => result = result.and(Err(e)),
                Err(e) => result = result.and(Err(std::io::Error::other(e))),
            }
        }
        result
    }
}

/// Listeners to start (bound already) or stop: `None` stops the kind's listener.
#[derive(Default)]
pub(crate) struct Changes(Vec<(ListenerKind, Option<(SocketAddr, TcpListener)>)>);

impl Changes {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// What changes, for the log: `edge.http 127.0.0.1:8081`, `edge.https off`.
    pub(crate) fn describe(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(kind, bound)| match bound {
                Some((addr, _)) => format!("{} {addr}", kind.key()),
                None => format!("{} off", kind.key()),
            })
            .collect();
        parts.join(", ")
    }
}
