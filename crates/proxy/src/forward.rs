//! Plain HTTP requests in absolute form, forwarded over pooled upstream connections with their
//! bodies streamed both ways (held back only for the malware scan). `admit` and `deliver` are
//! shared with the requests decrypted by TLS inspection.

use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use mamori_urlfilter::{Method, Target};

use crate::decision::{Decided, decide};
use crate::headers;
use crate::pages::{self, BlockKind};
use crate::scan_body::{self, Checked};
use crate::server::{Body, BoxError, Exchange};

pub(crate) async fn forward(x: Exchange, req: Request<Incoming>) -> Response<Body> {
    let method = req.method().clone();
    let method = method.as_str();
    let uri = req.uri().clone();
    let url = uri.to_string();
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        let text = "mamori is a forward proxy: requests must name an absolute URL (http://host/path) or use CONNECT";
        x.log(method, &url, "", 400, "error", None, vec![], Some("not an absolute-form request".into())).await;
        return pages::plain(StatusCode::BAD_REQUEST, text);
    };
    if scheme != "http" {
        let text = format!("only http:// URLs are forwarded as requests; use CONNECT for {scheme}://");
        x.log(method, &url, authority.host(), 400, "error", None, vec![], Some(text.clone())).await;
        return pages::plain(StatusCode::BAD_REQUEST, &text);
    }
    let target = match Target::parse(&url) {
        Ok(t) => t,
        Err(e) => {
            x.log(method, &url, authority.host(), 400, "error", None, vec![], Some(e.to_string())).await;
            return pages::plain(StatusCode::BAD_REQUEST, &format!("bad URL: {e}"));
        }
    };
    let (req, d) = match admit(&x, &url, &target, req).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let port = authority.port_u16().unwrap_or(80);
    let result = if x.ctx.settings.h2c_origins.iter().any(|o| o.matches(target.host(), port)) {
        let mut req = req;
        // HTTP/2 names the origin in :authority, taken from the absolute URI.
        req.headers_mut().remove(http::header::HOST);
        *req.version_mut() = http::Version::HTTP_2;
        x.ctx.upstream_h2c.request(req).await.map(boxed_response).map_err(BoxError::from)
    } else {
        x.ctx.upstream.request(target.host(), port, req).await
    };
    deliver(&x, method, &url, target.host(), d, result).await
}

/// A response of hyper's with its body in the proxy's body type.
pub(crate) fn boxed_response(r: Response<Incoming>) -> Response<Body> {
    r.map(|b| b.map_err(BoxError::from).boxed())
}

/// The URL filter, the request size limit and (if the tenant wants it) the upload scan; the
/// request comes out ready for the origin, or the answer to give instead.
pub(crate) async fn admit(
    x: &Exchange,
    url: &str,
    target: &Target,
    req: Request<Incoming>,
) -> Result<(Request<Body>, Decided), Response<Body>> {
    let method = req.method().clone();
    let method = method.as_str();
    let d = decide(&x.state, &x.client, target, Method::from_http(method));
    if let Some((kind, list)) = d.blocked {
        return Err(x.blocked(method, url, target.host(), kind, &list, d.categories).await);
    }
    let limit = x.ctx.settings.max_request_body_bytes;
    let length = content_length(req.headers());
    if length.is_some_and(|l| l > limit) {
        return Err(too_large(x, method, url, target.host(), d.categories).await);
    }
    let (mut parts, body) = req.into_parts();
    let mut body: Body = Limited::new(body, limit as usize).boxed();
    let has_body = length.is_some_and(|l| l > 0) || parts.headers.contains_key(http::header::TRANSFER_ENCODING);
    if has_body && x.ctx.scanner.is_some() && x.state.web_policy(x.client.tenant.as_deref()).scan_uploads {
        let name = scan_body::object_name(&parts.headers, parts.uri.path());
        body = match scan_body::check(x, url, name, body, length).await {
            Checked::Pass(b) => b,
            Checked::TooLarge => return Err(too_large(x, method, url, target.host(), d.categories).await),
            Checked::Infected(names) => {
                return Err(x.blocked(method, url, target.host(), BlockKind::Malware, &names, d.categories).await);
            }
            Checked::Suspicious(why) => {
                return Err(x.blocked(method, url, target.host(), BlockKind::Suspicious, &why, d.categories).await);
            }
            Checked::Unscanned(why) => {
                return Err(x.blocked(method, url, target.host(), BlockKind::Unscanned, &why, d.categories).await);
            }
        };
    }
    headers::for_origin(&mut parts.headers);
    Ok((Request::from_parts(parts, body), d))
}

/// The origin's answer (after the download scan), or a page saying why there is none.
pub(crate) async fn deliver(
    x: &Exchange,
    method: &str,
    url: &str,
    host: &str,
    d: Decided,
    result: Result<Response<Body>, BoxError>,
) -> Response<Body> {
    let response = match result {
        Ok(r) => r,
        Err(e) if scan_body::is_too_large(e.as_ref()) => return too_large(x, method, url, host, d.categories).await,
        Err(e) => {
            let why = innermost(e.as_ref());
            x.log(method, url, host, 502, "error", None, d.categories, Some(why.clone())).await;
            return pages::bad_gateway(url, &why, x.lang);
        }
    };
    let (mut parts, mut body) = response.into_parts();
    headers::strip_hop_by_hop(&mut parts.headers);
    // Terminals speak HTTP/1.1 to the proxy, whatever the origin spoke.
    parts.version = http::Version::HTTP_11;
    let bodiless = method == "HEAD"
        || parts.status.is_informational()
        || parts.status == StatusCode::NO_CONTENT
        || parts.status == StatusCode::NOT_MODIFIED;
    if !bodiless && x.ctx.scanner.is_some() && x.state.web_policy(x.client.tenant.as_deref()).scan_downloads {
        let path = url.split_once("://").and_then(|(_, r)| r.find('/').map(|i| &r[i..])).unwrap_or("/");
        let name = scan_body::object_name(&parts.headers, path);
        body = match scan_body::check(x, url, name, body, content_length(&parts.headers)).await {
            Checked::Pass(b) => b,
            Checked::Infected(names) => {
                return x.blocked(method, url, host, BlockKind::Malware, &names, d.categories).await;
            }
            Checked::Suspicious(why) => {
                return x.blocked(method, url, host, BlockKind::Suspicious, &why, d.categories).await;
            }
            Checked::Unscanned(why) => {
                return x.blocked(method, url, host, BlockKind::Unscanned, &why, d.categories).await;
            }
            Checked::TooLarge => {
                let why = "too large";
                return x.blocked(method, url, host, BlockKind::Unscanned, why, d.categories).await;
            }
        };
    }
    let rule = d.allowed_by.as_deref().map(|l| (l, "allow-list"));
    x.log(method, url, host, parts.status.as_u16(), "allowed", rule, d.categories, None).await;
    Response::from_parts(parts, body)
}

async fn too_large(x: &Exchange, method: &str, url: &str, host: &str, categories: Vec<String>) -> Response<Body> {
    let limit = x.ctx.settings.max_request_body_bytes;
    let why = format!("request body larger than {limit} bytes");
    x.log(method, url, host, 413, "blocked", Some(("max_request_body_bytes", "size-limit")), categories, Some(why))
        .await;
    pages::too_large(limit, x.lang)
}

fn content_length(h: &http::HeaderMap) -> Option<u64> {
    h.get(http::header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// The most specific cause of an upstream failure (the client error wraps the connect error).
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg = s.to_string();
        source = s.source();
    }
    msg
}
