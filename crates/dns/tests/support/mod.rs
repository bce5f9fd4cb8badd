//! A DNS service on 127.0.0.1 for the tests, built from a `[dns]` section as `mamori up` builds
//! it, with its events captured, and the command-line clients (dig, kdig) to ask it.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use mamori_core::config::dns::DnsConfig;
use mamori_core::event::Event;
use mamori_core::event_writer::EventWriter;
use mamori_core::sink::{EventSink, Receipt, SubmitFuture};
use mamori_core::{NetworkModel, Tenant};
use mamori_dns::DnsService;
use tokio_util::sync::CancellationToken;

/// Keeps every event handed to it.
#[derive(Default)]
pub struct Captured(pub Mutex<Vec<Event>>);

impl EventSink for Captured {
    fn submit(&self, events: &[Event]) -> SubmitFuture {
        self.0.lock().unwrap().extend(events.iter().cloned());
        let count = events.len();
        Box::pin(async move { Ok(Receipt { last_lsn: 0, count }) })
    }
}

impl Captured {
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub service: Arc<DnsService>,
    pub events: Arc<Captured>,
    pub shutdown: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Tenant `midori` owns 127.0.0.1 only, so 127.0.0.2 is a client outside every tenant.
pub fn tenants() -> Vec<Tenant> {
    vec![Tenant {
        id: "midori".into(),
        name_ja: "みどり市".into(),
        name_en: "Midori City".into(),
        network_model: NetworkModel::Beta,
        networks: vec!["127.0.0.1/32".parse().unwrap(), "::1/128".parse().unwrap()],
        domains: vec!["city.midori.example.jp".into()],
        contacts: vec![],
        retention: Default::default(),
    }]
}

/// Starts the service on `addr` (port 0: any free one, the same for UDP and TCP).
pub async fn start(config: &DnsConfig, base: &Path, ip: &str) -> Server {
    start_for(config, base, ip, &tenants()).await
}

/// [`start`] with other tenants.
pub async fn start_for(config: &DnsConfig, base: &Path, ip: &str, tenants: &[Tenant]) -> Server {
    let events = Arc::new(Captured::default());
    let (writer, _task) = EventWriter::start(events.clone(), "dns");
    let service =
        Arc::new(mamori_dns::build::service(config, tenants, base, Some(writer)).expect("the service builds"));
    serve(service, events, ip).await
}

/// Serves a service built by the caller on `ip`, with its background work.
pub async fn serve(service: Arc<DnsService>, events: Arc<Captured>, ip: &str) -> Server {
    let shutdown = CancellationToken::new();
    // A free port for both protocols: bind UDP on any port, then TCP on the same; retry when
    // the TCP side is taken.
    for _ in 0..20 {
        let udp = tokio::net::UdpSocket::bind(format!("{ip}:0")).await.expect("bind UDP");
        let addr = udp.local_addr().unwrap();
        let Ok(tcp) = tokio::net::TcpListener::bind(addr).await else { continue };
        tokio::spawn(mamori_dns::server::serve_udp(udp, service.clone(), shutdown.clone()));
        tokio::spawn(mamori_dns::server::serve_tcp(tcp, service.clone(), shutdown.clone()));
        tokio::spawn(service.clone().maintain(shutdown.clone()));
        return Server { addr, service, events, shutdown };
    }
    panic!("no free port for UDP and TCP together");
}

/// Runs a client and returns its standard output; a missing client fails the test loudly.
pub async fn run(program: &str, args: &[String]) -> String {
    let (program, args) = (program.to_string(), args.to_vec());
    let out = tokio::task::spawn_blocking(move || Command::new(&program).args(&args).output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot run {e}: install bind9-dnsutils and knot-dnsutils (scripts/test does)"));
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

pub async fn dig(server: &Server, args: &[&str]) -> String {
    let mut a = vec![
        format!("@{}", server.addr.ip()),
        "-p".into(),
        server.addr.port().to_string(),
        "+time=3".into(),
        "+tries=1".into(),
    ];
    a.extend(args.iter().map(|s| s.to_string()));
    run("dig", &a).await
}

pub async fn kdig(server: &Server, args: &[&str]) -> String {
    let mut a = vec![
        format!("@{}", server.addr.ip()),
        "-p".into(),
        server.addr.port().to_string(),
        "+time=3".into(),
        "+retry=0".into(),
    ];
    a.extend(args.iter().map(|s| s.to_string()));
    run("kdig", &a).await
}

/// Waits until the event writer has handed over the events of the queries so far.
pub async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
}
