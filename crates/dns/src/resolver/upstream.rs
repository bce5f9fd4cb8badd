//! Where the resolver's own queries go. The network implementation speaks UDP and retries a
//! truncated answer over TCP (RFC 7766 §5); the replay runner puts scripted answers in its
//! place.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

pub type UpstreamFuture<'a> = Pin<Box<dyn Future<Output = Result<Message, UpstreamError>> + Send + 'a>>;
pub type TransferFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<Vec<u8>>, UpstreamError>> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("{server}: no answer within {0:?}", .timeout)]
    Timeout { server: SocketAddr, timeout: Duration },
    #[error("{server}: {message}")]
    Failed { server: SocketAddr, message: String },
}

pub trait Upstream: Send + Sync + 'static {
    /// Sends `request` to `server` and returns its answer, which matches the request's id and
    /// question.
    fn query<'a>(&'a self, server: SocketAddr, request: &'a Message) -> UpstreamFuture<'a>;

    /// A zone transfer (`rtype` AXFR or IXFR): sends the encoded `request` (signed, perhaps)
    /// and returns the answer's messages as received, up to the one that ends it.
    fn transfer(&self, server: SocketAddr, request: Vec<u8>, rtype: RecordType) -> TransferFuture<'_>;
}

/// Queries over the network.
pub struct NetworkUpstream {
    pub timeout: Duration,
}

impl Default for NetworkUpstream {
    fn default() -> Self {
        NetworkUpstream { timeout: Duration::from_secs(3) }
    }
}

impl Upstream for NetworkUpstream {
    fn query<'a>(&'a self, server: SocketAddr, request: &'a Message) -> UpstreamFuture<'a> {
        Box::pin(async move {
            let fail = |message: String| UpstreamError::Failed { server, message };
            let bytes = request.to_vec().map_err(|e| fail(format!("cannot encode the query: {e}")))?;
            let answer = tokio::time::timeout(self.timeout, udp_exchange(server, &bytes))
                .await
                .map_err(|_| UpstreamError::Timeout { server, timeout: self.timeout })?
                .map_err(|e| fail(e.to_string()))?;
            let mut message = check(request, &answer).map_err(fail)?;
            if message.metadata.truncation {
                let answer = tokio::time::timeout(self.timeout, tcp_exchange(server, &bytes))
                    .await
                    .map_err(|_| UpstreamError::Timeout { server, timeout: self.timeout })?
                    .map_err(|e| fail(e.to_string()))?;
                message = check(request, &answer).map_err(fail)?;
            }
            Ok(message)
        })
    }

    fn transfer(&self, server: SocketAddr, request: Vec<u8>, rtype: RecordType) -> TransferFuture<'_> {
        Box::pin(async move {
            let fail = |message: String| UpstreamError::Failed { server, message };
            let mut stream = tokio::time::timeout(self.timeout, TcpStream::connect(server))
                .await
                .map_err(|_| UpstreamError::Timeout { server, timeout: self.timeout })?
                .map_err(|e| fail(e.to_string()))?;
            // The whole transfer gets a minute per 10,000 records or so; a policy zone of a
            // million names still fits in the limit below.
            let limit = self.timeout * 100;
            tokio::time::timeout(limit, Self::read_transfer(&mut stream, &request, rtype))
                .await
                .map_err(|_| UpstreamError::Timeout { server, timeout: limit })?
                .map_err(fail)
        })
    }
}

impl NetworkUpstream {
    /// Reads the messages of a transfer from `stream` until [`TransferEnd`] says it is over.
    async fn read_transfer(stream: &mut TcpStream, request: &[u8], rtype: RecordType) -> Result<Vec<Vec<u8>>, String> {
        let len = u16::try_from(request.len()).map_err(|_| "request too long for TCP".to_string())?;
        stream.write_all(&len.to_be_bytes()).await.map_err(|e| e.to_string())?;
        stream.write_all(request).await.map_err(|e| e.to_string())?;
        let mut end = TransferEnd::new(rtype == RecordType::IXFR);
        let mut messages = Vec::new();
        loop {
            let n = stream.read_u16().await.map_err(|e| format!("connection closed before the transfer ended: {e}"))?;
            let mut buf = vec![0u8; usize::from(n)];
            stream.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
            let message = Message::from_vec(&crate::tsig::without_tsig(&buf))
                .map_err(|e| format!("malformed transfer message: {e}"))?;
            if buf.get(..2) != request.get(..2) {
                return Err("a transfer message with another id".into());
            }
            messages.push(buf);
            if end.feed(&message) {
                return Ok(messages);
            }
            if messages.len() > MAX_TRANSFER_MESSAGES {
                return Err(format!("more than {MAX_TRANSFER_MESSAGES} messages"));
            }
        }
    }
}

/// A transfer this long is not one a policy zone needs (about 100 records a message).
const MAX_TRANSFER_MESSAGES: usize = 100_000;

