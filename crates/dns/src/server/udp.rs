//! DNS over UDP: several receive loops on one socket (one per core). Cached answers are sent
//! from the loop itself and their log records collected in the loop's batch; anything else
//! gets a task of its own, so a slow upstream never holds up the loop.

use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use crate::query_log::QueryLogBatch;
use crate::service::{DnsService, Reply, Transport};

/// Larger than any UDP payload, so no datagram is cut on receipt.
const RECEIVE_BUFFER: usize = 65_535;

pub async fn serve_udp(
    socket: UdpSocket,
    service: Arc<DnsService>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let socket = Arc::new(socket);
    let loops = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..loops {
        tasks.spawn(receive_loop(socket.clone(), service.clone(), shutdown.clone()));
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

async fn receive_loop(socket: Arc<UdpSocket>, service: Arc<DnsService>, shutdown: CancellationToken) {
    let mut buf = vec![0u8; RECEIVE_BUFFER];
    // Log records of cached answers, handed over when full or before the loop waits.
    let mut log = QueryLogBatch::new();
    loop {
        if log.is_full() || shutdown.is_cancelled() {
            service.flush_log(&mut log).await;
        }
        let received = match socket.try_recv_from(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                service.flush_log(&mut log).await;
                tokio::select! {
                    _ = shutdown.cancelled() => return, // the batch is empty here
                    received = socket.recv_from(&mut buf) => received,
                }
            }
            other => other,
        };
        let (n, client) = match received {
            Ok(r) => r,
            Err(e) => {
                // ICMP errors of earlier replies surface here on some systems; not fatal.
                tracing::debug!(error = %e, "DNS UDP receive failed");
                continue;
            }
        };
        // A cached answer goes out first; its log record is written after.
        if let Some((bytes, hit)) = service.answer_cached(&buf[..n], client, Transport::Udp) {
            if let Err(e) = socket.send_to(&bytes, client).await {
                tracing::debug!(error = %e, %client, "DNS UDP reply not sent");
            }
            service.log_cached(hit, &mut log).await;
            continue;
        }
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
