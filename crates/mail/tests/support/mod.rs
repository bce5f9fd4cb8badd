//! A relay on 127.0.0.1:0 with a test policy, a small SMTP client, and an event sink that keeps
//! what it is given.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use mamori_core::config::mail::MailConfig;
use mamori_core::event::Event;
use mamori_core::sink::{EventSink, Receipt, SubmitFuture};
use mamori_core::tenant::Tenant;
use mamori_mail::context::{MailContext, SmtpSettings};
use mamori_mail::delivery::mx::MxResolver;
use mamori_mail::delivery::worker::{DeliverySettings, Worker};
use mamori_mail::events::MailLog;
use mamori_mail::metrics::MailMetrics;
use mamori_mail::{QuarantineStore, QueueStore, RelayPolicy};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Default)]
pub struct KeepSink(pub Mutex<Vec<Event>>);

impl EventSink for KeepSink {
    fn submit(&self, events: &[Event]) -> SubmitFuture {
        self.0.lock().unwrap().extend_from_slice(events);
        let count = events.len();
        Box::pin(async move { Ok(Receipt { last_lsn: 0, count }) })
    }
}

impl KeepSink {
    pub fn json(&self) -> Vec<serde_json::Value> {
        self.0.lock().unwrap().iter().map(|e| serde_json::to_value(e).unwrap()).collect()
    }
}

pub fn tenant(id: &str, network: &str, domain: &str) -> Tenant {
    Tenant {
        id: id.into(),
        name_ja: id.into(),
        name_en: id.into(),
        network_model: mamori_core::NetworkModel::Beta,
        networks: vec![network.parse().unwrap()],
        domains: vec![domain.into()],
        contacts: vec![],
        retention: Default::default(),
    }
}

pub struct Relay {
    pub addr: SocketAddr,
    pub ctx: Arc<MailContext>,
    pub events: Arc<KeepSink>,
    pub dir: tempfile::TempDir,
    pub shutdown: CancellationToken,
}

/// What a test relay looks like.
pub struct RelaySetup {
    pub mail: MailConfig,
    pub tenants: Vec<Tenant>,
    /// Starts the delivery worker with this DNS server.
    pub deliver_with_dns: Option<SocketAddr>,
    /// Checks SPF and DKIM of mail from the internet with this DNS server.
    pub authenticate_with_dns: Option<SocketAddr>,
    pub retry: Vec<Duration>,
    /// When the worker tells the sender that a message is delayed.
    pub delay_warning: Option<Duration>,
    /// Scans every message with the scanning engine's built-in signatures (EICAR).
    pub antivirus: bool,
    /// Scores mail from the internet per `mail.spam`, asking block lists through `spam_dns`.
    pub spam: bool,
    pub spam_dns: Option<SocketAddr>,
}

impl RelaySetup {
    /// Tenant `a` (10.1.0.0/16, a.example.jp → `next_hop`) and tenant `b` (10.2.0.0/16,
    /// b.example.jp, no route). The test client (127.0.0.1) is the internet.
    pub fn two_tenants(next_hop: &str) -> RelaySetup {
        let mut mail = MailConfig {
            hostname: "relay.pref.example.jp".into(),
            max_message_bytes: 10_000,
            max_recipients: 5,
            ..Default::default()
        };
        mail.tenants.entry("a".into()).or_default().routes.insert("a.example.jp".into(), next_hop.into());
        RelaySetup {
            mail,
            tenants: vec![tenant("a", "10.1.0.0/16", "a.example.jp"), tenant("b", "10.2.0.0/16", "b.example.jp")],
            deliver_with_dns: None,
            authenticate_with_dns: None,
            retry: vec![Duration::from_millis(300)],
            delay_warning: None,
            antivirus: false,
            spam: false,
            spam_dns: None,
        }
    }

    /// Makes the test client (127.0.0.1) one of tenant `b`'s senders.
    pub fn client_is_tenant_b(mut self) -> RelaySetup {
        self.mail.tenants.entry("b".into()).or_default().sender_networks = Some(vec!["127.0.0.1/32".parse().unwrap()]);
        self
    }

    pub async fn start(self) -> Relay {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(self, dir).await
    }

