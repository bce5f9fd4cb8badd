//! The DNS service alone, from the `[dns]` section and tenants of a mamori.toml, for
//! benchmarks (`bench/dns-auth`): the same service `mamori up` runs, with every query-log
//! event encoded to JSON as the log store receives it, then dropped (no disk in the
//! measurement; `mamori up --only dns` keeps them).
//!
//! Usage: dns_serve CONFIG [THREADS] [nolog]. `nolog` builds no query-log events at all, to
//! show what the query log costs (the peers in the benchmarks log nothing).

use std::sync::Arc;

use mamori_core::event::Event;
use mamori_core::event_writer::EventWriter;
use mamori_core::sink::{EncodedEvents, EventSink, Receipt, SubmitFuture};

/// The allocator `mamori up --only dns` runs with, so that the benchmarks measure the service
/// as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct EncodeAndDrop;

impl EventSink for EncodeAndDrop {
    fn submit(&self, events: &[Event]) -> SubmitFuture {
        let encoded = EncodedEvents::from_events(events);
        let count = encoded.len();
        Box::pin(async move { Ok(Receipt { last_lsn: 0, count }) })
    }

    /// The query log arrives encoded already (as the log store takes it).
    fn submit_encoded(&self, batch: &EncodedEvents) -> SubmitFuture {
        let count = batch.len();
        Box::pin(async move { Ok(Receipt { last_lsn: 0, count }) })
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: dns_serve CONFIG [THREADS]");
        std::process::exit(2);
    };
    let threads: usize = args.get(2).and_then(|t| t.parse().ok()).unwrap_or(1);
    let log = args.get(3).is_none_or(|a| a != "nolog");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let file =
        mamori_core::config::parse_and_check(std::path::Path::new(path), &text).unwrap_or_else(|e| panic!("{e}"));
    let base = std::path::Path::new(path).parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build().expect("a runtime");
    runtime.block_on(async move {
        let (events, _task) = EventWriter::start(Arc::new(EncodeAndDrop), "dns");
        let service = mamori_dns::build::service(&file.dns, &file.tenants, &base, log.then_some(events))
            .unwrap_or_else(|e| panic!("{e}"));
        let service = Arc::new(service);
        let addr = file.dns.listen.expect("[dns] listen");
        let udp = tokio::net::UdpSocket::bind(addr).await.expect("bind UDP");
        let tcp = tokio::net::TcpListener::bind(addr).await.expect("bind TCP");
        let shutdown = tokio_util::sync::CancellationToken::new();
        println!("dns_serve listening on {addr}");
        let t = tokio::spawn(mamori_dns::server::serve_tcp(tcp, service.clone(), shutdown.clone()));
        let _ = mamori_dns::server::serve_udp(udp, service, shutdown).await;
        let _ = t.await;
    });
}
