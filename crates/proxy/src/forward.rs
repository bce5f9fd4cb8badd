//! Plain HTTP requests in absolute form, forwarded over pooled upstream connections with their
//! bodies streamed both ways.

use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use mamori_urlfilter::{Method, Target};

use crate::decision::decide;
use crate::headers;
use crate::pages;
use crate::server::{Body, Exchange};

pub(crate) async fn forward(x: Exchange, mut req: Request<Incoming>) -> Response<Body> {
    let method = req.method().as_str().to_string();
    let uri = req.uri().clone();
    let url = uri.to_string();
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        let text = "mamori is a forward proxy: requests must name an absolute URL (http://host/path) or use CONNECT";
        x.log(&method, &url, "", 400, "error", None, vec![], Some("not an absolute-form request".into())).await;
        return pages::plain(StatusCode::BAD_REQUEST, text);
    };
    if scheme != "http" {
        let text = format!("only http:// URLs are forwarded as requests; use CONNECT for {scheme}://");
        x.log(&method, &url, authority.host(), 400, "error", None, vec![], Some(text.clone())).await;
        return pages::plain(StatusCode::BAD_REQUEST, &text);
    }
    let target = match Target::parse(&url) {
        Ok(t) => t,
        Err(e) => {
            x.log(&method, &url, authority.host(), 400, "error", None, vec![], Some(e.to_string())).await;
            return pages::plain(StatusCode::BAD_REQUEST, &format!("bad URL: {e}"));
        }
    };
    let d = decide(&x.state, &x.client, &target, Method::from_http(&method));
    if let Some((kind, list)) = d.blocked {
        return x.blocked(&method, &url, target.host(), kind, &list, d.categories).await;
    }
    headers::for_origin(req.headers_mut());
    match x.ctx.upstream.request(req).await {
        Ok(mut response) => {
            headers::strip_hop_by_hop(response.headers_mut());
            let rule = d.allowed_by.as_deref().map(|l| (l, "allow-list"));
            x.log(&method, &url, target.host(), response.status().as_u16(), "allowed", rule, d.categories, None).await;
            response.map(|b| b.map_err(Into::into).boxed())
        }
        Err(e) => {
            let why = upstream_error(&e);
            x.log(&method, &url, target.host(), 502, "error", None, d.categories, Some(why.clone())).await;
            pages::bad_gateway(&url, &why, x.lang)
        }
    }
}

/// The most specific cause of an upstream failure (the client error wraps the connect error).
fn upstream_error(e: &hyper_util::client::legacy::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg = s.to_string();
        source = s.source();
    }
    msg
}