/// Says when the last message of an AXFR or IXFR answer has come (RFC 5936 §2.2, RFC 1995
/// §4): the first SOA's serial seen again at the end (a third time for incremental IXFR);
/// a one-record IXFR answer (the SOA alone: nothing newer); or an error rcode.
#[derive(Debug)]
pub struct TransferEnd {
    ixfr: bool,
    records: usize,
    first_serial: Option<u32>,
    incremental: bool,
    first_serial_seen: usize,
}

impl TransferEnd {
    pub fn new(ixfr: bool) -> TransferEnd {
        TransferEnd { ixfr, records: 0, first_serial: None, incremental: false, first_serial_seen: 0 }
    }

    /// Takes the next message; true when it is the last.
    pub fn feed(&mut self, message: &Message) -> bool {
        if message.metadata.response_code != ResponseCode::NoError {
            return true;
        }
        for r in &message.answers {
            let serial = match &r.data {
                RData::SOA(s) => Some(s.serial),
                _ => None,
            };
            match (self.records, serial) {
                (0, None) => return true, // not a transfer answer: the reader will say why
                (0, Some(s)) => {
                    self.first_serial = Some(s);
                    self.first_serial_seen = 1;
                }
                (1, Some(s)) if self.ixfr && Some(s) != self.first_serial => self.incremental = true,
                (_, Some(s)) if Some(s) == self.first_serial => self.first_serial_seen += 1,
                _ => {}
            }
            self.records += 1;
        }
        let needed = if self.incremental { 3 } else { 2 };
        (self.ixfr && self.records == 1) || self.first_serial_seen >= needed
    }
}

async fn udp_exchange(server: SocketAddr, query: &[u8]) -> std::io::Result<Vec<u8>> {
    let local: SocketAddr = if server.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().expect("literal");
    let socket = UdpSocket::bind(local).await?;
    socket.connect(server).await?;
    socket.send(query).await?;
    let mut buf = vec![0u8; 65_535];
    let n = socket.recv(&mut buf).await?;
    buf.truncate(n);
    Ok(buf)
}

async fn tcp_exchange(server: SocketAddr, query: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(server).await?;
    let len = u16::try_from(query.len()).map_err(|_| std::io::Error::other("query too long for TCP"))?;
    stream.write_all(&len.to_be_bytes()).await?;
    stream.write_all(query).await?;
    let n = stream.read_u16().await? as usize;
    let mut buf = vec![0u8; n];
    stream.read_exact(&mut buf).await?;
    Ok(buf)
}

/// Decodes an answer and checks that it answers our question (RFC 5452 §9.1: id and question).
fn check(request: &Message, answer: &[u8]) -> Result<Message, String> {
    let message = Message::from_vec(answer).map_err(|e| format!("malformed answer: {e}"))?;
    if message.metadata.id != request.metadata.id {
        return Err("answer with a different id".into());
    }
    let same = |a: &hickory_proto::op::Query, b: &hickory_proto::op::Query| {
        a.name().to_lowercase() == b.name().to_lowercase() && a.query_type == b.query_type
    };
    if message.queries.len() != request.queries.len()
        || !message.queries.iter().zip(&request.queries).all(|(a, b)| same(a, b))
    {
        return Err("answer for a different question".into());
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::op::{Message, MessageType, OpCode};
    use hickory_proto::rr::{Name, Record};

    use super::TransferEnd;

    fn soa(serial: u32) -> Record {
        let origin = Name::from_str("z.example.").unwrap();
        let text = format!("@ 60 IN SOA ns h {serial} 3600 900 86400 60\n");
        crate::zone::master::parse(&text, &origin, None).unwrap().remove(0).record
    }

    fn a() -> Record {
        let origin = Name::from_str("z.example.").unwrap();
        crate::zone::master::parse("www 60 IN A 192.0.2.1\n", &origin, None).unwrap().remove(0).record
    }

    fn message(answers: Vec<Record>) -> Message {
        let mut m = Message::new(1, MessageType::Response, OpCode::Query);
        m.answers = answers;
        m
    }

    #[test]
    fn the_last_message_of_a_transfer_is_recognized() {
        // AXFR over two messages.
        let mut end = TransferEnd::new(false);
        assert!(!end.feed(&message(vec![soa(5), a()])));
        assert!(end.feed(&message(vec![a(), soa(5)])));
        // IXFR: up to date, incremental over two messages, AXFR form.
        assert!(TransferEnd::new(true).feed(&message(vec![soa(5)])));
        let mut end = TransferEnd::new(true);
        assert!(!end.feed(&message(vec![soa(5), soa(4), a(), soa(5)])));
        assert!(end.feed(&message(vec![a(), soa(5)])));
        let mut end = TransferEnd::new(true);
        assert!(end.feed(&message(vec![soa(5), a(), soa(5)])));
        // An error ends it; a first record other than the SOA too.
        let mut refused = message(vec![]);
        refused.metadata.response_code = hickory_proto::op::ResponseCode::Refused;
        assert!(TransferEnd::new(false).feed(&refused));
        assert!(TransferEnd::new(false).feed(&message(vec![a()])));
    }
}
