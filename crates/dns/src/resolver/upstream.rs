//! Where the resolver's own queries go. The network implementation speaks UDP and retries a
//! truncated answer over TCP (RFC 7766 §5); the replay runner puts scripted answers in its
//! place.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use hickory_proto::op::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

pub type UpstreamFuture<'a> = Pin<Box<dyn Future<Output = Result<Message, UpstreamError>> + Send + 'a>>;

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
