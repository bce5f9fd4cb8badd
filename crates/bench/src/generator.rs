//! A realistic mix of municipal logs: squid-style proxy access, iptables firewall drops, sshd,
//! postfix, Windows via NXLog, Japanese application messages. Hosts, users and addresses come
//! from small pools, as in a real municipality.

use jiff::Timestamp;
use serde_json::{Value, json};

pub struct Generator {
    state: u64,
    now: Timestamp,
    pub step_ms: u64,
}

const TENANTS: &[(&str, u8)] = &[("midori", 1), ("aoba", 2), ("sakura", 3), ("kaede", 4)];
const HOSTS: &[&str] = &["fw01", "proxy01", "mail01", "ad01", "web01", "web02", "file01", "app01"];
const USERS: &[&str] = &["yamada", "suzuki", "tanaka", "sato", "takahashi", "ito", "watanabe", "nakamura"];
const SITES: &[&str] = &[
    "www.city.midori.example.jp",
    "portal.example.lg.jp",
    "www.google.com",
    "www.yahoo.co.jp",
    "update.microsoft.com",
    "www.e-gov.go.jp",
    "cdn.example.net",
    "news.example.jp",
];
const PATHS: &[&str] = &[
    "/",
    "/index.html",
    "/login",
    "/api/v1/items",
    "/images/logo.png",
    "/search?q=%E9%98%B2%E7%81%BD",
    "/update/kb5005565.cab",
];

impl Generator {
    pub fn new(seed: u64, start: Timestamp) -> Self {
        Generator { state: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1, now: start, step_ms: 7 }
    }

    fn rnd(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.rnd() % items.len() as u64) as usize]
    }

    /// The next event (ECS JSON) and the raw line it came from.
    pub fn next_event(&mut self) -> (Value, String) {
        let jitter = self.rnd() % (self.step_ms * 2 + 1);
        self.now += jiff::SignedDuration::from_millis(jitter as i64);
        let (tenant, net) = self.pick(TENANTS);
        let host = self.pick(HOSTS);
        let local = self.now.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9)));
        let stamp = local.strftime("%b %e %H:%M:%S").to_string();
        let src = format!("10.{net}.{}.{}", self.rnd() % 32, self.rnd() % 250 + 2);
        let kind = self.rnd() % 10;
        let (dataset, line, extra) = match kind {
            0..=3 => {
                let site = self.pick(SITES);
                let path = self.pick(PATHS);
                let status = [200, 200, 200, 304, 403, 404][(self.rnd() % 6) as usize];
                let bytes = self.rnd() % 200_000;
                let user = self.pick(USERS);
                let ms = self.rnd() % 900;
                let msg = format!(
                    "{}.{:03} {ms} {src} TCP_MISS/{status} {bytes} GET https://{site}{path} {user} HIER_DIRECT/203.0.113.{} text/html",
                    self.now.as_second(),
                    self.now.subsec_millisecond(),
                    self.rnd() % 250
                );
                let extra = json!({"source": {"ip": src}, "url": {"full": format!("https://{site}{path}"), "domain": site}, "http": {"response": {"status_code": status, "bytes": bytes}}, "user": {"name": user}});
                ("proxy.access", format!("<134>{stamp} {host} squid[2211]: {msg}"), extra)
            }
            4..=6 => {
                let dpt = [22, 80, 443, 445, 3389, 53, 8080][(self.rnd() % 7) as usize];
                let dst = format!("198.51.100.{}", self.rnd() % 250);
                let spt = 1024 + self.rnd() % 60000;
                let msg = format!(
                    "kernel: [{}.{:06}] DROP IN=eth0 OUT= SRC={src} DST={dst} LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID={} DF PROTO=TCP SPT={spt} DPT={dpt} WINDOW=64240 RES=0x00 SYN URGP=0",
                    self.rnd() % 900_000,
                    self.rnd() % 1_000_000,
                    self.rnd() % 65535
                );
                let extra = json!({"source": {"ip": src, "port": spt}, "destination": {"ip": dst, "port": dpt}, "event": {"action": "drop"}, "network": {"transport": "tcp"}});
                ("firewall", format!("<4>{stamp} {host} {msg}"), extra)
            }
            7 => {
                let user = self.pick(USERS);
                let msg = format!(
                    "sshd[{}]: Failed password for {user} from {src} port {} ssh2",
                    1000 + self.rnd() % 30000,
                    1024 + self.rnd() % 60000
                );
                ("syslog", format!("<38>{stamp} {host} {msg}"), json!({"source": {"ip": src}, "user": {"name": user}}))
            }
            8 => {
                let msg = format!(
                    "postfix/smtpd[{}]: {:X}: client=unknown[{src}], sasl_method=LOGIN, sasl_username={}@city.example.jp",
                    1000 + self.rnd() % 30000,
                    self.rnd() % 0xFFFF_FFFF,
                    self.pick(USERS)
                );
                ("syslog", format!("<22>{stamp} {host} {msg}"), json!({"source": {"ip": src}}))
            }
            _ => {
                let user = self.pick(USERS);
                let msg =
                    format!("業務アプリ[{}]: ユーザー {user} がログインしました 端末={src}", 100 + self.rnd() % 900);
                ("syslog", format!("<14>{stamp} {host} {msg}"), json!({"source": {"ip": src}, "user": {"name": user}}))
            }
        };
        let message = line.split_once(&format!("{host} ")).map(|(_, m)| m.to_string()).unwrap_or_else(|| line.clone());
        let mut event = json!({
            "@timestamp": self.now.to_string(),
            "message": message,
            "event": {"dataset": dataset, "kind": "event", "original": line},
            "organization": {"id": tenant},
            "host": {"hostname": host},
        });
        merge(&mut event, extra);
        (event, line)
    }
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}
