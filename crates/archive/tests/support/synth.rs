//! A generator of realistic syslog-derived ECS events, shared by the tests and the `ratio`
//! example. Deterministic (a seeded splitmix64), so every run measures the same input.
//!
//! The events look like what `mamori-collect` makes of RFC 3164 lines: `@timestamp` (the line's
//! time, with the receiver's milliseconds), `message`, `event.{id,dataset,kind,original,ingested}`,
//! `organization.id`, `log.{level,syslog.*,source.address}`, `host.hostname` and `process.*`.
//! With `parsed` set, the fields a per-application parser would add are present too
//! (`source.ip`/`port`, `destination.*`, `user.name`, `url.full`, `http.*`, ...).

#![allow(dead_code)]

use serde_json::{Map, Value, json};

pub use super::rng::Rng;

const TENANTS: &[&str] = &["midori", "aoba", "sakura", "kaede", "tsubaki"];
const USERS: &[&str] = &[
    "root", "admin", "ubuntu", "oracle", "test", "user", "postgres", "git", "backup", "tanaka", "suzuki", "sato",
    "yamada", "deploy", "ftpuser",
];
const DOMAINS: &[&str] = &[
    "www.city.midori.lg.jp",
    "www.town.aoba.lg.jp",
    "www.google.com",
    "www.yahoo.co.jp",
    "update.microsoft.com",
    "www.e-gov.go.jp",
    "news.yahoo.co.jp",
    "www.nhk.or.jp",
    "cdn.jsdelivr.net",
    "fonts.googleapis.com",
    "login.microsoftonline.com",
    "www.amazon.co.jp",
    "github.com",
    "api.twitter.com",
    "www.jma.go.jp",
    "ocsp.digicert.com",
];
const PATHS: &[&str] = &[
    "/",
    "/index.html",
    "/favicon.ico",
    "/search?q=%E9%98%B2%E7%81%BD",
    "/api/v1/status",
    "/static/js/app.js",
    "/images/logo.png",
    "/kurashi/gomi/index.html",
    "/news/2026/11/21.html",
    "/oauth2/v2.0/token",
    "/wp-login.php",
    "/css/style.css",
];
const MIMES: &[&str] = &[
    "text/html",
    "application/json",
    "image/png",
    "text/css",
    "application/javascript",
    "-",
    "image/jpeg",
    "application/octet-stream",
];
const SQUID_CODES: &[&str] = &[
    "TCP_MISS/200",
    "TCP_TUNNEL/200",
    "TCP_HIT/200",
    "TCP_MISS/304",
    "TCP_DENIED/403",
    "TCP_MISS/404",
    "TCP_REFRESH_MODIFIED/200",
    "TCP_MISS/302",
];
const MAIL_DOMAINS: &[&str] = &[
    "city.midori.lg.jp",
    "town.aoba.lg.jp",
    "example.co.jp",
    "gmail.com",
    "yahoo.co.jp",
    "docomo.ne.jp",
    "outlook.jp",
    "pref.example.lg.jp",
];
const MONTHS: &[&str] = &["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const FACILITIES: &[&str] = &[
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];
const SEVERITIES: &[&str] = &["emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"];

/// One host sending syslog, with its sender address and the pids of its daemons.
struct Host {
    name: String,
    tenant: &'static str,
    sender: String,
    pids: Vec<u64>,
}

/// The generator's state: the clock, the id counter and the hosts.
pub struct Synth {
    rng: Rng,
    /// Milliseconds since the epoch of the next event's `@timestamp`.
    now_ms: i64,
    salt: u64,
    counter: u64,
    hosts: Vec<(Kind, Host)>,
    uptime_us: u64,
    parsed: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Sshd,
    Postfix,
    Firewall,
    Squid,
}

/// One generated event and the tenant it belongs to.
pub struct Generated {
    pub tenant: &'static str,
    pub timestamp_micros: i64,
    pub event: Value,
}

