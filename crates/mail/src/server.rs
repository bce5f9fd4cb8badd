//! The listener: one task per connection, STARTTLS by re-running the session over TLS.

use std::sync::Arc;

use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::connections::{Connections, Full};
use crate::context::MailContext;
use crate::smtp::session::{self, End, Peer};

/// Accepts connections until shutdown. A failing connection never stops the listener.
pub async fn serve(listener: TcpListener, ctx: Arc<MailContext>, shutdown: CancellationToken) -> std::io::Result<()> {
    let open = Arc::new(Connections::default());
    while let Some((mut stream, addr)) = mamori_core::accept::next_connection(&listener, &shutdown, "mail").await {
        let ctx = ctx.clone();
        let ip = addr.ip().to_canonical();
        let per_ip = match ctx.policy.load().sending_tenant(ip) {
            Some(_) => None,
            None => Some(ctx.settings.max_connections_per_ip),
        };
        let slot = match open.enter(ip, ctx.settings.max_connections, per_ip) {
            Ok(slot) => slot,
            Err(full) => {
                // RFC 5321 §3.8: a server may answer 421 at once and close.
                ctx.metrics.refuse(if full == Full::Total { "connections_total" } else { "connections_per_ip" });
                tokio::spawn(async move {
                    let reply = b"421 4.7.0 Too many connections, try again later\r\n";
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), stream.write_all(reply)).await;
                });
                continue;
            }
        };
        tokio::spawn(async move {
            let _slot = slot;
            let _ = stream.set_nodelay(true);
            let peer = Peer { ip, tls: false };
            if let Err(e) = connection(&ctx, stream, peer).await {
                tracing::debug!(client = %addr, error = %e, "smtp connection ended with an error");
            }
        });
    }
    Ok(())
}

async fn connection(ctx: &MailContext, stream: tokio::net::TcpStream, peer: Peer) -> std::io::Result<()> {
    let ip = peer.ip;
    match session::run(ctx, stream, peer).await? {
        End::Closed => Ok(()),
        End::StartTls(stream) => {
            let Some(config) = ctx.tls.clone() else { return Ok(()) };
            let handshake = tokio_rustls::TlsAcceptor::from(config).accept(stream);
            let tls = match tokio::time::timeout(ctx.settings.command_timeout, handshake).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    ctx.metrics.refuse("tls_handshake");
                    return Err(e);
                }
                Err(_) => return Err(std::io::ErrorKind::TimedOut.into()),
            };
            session::run(ctx, tls, Peer { ip, tls: true }).await.map(|_| ())
        }
    }
}
