//! Syslog over TCP (RFC 6587): octet counting and LF/CRLF/NUL framing, detected per frame.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::CollectContext;
use super::stream::serve_connection;
use crate::metrics::Transport;

/// Accepts connections on `listener` until `shutdown` is cancelled, then waits for every
/// connection to submit what it had read. Each connection is served by its own task.
pub async fn serve(listener: TcpListener, ctx: Arc<CollectContext>, shutdown: CancellationToken) -> io::Result<()> {
    let handler_ctx = ctx.clone();
    accept_loop(listener, shutdown, move |stream, peer, shutdown| {
        serve_connection(stream, peer, Transport::Tcp, handler_ctx.clone(), shutdown)
    })
    .await
}

/// The accept loop shared by TCP and TLS: spawns `handle` per connection, keeps accepting
/// through transient errors (out of file descriptors, aborted handshakes), and on shutdown
/// waits for the connection tasks.
pub(super) async fn accept_loop<F, Fut>(listener: TcpListener, shutdown: CancellationToken, handle: F) -> io::Result<()>
where
    F: Fn(TcpStream, SocketAddr, CancellationToken) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let local = listener.local_addr()?;
    tracing::info!(%local, "syslog listener started");
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // Syslog lines are small and latency matters more than packet count.
                    let _ = stream.set_nodelay(true);
                    connections.spawn(handle(stream, peer, shutdown.clone()));
                }
                Err(e) => {
                    tracing::warn!(%local, error = %e, "accept failed");
                    // EMFILE and friends: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    tracing::info!(%local, "syslog listener stopped");
    Ok(())
}
