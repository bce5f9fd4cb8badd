//! The accept step every TCP service shares.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// The next connection of `listener`, or `None` once `shutdown` is cancelled. A failed accept
/// (out of file descriptors and the like) is logged and retried after a pause instead of
/// spinning.
pub async fn next_connection(
    listener: &TcpListener,
    shutdown: &CancellationToken,
    service: &'static str,
) -> Option<(TcpStream, SocketAddr)> {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            accepted = listener.accept() => match accepted {
                Ok(connection) => return Some(connection),
                Err(e) => {
                    tracing::warn!(error = %e, service, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}
