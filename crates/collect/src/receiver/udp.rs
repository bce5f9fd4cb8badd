//! Syslog over UDP (RFC 5426): one message per datagram.
//!
//! UDP cannot push back on a sender. Datagrams therefore go through a queue bounded in bytes
//! (`ReceiverOptions::udp_queue_bytes`) between the socket and the sink; while the sink is slow
//! the queue absorbs bursts, and when it is full new datagrams are **dropped**. Every drop is
//! counted (`mamori_collect_udp_dropped_total`, `..._bytes_total`) and raises an alarm event
//! (`event.action = "udp_dropped"`) at most once a minute. Senders that must not lose anything
//! should use TCP or TLS, which slow the sender down instead.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::{SignedDuration, Timestamp};
use mamori_core::Event;
use mamori_core::event::UNASSIGNED;
use mamori_core::sink::EncodedEvents;
use tokio::net::UdpSocket;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::CollectContext;
use crate::metrics::{RecordCounts, Transport, metrics};
use crate::syslog::{self, Admission, ParseContext, RecordFormat};

/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;
/// Bookkeeping charged to the queue budget per datagram besides its bytes.
const PER_DATAGRAM_OVERHEAD: usize = 128;
/// Drops raise an alarm at most this often.
const DROP_ALARM_INTERVAL: SignedDuration = SignedDuration::from_mins(1);

struct Datagram {
    data: Vec<u8>,
    peer: SocketAddr,
    received: Timestamp,
    /// Holds this datagram's share of the queue budget until its batch is durable.
    _budget: OwnedSemaphorePermit,
}

/// Receives on `socket` until `shutdown` is cancelled, then stores what is queued and returns.
pub async fn serve(socket: UdpSocket, ctx: Arc<CollectContext>, shutdown: CancellationToken) -> io::Result<()> {
    let local = socket.local_addr()?;
    tracing::info!(%local, "syslog UDP listener started");
    let budget = Arc::new(Semaphore::new(ctx.options.udp_queue_bytes.min(Semaphore::MAX_PERMITS)));
    let dropped = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::unbounded_channel();
    let worker = tokio::spawn(drain(rx, ctx.clone(), dropped.clone(), shutdown.clone()));
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (n, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = socket.recv_from(&mut buf) => match r {
                Ok(received) => received,
                Err(e) => {
                    // ICMP errors from earlier sends and the like: not fatal for a listener.
                    tracing::debug!(%local, error = %e, "UDP receive failed");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        metrics().add_bytes(Transport::Udp, n);
        let cost = u32::try_from(n + PER_DATAGRAM_OVERHEAD).unwrap_or(u32::MAX);
        let Ok(permit) = budget.clone().try_acquire_many_owned(cost) else {
            metrics().udp_dropped.inc();
            metrics().udp_dropped_bytes.inc_by(n as u64);
            dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let datagram = Datagram { data: buf[..n].to_vec(), peer, received: Timestamp::now(), _budget: permit };
        if tx.send(datagram).is_err() {
            break;
        }
    }
    drop(tx);
    if let Err(e) = worker.await {
        tracing::error!(%local, error = %e, "UDP worker failed");
    }
    tracing::info!(%local, "syslog UDP listener stopped");
    Ok(())
}

/// Takes datagrams off the queue in batches, parses and submits them.
async fn drain(
    mut rx: mpsc::UnboundedReceiver<Datagram>,
    ctx: Arc<CollectContext>,
    dropped: Arc<AtomicU64>,
    shutdown: CancellationToken,
) {
    let max_events = ctx.options.batch_max_events.max(1);
    let mut drops = DropAlarm::default();
    while let Some(first) = rx.recv().await {
        let deadline = Instant::now() + ctx.options.batch_max_delay;
        let mut datagrams = vec![first];
        while datagrams.len() < max_events {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(d)) => datagrams.push(d),
                Ok(None) | Err(_) => break,
            }
        }
        let policy = ctx.policy();
        let mut events = EncodedEvents::new();
        let mut counts = RecordCounts::default();
        for d in &datagrams {
            let parse_ctx =
                ParseContext::new(d.received, policy.timezone.clone(), policy.max_message_bytes).with_sender(d.peer);
            let (tenant, unassigned) =
                ctx.tenant_of_sender(&policy, Transport::Udp, d.peer.ip(), d.received, &mut events);
            let ingested = d.received.to_string();
            let admission = Admission { tenant, ingested: &ingested };
            events.push_with(|buf| {
                counts.add(
                    syslog::write_line(&d.data, &parse_ctx, Some(&admission), RecordFormat::Compact, buf),
                    unassigned,
                )
            });
        }
        metrics().count_records(Transport::Udp, &counts);
        let now = Timestamp::now();
        if let Some(mut alarm) = drops.check(dropped.load(Ordering::Relaxed), now) {
            alarm.stamp_ingestion(now);
            events.push_event(&alarm);
        }
        // The budget is released only once the batch is durable (`datagrams` dropped here).
        let _ = ctx.submit_durably(&events, Transport::Udp, &shutdown).await;
        drop(datagrams);
    }
}

/// Turns the drop counter into an alarm at most once per interval.
#[derive(Default)]
struct DropAlarm {
    reported: u64,
    last: Option<Timestamp>,
}

impl DropAlarm {
    fn check(&mut self, total: u64, now: Timestamp) -> Option<Event> {
        if total <= self.reported || self.last.is_some_and(|at| now.duration_since(at) < DROP_ALARM_INTERVAL) {
            return None;
        }
        let count = total - self.reported;
        self.reported = total;
        self.last = Some(now);
        tracing::error!(dropped = count, "UDP syslog queue full: datagrams dropped");
        let mut event = Event::new(now, "mamori.alarm");
        event.event.kind = Some("alert".into());
        event.event.action = Some("udp_dropped".into());
        event.event.module = Some("collect".into());
        event.set_tenant(UNASSIGNED);
        event.message = Some(format!(
            "UDP syslog の受信キューが満杯のため {count} 件のデータグラムを破棄しました。ログストアの\
             空き容量と性能を確認し、送信元を TCP/TLS に切り替えてください。 / The UDP syslog queue \
             was full: {count} datagrams were dropped. Check the log store's free space and \
             throughput, and move senders to TCP or TLS, which slow down instead of losing logs."
        ));
        event.extra.insert("mamori".into(), serde_json::json!({ "dropped": count }));
        event.stamp_ingestion(now);
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_alarms_are_rate_limited_and_carry_the_count() {
        let mut a = DropAlarm::default();
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        assert!(a.check(0, t0).is_none());
        let e = a.check(5, t0).unwrap();
        assert_eq!(e.extra["mamori"]["dropped"], 5);
        assert!(a.check(9, t0 + SignedDuration::from_secs(30)).is_none());
        let e = a.check(9, t0 + SignedDuration::from_secs(61)).unwrap();
        assert_eq!(e.extra["mamori"]["dropped"], 4);
    }
}
