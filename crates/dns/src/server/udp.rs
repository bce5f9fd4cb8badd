//! DNS over UDP: several receive loops on one socket (one per core). Cached answers are sent
//! from the loop itself and their log records collected in the loop's batch; anything else
//! gets a task of its own, so a slow upstream never holds up the loop. On Linux a loop takes
//! many datagrams per system call and sends the cached answers to them together.

use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use super::rate_limit::{Verdict, truncated_reply};
use crate::query_log::QueryLogBatch;
use crate::service::{DnsService, Reply, Transport};

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

#[cfg(target_os = "linux")]
async fn receive_loop(socket: Arc<UdpSocket>, service: Arc<DnsService>, shutdown: CancellationToken) {
    use super::mmsg::{Inbox, Outbox, SLOTS};

    let mut inbox = Inbox::new();
    let mut outbox = Outbox::default();
    let mut answered = Vec::with_capacity(SLOTS);
    // Log records of cached answers, handed over when full or before the loop waits.
    let mut log = QueryLogBatch::new();
    loop {
        if shutdown.is_cancelled() {
            return service.flush_log(&mut log).await;
        }
        if log.is_full() {
            service.flush_log(&mut log).await;
        }
        let count = match inbox.receive(&socket) {
            Ok(count) => count,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if !wait_readable(&socket, &service, &mut log, &shutdown).await {
                    return service.flush_log(&mut log).await;
                }
                continue;
            }
            Err(e) => {
                // ICMP errors of earlier replies surface here on some systems; not fatal.
                tracing::debug!(error = %e, "DNS UDP receive failed");
                continue;
            }
        };
        for slot in 0..count {
            let Some((packet, client)) = inbox.datagram(slot) else { continue };
            match service.udp_verdict(client.ip()) {
                Verdict::Answer => {}
                Verdict::Drop => continue,
                Verdict::Slip => {
                    if let Some(reply) = truncated_reply(packet) {
                        outbox.push(reply, slot);
                    }
                    continue;
                }
            }
            match service.answer_cached(packet, client, Transport::Udp) {
                Some((bytes, hit)) => {
                    outbox.push(bytes, slot);
                    answered.push((hit, slot));
                }
                None => answer_in_task(&socket, &service, packet.to_vec(), client),
            }
        }
        // The cached answers go out first; their log records are written after.
        outbox.send(&socket, &inbox).await;
        for (hit, slot) in answered.drain(..) {
            let packet = inbox.datagram(slot).map_or(&[][..], |(packet, _)| packet);
            service.log_cached(hit, packet, &mut log).await;
        }
    }
}

#[cfg(not(target_os = "linux"))]
async fn receive_loop(socket: Arc<UdpSocket>, service: Arc<DnsService>, shutdown: CancellationToken) {
    /// Larger than any UDP payload, so no datagram is cut on receipt.
    const RECEIVE_BUFFER: usize = 65_535;
    let mut buf = vec![0u8; RECEIVE_BUFFER];
    let mut log = QueryLogBatch::new();
    loop {
        if shutdown.is_cancelled() {
            return service.flush_log(&mut log).await;
        }
        if log.is_full() {
            service.flush_log(&mut log).await;
        }
        let (n, client) = match socket.try_recv_from(&mut buf) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if !wait_readable(&socket, &service, &mut log, &shutdown).await {
                    return service.flush_log(&mut log).await;
                }
                continue;
            }
            Err(e) => {
                tracing::debug!(error = %e, "DNS UDP receive failed");
                continue;
            }
        };
        match service.udp_verdict(client.ip()) {
            Verdict::Answer => {}
            Verdict::Drop => continue,
            Verdict::Slip => {
                if let Some(reply) = truncated_reply(&buf[..n]) {
                    let _ = socket.send_to(&reply, client).await;
                }
                continue;
            }
        }
        if let Some((bytes, hit)) = service.answer_cached(&buf[..n], client, Transport::Udp) {
            if let Err(e) = socket.send_to(&bytes, client).await {
                tracing::debug!(error = %e, %client, "DNS UDP reply not sent");
            }
            service.log_cached(hit, &buf[..n], &mut log).await;
            continue;
        }
        answer_in_task(&socket, &service, buf[..n].to_vec(), client);
    }
}

/// Waits until `socket` has a datagram, handing the log batch over if it falls due meanwhile
/// (see [`QueryLogBatch::due`]); `false` when the listener is to stop.
async fn wait_readable(
    socket: &UdpSocket,
    service: &DnsService,
    log: &mut QueryLogBatch,
    shutdown: &CancellationToken,
) -> bool {
    loop {
        let Some(due) = log.due() else {
            return tokio::select! {
                _ = shutdown.cancelled() => false,
                ready = socket.readable() => ready.is_ok(),
            };
        };
        if due <= std::time::Instant::now() {
            service.flush_log(log).await;
            continue;
        }
        tokio::select! {
            _ = shutdown.cancelled() => return false,
            ready = socket.readable() => return ready.is_ok(),
            _ = tokio::time::sleep_until(due.into()) => service.flush_log(log).await,
        }
    }
}

/// The full path for one packet, in a task of its own.
fn answer_in_task(socket: &Arc<UdpSocket>, service: &Arc<DnsService>, packet: Vec<u8>, client: std::net::SocketAddr) {
    let (socket, service) = (socket.clone(), service.clone());
    tokio::spawn(async move {
        if let Reply::One(bytes) = service.handle(&packet, client, Transport::Udp).await
            && let Err(e) = socket.send_to(&bytes, client).await
        {
            tracing::debug!(error = %e, %client, "DNS UDP reply not sent");
        }
    });
}