    pub async fn start_in(self, dir: tempfile::TempDir) -> Relay {
        let events = Arc::new(KeepSink::default());
        let (cert, key) =
            mamori_mail::tls::ensure_self_signed(&dir.path().join("tls"), "relay.pref.example.jp").unwrap();
        let ctx = Arc::new(MailContext {
            settings: SmtpSettings { command_timeout: Duration::from_secs(5), ..SmtpSettings::from_config(&self.mail) },
            policy: ArcSwap::from_pointee(RelayPolicy::new(&self.mail, &self.tenants)),
            queue: QueueStore::open(&dir.path().join("queue")).unwrap(),
            quarantine: QuarantineStore::open(&dir.path().join("quarantine")).unwrap(),
            dkim: mamori_mail::dkim_sign::DkimSigners::load(&self.mail, dir.path()).unwrap(),
            spam: self.spam.then(|| {
                let dns = self.spam_dns.map(|d| MxResolver::new(Some(d)).unwrap());
                mamori_mail::spam::SpamFilter::build(&self.mail.spam, dns).unwrap()
            }),
            scanner: self.antivirus.then(|| {
                let store = Arc::new(mamori_scan::SignatureStore::open(mamori_scan::SignatureConfig::default()));
                Arc::new(mamori_scan::Engine::new(store, mamori_scan::Limits::default()))
            }),
            tls: Some(mamori_mail::tls::server_config(&cert, &key).unwrap()),
            auth: self.authenticate_with_dns.map(|dns| {
                let auth = mamori_mail::auth::authenticator(Some(dns), Duration::from_secs(1)).unwrap();
                mamori_mail::auth::SenderAuth::new(auth, "relay.pref.example.jp")
            }),
            log: MailLog::start(events.clone()),
            metrics: MailMetrics::registered(),
            queued: Notify::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        tokio::spawn(mamori_mail::server::serve(listener, ctx.clone(), shutdown.clone()));
        if let Some(dns) = self.deliver_with_dns {
            let settings = DeliverySettings {
                retry: self.retry.clone(),
                give_up: Duration::from_secs(3600),
                mx_port: self.mail.delivery_port,
                connect_timeout: Duration::from_secs(2),
                command_timeout: Duration::from_secs(5),
                concurrency: 4,
                scan_interval: Duration::from_millis(100),
                delay_warning: self.delay_warning,
            };
            let worker = Worker::new(ctx.clone(), settings, MxResolver::new(Some(dns)).unwrap());
            tokio::spawn(worker.run(shutdown.clone()));
        }
        Relay { addr, ctx, events, dir, shutdown }
    }
}

/// A line-at-a-time SMTP client that shows the replies as text.
pub struct Client<S> {
    pub io: BufReader<S>,
}

impl Client<TcpStream> {
    pub async fn connect(addr: SocketAddr) -> Client<TcpStream> {
        let mut c = Client { io: BufReader::new(TcpStream::connect(addr).await.unwrap()) };
        let greeting = c.reply().await;
        assert!(greeting.starts_with("220 "), "{greeting}");
        c
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    pub async fn send(&mut self, bytes: &[u8]) {
        self.io.get_mut().write_all(bytes).await.unwrap();
    }

    /// One complete reply, lines joined with `\n`.
    pub async fn reply(&mut self) -> String {
        let mut all = Vec::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(10), self.io.read_line(&mut line))
                .await
                .expect("reply timed out")
                .unwrap();
            if n == 0 {
                all.push("<closed>".to_string());
                return all.join("\n");
            }
            let line = line.trim_end().to_string();
            let last = line.as_bytes().get(3) != Some(&b'-');
            all.push(line);
            if last {
                return all.join("\n");
            }
        }
    }

    pub async fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// MAIL, RCPT..., DATA with `body`; the last reply.
    pub async fn mail(&mut self, from: &str, to: &[&str], body: &str) -> String {
        let r = self.cmd(&format!("MAIL FROM:<{from}>")).await;
        if !r.starts_with("250") {
            return r;
        }
        for t in to {
            let r = self.cmd(&format!("RCPT TO:<{t}>")).await;
            if !r.starts_with("250") {
                return r;
            }
        }
        let r = self.cmd("DATA").await;
        if !r.starts_with("354") {
            return r;
        }
        self.send(format!("{body}\r\n.\r\n").as_bytes()).await;
        self.reply().await
    }
}

/// Every reply line but the greeting and EHLO's carries an RFC 3463 code.
pub fn assert_enhanced(reply: &str) {
    for line in reply.lines() {
        let text = &line[4..];
        let code = text.split(' ').next().unwrap();
        let parts: Vec<&str> = code.split('.').collect();
        assert!(parts.len() == 3 && parts.iter().all(|p| p.parse::<u16>().is_ok()), "no enhanced status code: {line}");
        assert_eq!(&line[..1], parts[0], "class mismatch: {line}");
    }
}
