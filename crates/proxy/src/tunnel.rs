//! `CONNECT` tunnels: decided by host, then by the TLS server name once the client sends its
//! ClientHello, then bytes are copied both ways untouched.

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use mamori_urlfilter::{Method, Target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::decision::decide;
use crate::pages;
use crate::server::{Body, Exchange, full};
use crate::sni::{SniError, server_name};
use crate::tls::Destination;

/// Largest ClientHello read before deciding (a TLS record is at most 16 KiB + header).
const MAX_HELLO: usize = 16 * 1024 + 5;

pub(crate) async fn connect(x: Exchange, req: Request<Incoming>) -> Response<Body> {
    let authority = req.uri().authority().map(|a| a.to_string()).unwrap_or_default();
    let target = match Target::parse(&authority) {
        Ok(t) if t.port().is_some() => t,
        Ok(_) | Err(_) => {
            x.log("CONNECT", &authority, "", 400, "error", None, vec![], Some("CONNECT needs host:port".into())).await;
            return pages::plain(StatusCode::BAD_REQUEST, "CONNECT needs host:port");
        }
    };
    let d = decide(&x.state, &x.client, &target, Method::Read);
    if let Some((kind, list)) = d.blocked {
        return x.blocked("CONNECT", &authority, target.host(), kind, &list, d.categories).await;
    }
    let host = target.host().to_string();
    let port = target.port().unwrap_or(443);
    let inspect = inspects(&x, &host, &d.matched);
    let upstream = match x.ctx.resolver.connect(&host, port, x.ctx.settings.connect_timeout).await {
        Ok(s) => s,
        Err(e) => return gateway_error(&x, &authority, &host, e.to_string()).await,
    };
    x.log("CONNECT", &authority, &host, 200, "allowed", None, d.categories, None).await;
    tokio::spawn(async move {
        match hyper::upgrade::on(req).await {
            Ok(upgraded) => {
                let dest = Destination { name: host.clone(), host, port, authority: authority.clone() };
                if let Err(e) = relay(x, TokioIo::new(upgraded), upstream, dest, inspect).await {
                    tracing::debug!(tunnel = %authority, error = %e, "tunnel ended");
                }
            }
            Err(e) => tracing::debug!(tunnel = %authority, error = %e, "the client did not start the tunnel"),
        }
    });
    Response::new(full(bytes::Bytes::new()))
}

async fn gateway_error(x: &Exchange, authority: &str, host: &str, why: String) -> Response<Body> {
    x.log("CONNECT", authority, host, 502, "error", None, vec![], Some(why.clone())).await;
    pages::plain(StatusCode::BAD_GATEWAY, &format!("cannot connect to {authority}: {why}"))
}

/// Whether the tunnel to `host` is decrypted: the tenant wants it, and neither its bypass lists
/// nor a recent failure (pinning, client certificates) exempt the host.
fn inspects(x: &Exchange, host: &str, matched: &[mamori_urlfilter::ListId]) -> bool {
    let web = x.state.web_policy(x.client.tenant.as_deref());
    let Some(tls) = &x.ctx.tls else { return false };
    web.tls_inspect
        && !matched.iter().any(|l| web.tls_bypass.contains(l))
        && tls.remembered.get(x.client.tenant.as_deref(), host).is_none()
}

/// Reads the ClientHello, checks its server name when it differs from the CONNECT host, then
/// decrypts or copies both ways.
async fn relay(
    x: Exchange,
    mut client: TokioIo<hyper::upgrade::Upgraded>,
    mut upstream: TcpStream,
    mut dest: Destination,
    mut inspect: bool,
) -> std::io::Result<()> {
    let authority = dest.authority.as_str();
    let mut hello = Vec::with_capacity(2048);
    let deadline = tokio::time::Instant::now() + x.ctx.settings.sni_timeout;
    let sni = loop {
        match server_name(&hello) {
            Err(SniError::Incomplete(n)) if n <= MAX_HELLO => {}
            Ok(name) => break name,
            Err(_) => break None, // not TLS, or not a ClientHello we can read: decided by host
        }
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout_at(deadline, client.read(&mut chunk)).await {
            Ok(Ok(0)) => return Ok(()),
            Ok(Ok(n)) => hello.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => return Err(e),
            Err(_) => break None,
        }
    };
    if let Some(name) = sni.filter(|n| Some(n.as_str()) != authority.rsplit_once(':').map(|(h, _)| h))
        && let Ok(target) = Target::parse(&name)
    {
        let d = decide(&x.state, &x.client, &target, Method::Read);
        if let Some((kind, list)) = d.blocked {
            x.log(
                "CONNECT",
                authority,
                &name,
                403,
                "blocked",
                Some((&list, kind.code())),
                d.categories,
                Some(format!("TLS server name {name}")),
            )
            .await;
            return Ok(());
        }
        inspect = inspect && inspects(&x, &name, &d.matched);
        dest.name = name;
    }
    if inspect && crate::sni::record_len(&hello).is_ok() {
        return crate::tls::session(x, client, upstream, hello, dest).await;
    }
    upstream.write_all(&hello).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await.map(|_| ())
}
