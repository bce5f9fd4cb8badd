//! A DNS server (RFC 1035, UDP and TCP) answering from a table: enough for MX routing tests
//! and for the RFC 7208 suite's zone data, including names that time out.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, UdpSocket};

pub const A: u16 = 1;
pub const CNAME: u16 = 5;
pub const PTR: u16 = 12;
pub const MX: u16 = 15;
pub const TXT: u16 = 16;
pub const AAAA: u16 = 28;
pub const SPF: u16 = 99;

/// One record's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Mx(u16, String),
    /// The character strings of one TXT (or SPF) record.
    Txt(Vec<Vec<u8>>),
    Spf(Vec<Vec<u8>>),
    Ptr(String),
    Cname(String),
}

impl Data {
    fn rtype(&self) -> u16 {
        match self {
            Data::A(_) => A,
            Data::Aaaa(_) => AAAA,
            Data::Mx(..) => MX,
            Data::Txt(_) => TXT,
            Data::Spf(_) => SPF,
            Data::Ptr(_) => PTR,
            Data::Cname(_) => CNAME,
        }
    }
}

/// The table: names (any case, no trailing dot) to records; names that never answer.
#[derive(Debug, Default, Clone)]
pub struct Zone {
    pub records: HashMap<String, Vec<Data>>,
    /// Names whose queries never get an answer, except for the listed types.
    pub timeouts: HashMap<String, Vec<u16>>,
}

impl Zone {
    pub fn add(&mut self, name: &str, data: Data) {
        self.records.entry(key(name)).or_default().push(data);
    }

    pub fn timeout(&mut self, name: &str) {
        self.timeouts.insert(key(name), Vec::new());
    }

    /// Queries for `name` time out unless they ask for one of `answered`.
    pub fn timeout_except(&mut self, name: &str, answered: Vec<u16>) {
        self.timeouts.insert(key(name), answered);
    }

    fn times_out(&self, name: &str, qtype: u16) -> bool {
        self.timeouts.get(name).is_some_and(|except| !except.contains(&qtype))
    }
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A running server; the zone can be replaced while it runs.
pub struct DnsServer {
    pub addr: SocketAddr,
    zone: Arc<RwLock<Zone>>,
}

/// A UDP socket and a TCP listener on the same free port. The port the system picks for UDP
/// may be taken for TCP by another test running at the same time: then another port is tried.
async fn bind_pair() -> std::io::Result<(UdpSocket, TcpListener, std::net::SocketAddr)> {
    let mut tries = 0;
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").await?;
        let addr = udp.local_addr()?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp, addr)),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 20 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

