//! DNS over TCP (RFC 7766): two-byte length prefixed messages, several per connection,
//! answered in order; idle connections are closed, and at most `max_tcp_connections` are open.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::service::{DnsService, Reply, Transport};

/// RFC 7766 §6.2.3: servers may close idle connections; a few seconds is usual.
const IDLE: Duration = Duration::from_secs(10);

pub async fn serve_tcp(
    listener: TcpListener,
    service: Arc<DnsService>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    while let Some((stream, client)) = mamori_core::accept::next_connection(&listener, &shutdown, "dns").await {
        // Over the cap: closed at once, so that many idle connections cannot starve the rest.
        let Some(slot) = service.tcp_slot() else {
            service.metrics().reject("tcp_connections");
            tracing::debug!(%client, "DNS TCP connection refused: too many open");
            drop(stream);
            continue;
        };
        let (service, shutdown) = (service.clone(), shutdown.clone());
        tokio::spawn(async move {
            let _slot = slot;
            tokio::select! {
                _ = shutdown.cancelled() => {}
                r = connection(stream, client, service) => if let Err(e) = r {
                    tracing::debug!(error = %e, %client, "DNS TCP connection ended");
                },
            }
        });
    }
    Ok(())
}

async fn connection(
    mut stream: TcpStream,
    client: std::net::SocketAddr,
    service: Arc<DnsService>,
) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    loop {
        let len = match tokio::time::timeout(IDLE, stream.read_u16()).await {
            Err(_) => return Ok(()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(r) => r? as usize,
        };
        let mut packet = vec![0u8; len];
        tokio::time::timeout(IDLE, stream.read_exact(&mut packet))
            .await
            .map_err(|_| std::io::ErrorKind::TimedOut)??;
        let replies = match service.handle(&packet, client, Transport::Tcp).await {
            Reply::One(b) => vec![b],
            Reply::Many(v) => v,
            Reply::Nothing => continue,
        };
        for reply in replies {
            let Ok(n) = u16::try_from(reply.len()) else { continue };
            stream.write_all(&n.to_be_bytes()).await?;
            stream.write_all(&reply).await?;
        }
    }
}
