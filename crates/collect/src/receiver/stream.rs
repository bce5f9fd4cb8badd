//! One TCP or TLS connection: read, frame, parse, batch, submit, and only then read on.
//!
//! Batches close at `batch_max_events` or `batch_max_delay` after their first event. While a
//! batch is being submitted nothing is read, so a slow or full log store fills the kernel's
//! receive buffer and then the sender's window: the sender slows down, nothing is dropped.

use std::net::SocketAddr;
use std::sync::Arc;

use jiff::Timestamp;
use mamori_core::sink::EncodedEvents;
use prometheus_client::metrics::gauge::Gauge;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::CollectContext;
use crate::framing::{Frame, FrameDecoder};
use crate::metrics::{RecordCounts, Transport, metrics};
use crate::syslog::{self, Admission, ParseContext, RecordFormat};

/// Size of each read from the socket.
const READ_BUFFER: usize = 16 * 1024;

/// Serves one connection until the peer closes it, it fails, or shutdown is requested. What
/// was read before any of these is still submitted.
pub(crate) async fn serve_connection<S>(
    mut stream: S,
    peer: SocketAddr,
    transport: Transport,
    ctx: Arc<CollectContext>,
    shutdown: CancellationToken,
) where
    S: AsyncRead + Unpin,
{
    let _open = OpenConnection::new(metrics().connections(transport));
    let max_events = ctx.options.batch_max_events.max(1);
    let max_delay = ctx.options.batch_max_delay;
    let mut decoder = FrameDecoder::new(ctx.policy().max_message_bytes);
    let mut buf = vec![0u8; READ_BUFFER];
    let mut frames = Vec::new();
    let mut batch = EncodedEvents::new();
    let mut deadline: Option<Instant> = None;
    tracing::debug!(%peer, transport = transport.as_str(), "connection opened");
    loop {
        let read = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            _ = sleep_until(deadline), if deadline.is_some() => None,
            r = stream.read(&mut buf) => Some(r),
        };
        match read {
            None => {}
            Some(Ok(0)) => break,
            Some(Ok(n)) => {
                metrics().add_bytes(transport, n);
                decoder.push(&buf[..n], &mut frames);
                to_events(&ctx, transport, peer, &mut frames, &mut batch);
                if batch.len() < max_events {
                    if !batch.is_empty() && deadline.is_none() {
                        deadline = Some(Instant::now() + max_delay);
                    }
                    continue;
                }
            }
            Some(Err(e)) => {
                tracing::debug!(%peer, transport = transport.as_str(), error = %e, "read failed");
                break;
            }
        }
        deadline = None;
        if ctx.submit_durably(&batch, transport, &shutdown).await.is_err() {
            return;
        }
        batch.clear();
    }
    // End of stream, error or shutdown: a last frame without terminator still counts.
    decoder.finish(&mut frames);
    to_events(&ctx, transport, peer, &mut frames, &mut batch);
    let _ = ctx.submit_durably(&batch, transport, &shutdown).await;
    tracing::debug!(%peer, transport = transport.as_str(), "connection closed");
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Parses the decoded frames into records stamped with the sender's tenant.
fn to_events(
    ctx: &CollectContext,
    transport: Transport,
    peer: SocketAddr,
    frames: &mut Vec<Frame>,
    out: &mut EncodedEvents,
) {
    if frames.is_empty() {
        return;
    }
    let policy = ctx.policy();
    let now = Timestamp::now();
    let parse_ctx = ParseContext::new(now, policy.timezone.clone(), policy.max_message_bytes).with_sender(peer);
    let (tenant, unassigned) = ctx.tenant_of_sender(&policy, transport, peer.ip(), now, out);
    let ingested = now.to_string();
    let admission = Admission { tenant, ingested: &ingested };
    let mut counts = RecordCounts::default();
    for frame in frames.drain(..) {
        out.push_with(|buf| {
            counts
                .add(syslog::write_frame(&frame, &parse_ctx, Some(&admission), RecordFormat::Compact, buf), unassigned)
        });
    }
    metrics().count_records(transport, &counts);
}

/// Keeps the open-connections gauge right however the connection ends.
struct OpenConnection(Gauge);

impl OpenConnection {
    fn new(gauge: Gauge) -> Self {
        gauge.inc();
        OpenConnection(gauge)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}