impl DnsServer {
    /// Serves `zone` on 127.0.0.1 (UDP and TCP on the same port).
    pub async fn start(zone: Zone) -> std::io::Result<DnsServer> {
        let (udp, tcp, addr) = bind_pair().await?;
        let zone = Arc::new(RwLock::new(zone));
        let z = zone.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok((n, from)) = udp.recv_from(&mut buf).await {
                let resp = answer(&z.read().unwrap_or_else(|e| e.into_inner()), &buf[..n]);
                if let Some(mut resp) = resp {
                    if resp.len() > 1232 {
                        resp.truncate(12);
                        resp[2] |= 0x02; // TC: ask for TCP
                        resp[6..12].fill(0);
                        // Keep the question so the client matches the reply.
                        let q = question_end(&buf[..n]).unwrap_or(12);
                        resp[4..6].copy_from_slice(&[0, 1]);
                        resp.extend_from_slice(&buf[12..q]);
                    }
                    let _ = udp.send_to(&resp, from).await;
                }
            }
        });
        let z = zone.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = tcp.accept().await {
                let z = z.clone();
                tokio::spawn(async move {
                    loop {
                        let mut len = [0u8; 2];
                        if s.read_exact(&mut len).await.is_err() {
                            return;
                        }
                        let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
                        if s.read_exact(&mut q).await.is_err() {
                            return;
                        }
                        let resp = answer(&z.read().unwrap_or_else(|e| e.into_inner()), &q);
                        let Some(resp) = resp else { continue };

                        let mut out = (resp.len() as u16).to_be_bytes().to_vec();
                        out.extend_from_slice(&resp);
                        if s.write_all(&out).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Ok(DnsServer { addr, zone })
    }

    pub fn set_zone(&self, zone: Zone) {
        *self.zone.write().unwrap_or_else(|e| e.into_inner()) = zone;
    }
}

fn question_end(q: &[u8]) -> Option<usize> {
    let (_, end) = read_name(q, 12)?;
    Some(end + 4)
}

fn read_name(msg: &[u8], mut pos: usize) -> Option<(String, usize)> {
    let mut labels = Vec::new();
    loop {
        let len = *msg.get(pos)? as usize;
        pos += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        labels.push(String::from_utf8_lossy(msg.get(pos..pos + len)?).into_owned());
        pos += len;
    }
    Some((labels.join("."), pos))
}

fn write_name(out: &mut Vec<u8>, name: &str) {
    for label in name.trim_end_matches('.').split('.').filter(|l| !l.is_empty()) {
        let bytes = &label.as_bytes()[..label.len().min(63)];
        out.push(bytes.len() as u8);
        out.extend_from_slice(bytes);
    }
    out.push(0);
}

fn rdata(d: &Data) -> Vec<u8> {
    let mut out = Vec::new();
    match d {
        Data::A(ip) => out.extend_from_slice(&ip.octets()),
        Data::Aaaa(ip) => out.extend_from_slice(&ip.octets()),
        Data::Mx(pref, host) => {
            out.extend_from_slice(&pref.to_be_bytes());
            write_name(&mut out, host);
        }
        Data::Txt(strings) | Data::Spf(strings) => {
            for s in strings {
                for chunk in if s.is_empty() { vec![&s[..]] } else { s.chunks(255).collect() } {
                    out.push(chunk.len() as u8);
                    out.extend_from_slice(chunk);
                }
            }
        }
        Data::Ptr(name) | Data::Cname(name) => write_name(&mut out, name),
    }
    out
}

/// The response to one query; `None` to stay silent (a timeout).
fn answer(zone: &Zone, query: &[u8]) -> Option<Vec<u8>> {
    if query.len() < 12 {
        return None;
    }
    let (qname, end) = read_name(query, 12)?;
    let qtype = u16::from_be_bytes([*query.get(end)?, *query.get(end + 1)?]);
    let name = key(&qname);
    if zone.times_out(&name, qtype) {
        return None;
    }
    let mut answers: Vec<(String, &Data)> = Vec::new();
    let mut current = name.clone();
    let mut exists = false;
    for _ in 0..8 {
        let Some(records) = zone.records.get(&current) else { break };
        exists = true;
        let matching: Vec<&Data> = records.iter().filter(|d| d.rtype() == qtype).collect();
        if !matching.is_empty() || qtype == CNAME {
            answers.extend(matching.into_iter().map(|d| (current.clone(), d)));
            break;
        }
        match records.iter().find(|d| d.rtype() == CNAME) {
            Some(c @ Data::Cname(target)) => {
                answers.push((current.clone(), c));
                current = key(target);
                if zone.times_out(&current, qtype) {
                    return None;
                }
            }
            _ => break,
        }
    }
    // A name that exists only as a parent of others is not NXDOMAIN (RFC 8020).
    if !exists {
        let suffix = format!(".{name}");
        exists = zone.records.keys().any(|k| k.ends_with(&suffix));
    }
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(&query[0..2]);
    let rd = query[2] & 0x01;
    out.push(0x84 | rd); // QR, AA
    out.push(if exists { 0x80 } else { 0x83 }); // RA; NXDOMAIN when the name is unknown
    out.extend_from_slice(&[0, 1]);
    out.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&query[12..end + 4]);
    for (owner, d) in answers {
        write_name(&mut out, &owner);
        out.extend_from_slice(&d.rtype().to_be_bytes());
        out.extend_from_slice(&[0, 1, 0, 0, 0x0e, 0x10]); // IN, TTL 3600
        let rd = rdata(d);
        out.extend_from_slice(&(rd.len() as u16).to_be_bytes());
        out.extend_from_slice(&rd);
    }
    Some(out)
}