impl Synth {
    /// A generator starting at 2026-11-21T00:00:00Z.
    pub fn new(seed: u64, parsed: bool) -> Self {
        let mut rng = Rng::new(seed);
        let mut hosts = Vec::new();
        for (t, tenant) in TENANTS.iter().enumerate() {
            let net = 10 + t as u64;
            for (kind, names) in [
                (Kind::Sshd, &["web01", "web02", "app01", "db01"][..]),
                (Kind::Postfix, &["mail01"][..]),
                (Kind::Firewall, &["fw01", "fw02"][..]),
                (Kind::Squid, &["proxy01"][..]),
            ] {
                for name in names {
                    let sender = format!(
                        "{net}.{}.{}.{}:{}",
                        rng.range(0, 3),
                        rng.range(0, 255),
                        rng.range(2, 254),
                        if rng.chance(70) { 514 } else { rng.range(32768, 60999) }
                    );
                    let pids = (0..4).map(|_| rng.range(300, 65000)).collect();
                    let name = name.to_string();
                    hosts.push((kind, Host { name, tenant, sender, pids }));
                }
            }
        }
        let salt = rng.below(0x1000);
        let counter = rng.below(1 << 61);
        Synth { rng, now_ms: 1_795_219_200_000, salt, counter, hosts, uptime_us: 8_640_000_000_000 / 1000, parsed }
    }

    fn ip_external(&mut self) -> String {
        // Scanners come from a limited population; clients from a larger one.
        let pool = self.rng.range(0, 3000);
        let mut r = Rng::new(pool.wrapping_mul(0x9e37_79b9));
        format!("{}.{}.{}.{}", r.range(1, 223), r.range(0, 255), r.range(0, 255), r.range(1, 254))
    }

    fn ip_internal(&mut self, tenant_index: u64) -> String {
        format!("10.{}.{}.{}", 10 + tenant_index, self.rng.range(0, 7), self.rng.range(2, 254))
    }

    fn event_id(&mut self, ms: i64) -> String {
        let ms = (ms as u64) & 0xffff_ffff_ffff;
        let hi = (ms << 16) | (0x7 << 12) | self.salt;
        let lo = (0b10 << 62) | (self.counter & ((1 << 62) - 1));
        self.counter += 1;
        format!("{hi:016x}{lo:016x}")
    }

