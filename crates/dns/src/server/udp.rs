//! DNS over UDP: one task per packet, so a slow upstream never holds up cached answers.

use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use crate::service::{DnsService, Reply, Transport};

/// Larger than any UDP payload, so no datagram is cut on receipt.
const RECEIVE_BUFFER: usize = 65_535;

pub async fn serve_udp(
    socket: UdpSocket,
    service: Arc<DnsService>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let socket = Arc::new(socket);
    let mut buf = vec![0u8; RECEIVE_BUFFER];
    loop {
        let (n, client) = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            received = socket.recv_from(&mut buf) => match received {
                Ok(r) => r,
                Err(e) => {
                    // ICMP errors of earlier replies surface here on some systems; not fatal.
                    tracing::debug!(error = %e, "DNS UDP receive failed");
                    continue;
                }
            },
        };
        let packet = buf[..n].to_vec();
        let (socket, service) = (socket.clone(), service.clone());
        tokio::spawn(async move {
            if let Reply::One(bytes) = service.handle(&packet, client, Transport::Udp).await
                && let Err(e) = socket.send_to(&bytes, client).await
            {
                tracing::debug!(error = %e, %client, "DNS UDP reply not sent");
            }
        });
    }
}
