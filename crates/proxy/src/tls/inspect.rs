//! One decrypted `CONNECT` tunnel: the origin is reached and verified first (so that a host
//! that cannot be decrypted is still tunnelled), then the terminal gets a minted certificate
//! and each request inside is filtered, scanned and logged with its full URL like a plain one.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::service::service_fn;
use hyper::upgrade::Upgraded;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use mamori_urlfilter::Target;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::origin::{self, OriginTls};
use super::prefixed::Prefixed;
use crate::client::Client;
use crate::forward::{admit, deliver};
use crate::pages::{self, Lang};
use crate::server::{Body, BoxError, Exchange, ProxyContext};

/// Where the tunnel goes.
pub(crate) struct Destination {
    /// The server name (SNI, else the `CONNECT` host) the certificate is minted and verified for.
    pub name: String,
    /// The `CONNECT` host and port, connected to.
    pub host: String,
    pub port: u16,
    /// As the `CONNECT` request named it, for the log.
    pub authority: String,
}

pub(crate) async fn session(
    x: Exchange,
    client: TokioIo<Upgraded>,
    upstream: TcpStream,
    hello: Vec<u8>,
    dest: Destination,
) -> std::io::Result<()> {
    let Some(tls) = x.ctx.tls.clone() else { return Ok(()) };
    let origin = match origin::handshake(&tls.origin, &dest.name, upstream).await {
        OriginTls::Ready(s) => Ok(*s),
        OriginTls::WantsClientCert => {
            let why = "the origin asks for a client certificate";
            tls.remembered.insert(x.client.tenant.as_deref(), &dest.name, why);
            bypass_event(&x, &dest, why).await;
            return tunnel(&x, client, &hello, &dest).await;
        }
        OriginTls::Failed { why, certificate } => Err((why, certificate)),
    };
    let tenant_ca = x.state.web_policy(x.client.tenant.as_deref()).tls_ca.clone();
    let config = match tls.server_config(tenant_ca.as_deref(), &dest.name) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(host = %dest.name, error = %e, "cannot mint a certificate for TLS inspection");
            x.log("CONNECT", &dest.authority, &dest.name, 502, "error", None, vec![], Some(e)).await;
            return Ok(());
        }
    };
    let terminal = match tokio_rustls::TlsAcceptor::from(config).accept(Prefixed::new(hello, client)).await {
        Ok(s) => s,
        Err(e) => {
            let tenant = x.client.tenant.as_deref();
            let why = match refusal(&e) {
                Refusal::Certificate => {
                    Some("the terminal rejected the mamori certificate (certificate pinning or CA not installed)")
                }
                Refusal::HangUp if tls.remembered.hang_up(tenant, &dest.name) => {
                    Some("the terminal abandoned the TLS handshake again and again (certificate pinning)")
                }
                Refusal::HangUp | Refusal::Other => None,
            };
            if let Some(why) = why {
                tls.remembered.insert(tenant, &dest.name, why);
                bypass_event(&x, &dest, &format!("{why}: {e}")).await;
            }
            return Ok(());
        }
    };
    let session = Arc::new(Session {
        ctx: x.ctx.clone(),
        client: x.client.clone(),
        dest,
        origin: tokio::sync::Mutex::new(match origin {
            Ok(stream) => Origin::Fresh(Box::new(stream)),
            Err((why, certificate)) => Origin::Failed { why, certificate },
        }),
    });
    let svc = service_fn(move |req| {
        let session = session.clone();
        async move { Ok::<_, Infallible>(session.request(req).await) }
    });
    let ctx = &x.ctx;
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(ctx.settings.header_timeout)
        .max_buf_size(ctx.settings.max_header_bytes.max(8192))
        .serve_connection(TokioIo::new(terminal), svc);
    conn.await.map_err(std::io::Error::other)
}

/// A plain tunnel after all, on a new connection, starting with the terminal's ClientHello.
async fn tunnel(x: &Exchange, mut client: TokioIo<Upgraded>, hello: &[u8], dest: &Destination) -> std::io::Result<()> {
    let mut upstream = x.ctx.resolver.connect(&dest.host, dest.port, x.ctx.settings.connect_timeout).await?;
    upstream.write_all(hello).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await.map(|_| ())
}

async fn bypass_event(x: &Exchange, dest: &Destination, why: &str) {
    tracing::info!(host = %dest.name, reason = %why, "TLS inspection bypassed for this host from now on");
    let error = Some(format!("TLS inspection bypassed: {why}"));
    x.log("CONNECT", &dest.authority, &dest.name, 200, "bypassed", None, vec![], error).await;
}

/// How the terminal ended a handshake.
enum Refusal {
    /// An alert saying it does not accept the certificate: pinning, or the CA not installed.
    Certificate,
    /// A hang-up, or an alert that names no reason: the user may just have cancelled.
    HangUp,
    /// Anything else (a protocol error) says nothing about the certificate.
    Other,
}

fn refusal(e: &std::io::Error) -> Refusal {
    use rustls::AlertDescription as A;
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::AlertReceived(
            A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::CertificateUnknown
            | A::UnknownCA
            | A::AccessDenied,
        )) => Refusal::Certificate,
        Some(rustls::Error::AlertReceived(A::UserCanceled | A::CloseNotify)) => Refusal::HangUp,
        Some(_) => Refusal::Other,
        None if matches!(e.kind(), std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset) => {
            Refusal::HangUp
        }
        None => Refusal::Other,
    }
}