    /// The next event.
    pub fn next_event(&mut self) -> Generated {
        self.now_ms += self.rng.range(0, 20) as i64;
        self.uptime_us += self.rng.range(0, 40_000);
        let h = self.rng.below(self.hosts.len() as u64) as usize;
        let kind = self.hosts[h].0;
        let tenant = self.hosts[h].1.tenant;
        let tenant_index = TENANTS.iter().position(|t| *t == tenant).unwrap_or(0) as u64;
        let host = self.hosts[h].1.name.clone();
        let sender = self.hosts[h].1.sender.clone();
        let pids = self.hosts[h].1.pids.clone();
        let mut extra = Map::new();
        let (pri, app, pid, msg): (u64, &str, Option<u64>, String) = match kind {
            Kind::Sshd => {
                let ip = self.ip_external();
                let port = self.rng.range(1024, 65535);
                let user = *self.rng.pick(USERS);
                let pid = self.rng.range(1000, 60000);
                let (msg, action, outcome) = match self.rng.below(10) {
                    0..=3 => (format!("Failed password for {user} from {ip} port {port} ssh2"), "ssh_login", "failure"),
                    4 => (
                        format!("Failed password for invalid user {user} from {ip} port {port} ssh2"),
                        "ssh_login",
                        "failure",
                    ),
                    5 => (format!("Invalid user {user} from {ip} port {port}"), "ssh_login", "failure"),
                    6 => (format!("Connection closed by {ip} port {port} [preauth]"), "disconnect", "unknown"),
                    7 => (
                        format!("Received disconnect from {ip} port {port}:11: Bye Bye [preauth]"),
                        "disconnect",
                        "unknown",
                    ),
                    8 => {
                        let key: String = (0..43)
                            .map(|_| {
                                *self.rng.pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                                    as char
                            })
                            .collect();
                        (
                            format!("Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:{key}"),
                            "ssh_login",
                            "success",
                        )
                    }
                    _ => (
                        format!(
                            "pam_unix(sshd:session): session opened for user {user}(uid={}) by (uid=0)",
                            1000 + self.rng.below(20)
                        ),
                        "session_open",
                        "success",
                    ),
                };
                if self.parsed {
                    extra.insert("source".into(), json!({"ip": ip, "port": port}));
                    extra.insert("user".into(), json!({"name": user}));
                    extra.insert("_action".into(), json!([action, outcome]));
                }
                (if self.rng.chance(50) { 38 } else { 86 }, "sshd", Some(pid), msg)
            }
            Kind::Postfix => {
                let qid: String = (0..10).map(|_| *self.rng.pick(b"0123456789ABCDEF") as char).collect();
                let ip = self.ip_external();
                let rdns = if self.rng.chance(40) {
                    "unknown".to_string()
                } else {
                    format!("mail{}.{}", self.rng.range(1, 9), self.rng.pick(MAIL_DOMAINS))
                };
                let from = format!("{}@{}", self.rng.pick(USERS), self.rng.pick(MAIL_DOMAINS));
                let to = format!("{}@{}", self.rng.pick(USERS), self.rng.pick(MAIL_DOMAINS));
                let (proc_, slot, msg) = match self.rng.below(7) {
                    0 => ("postfix/smtpd", 0, format!("connect from {rdns}[{ip}]")),
                    1 => (
                        "postfix/smtpd",
                        0,
                        format!("disconnect from {rdns}[{ip}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"),
                    ),
                    2 => ("postfix/smtpd", 0, format!("{qid}: client={rdns}[{ip}]")),
                    3 => (
                        "postfix/cleanup",
                        1,
                        format!("{qid}: message-id=<{:016x}@{}>", self.rng.next_u64(), self.rng.pick(MAIL_DOMAINS)),
                    ),
                    4 => (
                        "postfix/qmgr",
                        2,
                        format!(
                            "{qid}: from=<{from}>, size={}, nrcpt=1 (queue active)",
                            self.rng.range(800, 2_000_000)
                        ),
                    ),
                    5 => {
                        let d = [self.rng.below(100), self.rng.below(10), self.rng.below(50), self.rng.below(90)];
                        (
                            "postfix/smtp",
                            3,
                            format!(
                                "{qid}: to=<{to}>, relay=mx{}.{}[{ip}]:25, delay={}.{:02}, delays=0.{:02}/0.{:02}/0.{:02}/0.{:02}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {:X})",
                                self.rng.range(1, 3),
                                self.rng.pick(MAIL_DOMAINS),
                                self.rng.below(3),
                                self.rng.below(100),
                                d[0],
                                d[1],
                                d[2],
                                d[3],
                                self.rng.next_u64() >> 24
                            ),
                        )
                    }
                    _ => (
                        "postfix/smtpd",
                        0,
                        format!(
                            "NOQUEUE: reject: RCPT from {rdns}[{ip}]: 554 5.7.1 <{to}>: Relay access denied; from=<{from}> to=<{to}> proto=ESMTP helo=<{}>",
                            rdns
                        ),
                    ),
                };
                if self.parsed && slot == 0 {
                    extra.insert("source".into(), json!({"ip": ip, "domain": rdns}));
                }
                (22, proc_, Some(pids[slot]), msg)
            }
            Kind::Firewall => {
                let (src, dst) = if self.rng.chance(60) {
                    (self.ip_external(), self.ip_internal(tenant_index))
                } else {
                    (self.ip_internal(tenant_index), self.ip_external())
                };
                let tcp = self.rng.chance(75);
                let spt = self.rng.range(1024, 65535);
                let dpt = *self.rng.pick(&[22u64, 23, 80, 443, 445, 3389, 8080, 53, 123, 25, 1433, 5900]);
                let mac = format!(
                    "00:16:3e:{:02x}:{:02x}:{:02x}:52:54:00:12:35:02:08:00",
                    tenant_index,
                    self.rng.below(4),
                    self.rng.below(4)
                );
                let len = if tcp { self.rng.range(40, 60) } else { self.rng.range(40, 512) };
                let prefix = *self.rng.pick(&["[UFW BLOCK] ", "[UFW BLOCK] ", "[UFW ALLOW] ", "DROP-IN: "]);
                let up = self.uptime_us;
                let msg = if tcp {
                    format!(
                        "[{}.{:06}] {prefix}IN=eth0 OUT= MAC={mac} SRC={src} DST={dst} LEN={len} TOS=0x00 PREC=0x00 TTL={} ID={} DF PROTO=TCP SPT={spt} DPT={dpt} WINDOW={} RES=0x00 SYN URGP=0",
                        up / 1_000_000,
                        up % 1_000_000,
                        self.rng.range(40, 128),
                        self.rng.below(65536),
                        *self.rng.pick(&[29200u64, 64240, 65535, 1024, 14600])
                    )
                } else {
                    format!(
                        "[{}.{:06}] {prefix}IN=eth0 OUT= MAC={mac} SRC={src} DST={dst} LEN={len} TOS=0x00 PREC=0x00 TTL={} ID={} PROTO=UDP SPT={spt} DPT={dpt} LEN={}",
                        up / 1_000_000,
                        up % 1_000_000,
                        self.rng.range(40, 128),
                        self.rng.below(65536),
                        len - 20
                    )
                };
                if self.parsed {
                    extra.insert("source".into(), json!({"ip": src, "port": spt}));
                    extra.insert("destination".into(), json!({"ip": dst, "port": dpt}));
                    extra.insert("network".into(), json!({"transport": if tcp { "tcp" } else { "udp" }}));
                }
                (4, "kernel", None, msg)
            }
            Kind::Squid => {
                let client = self.ip_internal(tenant_index);
                let code = *self.rng.pick(SQUID_CODES);
                let domain = *self.rng.pick(DOMAINS);
                let tunnel = code.starts_with("TCP_TUNNEL");
                let (method, url) = if tunnel {
                    ("CONNECT", format!("{domain}:443"))
                } else {
                    (
                        *self.rng.pick(&["GET", "GET", "GET", "POST", "HEAD"]),
                        format!("http://{domain}{}", self.rng.pick(PATHS)),
                    )
                };
                let bytes = self.rng.range(200, 300_000);
                let elapsed = self.rng.range(1, 5000);
                let upstream = self.ip_external();
                let mime = *self.rng.pick(MIMES);
                let msg = format!(
                    "{}.{:03} {elapsed:>6} {client} {code} {bytes} {method} {url} - HIER_DIRECT/{upstream} {mime}",
                    self.now_ms / 1000,
                    self.now_ms % 1000
                );
                if self.parsed {
                    let status: u64 = code[code.len() - 3..].parse().unwrap_or(0);
                    extra.insert("source".into(), json!({"ip": client}));
                    extra.insert("url".into(), json!({"full": url}));
                    extra.insert(
                        "http".into(),
                        json!({"request": {"method": method}, "response": {"status_code": status, "bytes": bytes}}),
                    );
                }
                (166, "squid", Some(pids[0]), msg)
            }
        };
        self.build(tenant, &host, &sender, pri, app, pid, msg, extra)
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        &mut self,
        tenant: &'static str,
        host: &str,
        sender: &str,
        pri: u64,
        app: &str,
        pid: Option<u64>,
        msg: String,
        mut extra: Map<String, Value>,
    ) -> Generated {
        let ts_ms = self.now_ms;
        // The line's header is local time (JST) to the second, as RFC 3164 senders write it.
        let local = jiff::Timestamp::from_millisecond(ts_ms + 9 * 3_600_000)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(jiff::tz::TimeZone::UTC);
        let header = format!(
            "{} {:>2} {:02}:{:02}:{:02}",
            MONTHS[(local.month() - 1) as usize],
            local.day(),
            local.hour(),
            local.minute(),
            local.second()
        );
        let tag = match pid {
            Some(p) => format!("{app}[{p}]"),
            None => app.to_string(),
        };
        let original = format!("<{pri}>{header} {host} {tag}: {msg}");
        let ingested_us = ts_ms * 1000 + self.rng.range(200, 40_000) as i64;
        let ts = jiff::Timestamp::from_millisecond(ts_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let ingested = jiff::Timestamp::from_microsecond(ingested_us).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let id = self.event_id(ingested_us / 1000);
        let (fac, sev) = (pri / 8, pri % 8);
        let mut syslog = json!({
            "priority": pri,
            "facility": {"code": fac, "name": FACILITIES[fac as usize]},
            "severity": {"code": sev, "name": SEVERITIES[sev as usize]},
            "hostname": host,
            "appname": app,
        });
        let mut process = json!({"name": app});
        if let Some(p) = pid {
            syslog["procid"] = json!(p.to_string());
            process["pid"] = json!(p);
        }
        let mut event = json!({
            "@timestamp": ts.to_string(),
            "message": msg,
            "event": {
                "id": id,
                "dataset": "syslog",
                "kind": "event",
                "original": original,
                "ingested": ingested.to_string(),
            },
            "organization": {"id": tenant},
            "log": {
                "level": SEVERITIES[sev as usize],
                "syslog": syslog,
                "source": {"address": sender},
            },
            "host": {"hostname": host},
            "process": process,
        });
        if let Some(Value::Array(ao)) = extra.remove("_action") {
            event["event"]["action"] = ao[0].clone();
            event["event"]["outcome"] = ao[1].clone();
        }
        if let Value::Object(map) = &mut event {
            map.extend(extra);
        }
        Generated { tenant, timestamp_micros: ts_ms * 1000, event }
    }
}
