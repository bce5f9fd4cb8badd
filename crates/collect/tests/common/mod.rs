//! Shared pieces of the integration tests: a sink that records what it is given (and can be
//! told to refuse or to block), a tenant directory, and receivers on 127.0.0.1.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mamori_collect::receiver::{self, CollectContext, CollectPolicy, ReceiverOptions};
use mamori_core::sink::SubmitFuture;
use mamori_core::{Event, EventSink, NetworkModel, Receipt, SubmitError, Tenant, TenantDirectory};
use tokio::net::{TcpListener, TcpSocket, UdpSocket};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Records every batch it accepts. It can refuse the first N batches with `StorageFull`, and
/// it can be closed like a gate so that `submit` blocks until opened.
#[derive(Clone)]
pub struct RecordingSink(Arc<Inner>);

struct Inner {
    events: Mutex<Vec<Event>>,
    refuse_next: AtomicUsize,
    refused: AtomicUsize,
    gate: watch::Sender<bool>,
}

impl RecordingSink {
    pub fn new() -> Self {
        RecordingSink(Arc::new(Inner {
            events: Mutex::new(Vec::new()),
            refuse_next: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            gate: watch::Sender::new(true),
        }))
    }

    /// Refuses the next `n` submits with `StorageFull`.
    pub fn refusing(n: usize) -> Self {
        let sink = Self::new();
        sink.0.refuse_next.store(n, Ordering::SeqCst);
        sink
    }

    /// Makes `submit` wait until [`RecordingSink::open`].
    pub fn close_gate(&self) {
        self.0.gate.send_replace(false);
    }

    pub fn open(&self) {
        self.0.gate.send_replace(true);
    }

    pub fn refused(&self) -> usize {
        self.0.refused.load(Ordering::SeqCst)
    }

    pub fn events(&self) -> Vec<Event> {
        self.0.events.lock().unwrap().clone()
    }

    pub fn len(&self) -> usize {
        self.0.events.lock().unwrap().len()
    }

    /// Waits until at least `n` events were recorded; panics after `secs` seconds.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Event> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let len = self.len();
            if len >= n {
                return self.events();
            }
            if tokio::time::Instant::now() > deadline {
                panic!("waited {secs}s for {n} events, got {len}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits a little and returns what arrived, for "nothing more came" checks.
    pub async fn settle(&self) -> Vec<Event> {
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.events()
    }
}

impl EventSink for RecordingSink {
    fn submit(&self, events: &[Event]) -> SubmitFuture {
        let inner = self.0.clone();
        let events = events.to_vec();
        Box::pin(async move {
            let mut gate = inner.gate.subscribe();
            let _ = gate.wait_for(|open| *open).await;
            let refuse =
                inner.refuse_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
            if refuse {
                inner.refused.fetch_add(1, Ordering::SeqCst);
                return Err(SubmitError::StorageFull("test: disk full".into()));
            }
            let count = events.len();
            let mut stored = inner.events.lock().unwrap();
            stored.extend(events);
            Ok(Receipt { last_lsn: stored.len() as u64, count })
        })
    }
}

/// One tenant, みどり市, owning 127.0.0.1 only: 127.0.0.2 is an unknown sender.
pub fn directory() -> Arc<TenantDirectory> {
    let tenant = Tenant {
        id: "midori".into(),
        name_ja: "みどり市".into(),
        name_en: "Midori City".into(),
        network_model: NetworkModel::Alpha,
        networks: vec!["127.0.0.1/32".parse().unwrap()],
        domains: vec![],
        contacts: vec![],
        retention: Default::default(),
    };
    Arc::new(TenantDirectory::new(vec![tenant], &[]))
}

pub fn options() -> ReceiverOptions {
    ReceiverOptions {
        retry_initial: Duration::from_millis(10),
        retry_max: Duration::from_millis(100),
        ..Default::default()
    }
}

pub fn context(sink: &RecordingSink, options: ReceiverOptions) -> Arc<CollectContext> {
    let policy = CollectPolicy::new(directory(), mamori_collect::syslog::default_timezone(), 64 * 1024);
    CollectContext::with_options(Arc::new(sink.clone()), policy, options)
}

/// A receiver running on 127.0.0.1 with an ephemeral port.
pub struct Running {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    pub task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Cancels and waits for the receiver to return.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("receiver stops within 10 s")
            .expect("receiver task did not panic")
            .expect("receiver returned Ok");
    }
}

pub async fn start_tcp(ctx: Arc<CollectContext>) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    start_tcp_on(listener, ctx)
}

/// TCP with small socket buffers, so back-pressure shows after a few hundred kilobytes.
pub async fn start_tcp_small_buffers(ctx: Arc<CollectContext>) -> Running {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(32 * 1024).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    start_tcp_on(socket.listen(16).unwrap(), ctx)
}

fn start_tcp_on(listener: TcpListener, ctx: Arc<CollectContext>) -> Running {
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(receiver::tcp::serve(listener, ctx, shutdown.clone()));
    Running { addr, shutdown, task }
}

pub async fn start_udp(ctx: Arc<CollectContext>) -> Running {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(receiver::udp::serve(socket, ctx, shutdown.clone()));
    Running { addr, shutdown, task }
}

/// A TCP connection from `from` (e.g. 127.0.0.2) to `to`.
pub async fn connect_from(from: &str, to: SocketAddr) -> tokio::net::TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(to).await.unwrap()
}

pub fn has_tag(event: &Event, tag: &str) -> bool {
    event.tags.iter().any(|t| t == tag)
}

/// The syslog events (not alarms) of a recording.
pub fn syslog_events(events: &[Event]) -> Vec<&Event> {
    events.iter().filter(|e| e.event.dataset.as_deref() == Some("syslog")).collect()
}

pub fn alarms<'a>(events: &'a [Event], action: &str) -> Vec<&'a Event> {
    events
        .iter()
        .filter(|e| e.event.dataset.as_deref() == Some("mamori.alarm") && e.event.action.as_deref() == Some(action))
        .collect()
}