struct Session {
    ctx: Arc<ProxyContext>,
    client: Client,
    dest: Destination,
    origin: tokio::sync::Mutex<Origin>,
}

enum Origin {
    /// The connection verified before the terminal's handshake, not yet used.
    Fresh(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    Open(Sender),
    Failed {
        why: String,
        certificate: bool,
    },
    Closed,
}

/// HTTP/1.1, or HTTP/2 when the origin chose it by ALPN.
enum Sender {
    H1(SendRequest<Body>),
    H2(hyper::client::conn::http2::SendRequest<Body>),
}

impl Sender {
    async fn ready(&mut self) -> bool {
        match self {
            Sender::H1(s) => s.ready().await.is_ok(),
            Sender::H2(s) => s.ready().await.is_ok(),
        }
    }

    fn send(
        &mut self,
        mut req: Request<Body>,
        url: &str,
    ) -> Pin<Box<dyn Future<Output = hyper::Result<Response<Incoming>>> + Send>> {
        match self {
            Sender::H1(s) => Box::pin(s.send_request(req)),
            Sender::H2(s) => {
                // HTTP/2 names the origin in :scheme and :authority, taken from the URI.
                if let Ok(uri) = url.parse() {
                    *req.uri_mut() = uri;
                }
                *req.version_mut() = http::Version::HTTP_2;
                req.headers_mut().remove(http::header::HOST);
                Box::pin(s.send_request(req))
            }
        }
    }
}

impl Session {
    async fn request(&self, req: Request<Incoming>) -> Response<Body> {
        // Each request sees the revision in force when it arrives.
        let x =
            Exchange::new(self.ctx.clone(), self.ctx.state.load_full(), self.client.clone(), Lang::of(req.headers()));
        let method = req.method().as_str().to_string();
        let host = &self.dest.name;
        let host_part = if host.contains(':') { format!("[{host}]") } else { host.clone() };
        let port = if self.dest.port == 443 { String::new() } else { format!(":{}", self.dest.port) };
        let path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let url = format!("https://{host_part}{port}{path}");
        let target = match Target::parse(&url) {
            Ok(t) => t,
            Err(e) => {
                x.log(&method, &url, host, 400, "error", None, vec![], Some(e.to_string())).await;
                return pages::plain(StatusCode::BAD_REQUEST, &format!("bad URL: {e}"));
            }
        };
        let (req, d) = match admit(&x, &url, &target, req).await {
            Ok(admitted) => admitted,
            Err(refused) => return refused,
        };
        let sent = {
            let mut origin = self.origin.lock().await;
            match self.ready(&mut origin).await {
                Ok(sender) => sender.send(req, &url),
                Err((why, certificate)) => {
                    x.log(&method, &url, host, 502, "error", None, d.categories, Some(why.clone())).await;
                    return if certificate {
                        pages::origin_certificate(&url, &why, x.lang)
                    } else {
                        pages::bad_gateway(&url, &why, x.lang)
                    };
                }
            }
        };
        let result = sent.await.map(crate::forward::boxed_response).map_err(BoxError::from);
        deliver(&x, &method, &url, host, d, result).await
    }

    /// A connection to the origin ready for a request: the first one, or a new one once the
    /// origin closed it.
    async fn ready<'a>(&self, origin: &'a mut Origin) -> Result<&'a mut Sender, (String, bool)> {
        let mut connects = 0;
        loop {
            match std::mem::replace(origin, Origin::Closed) {
                Origin::Fresh(stream) => {
                    *origin = Origin::Open(open(*stream).await.map_err(|e| (e.to_string(), false))?)
                }
                Origin::Open(mut sender) => {
                    if sender.ready().await {
                        *origin = Origin::Open(sender);
                        let Origin::Open(sender) = origin else { unreachable!() };
                        return Ok(sender);
                    }
                    *origin = Origin::Closed;
                }
                Origin::Failed { why, certificate } => {
                    *origin = Origin::Failed { why: why.clone(), certificate };
                    return Err((why, certificate));
                }
                Origin::Closed => {
                    connects += 1;
                    if connects > 2 {
                        return Err(("the origin keeps closing the connection".into(), false));
                    }
                    let tls = self.ctx.tls.as_ref().ok_or_else(|| ("TLS inspection is off".to_string(), false))?;
                    let (host, port, timeout) = (&self.dest.host, self.dest.port, self.ctx.settings.connect_timeout);
                    let tcp =
                        self.ctx.resolver.connect(host, port, timeout).await.map_err(|e| (e.to_string(), false))?;
                    *origin = match origin::handshake(&tls.origin, &self.dest.name, tcp).await {
                        OriginTls::Ready(s) => Origin::Fresh(s),
                        OriginTls::WantsClientCert => {
                            return Err(("the origin asks for a client certificate".into(), false));
                        }
                        OriginTls::Failed { why, certificate } => return Err((why, certificate)),
                    };
                }
            }
        }
    }
}

/// Starts HTTP on a verified origin connection, in the version ALPN chose.
async fn open(stream: tokio_rustls::client::TlsStream<TcpStream>) -> hyper::Result<Sender> {
    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    let io = TokioIo::new(stream);
    if h2 {
        let (sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "decrypted origin connection (HTTP/2) ended");
            }
        });
        return Ok(Sender::H2(sender));
    }
    let (sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "decrypted origin connection ended");
        }
    });
    Ok(Sender::H1(sender))
}
