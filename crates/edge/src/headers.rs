//! Header changes on the way to the origin (hop-by-hop headers out; forwarding headers in)
//! and on the way back (clickjacking protection the origin did not send, the request id).

use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use mamori_core::config::edge::FrameOptions;

use crate::state::Site;

const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
];

/// Removes the headers of one connection (RFC 9110 7.6.1), including those `Connection` names.
pub fn remove_hop_by_hop(h: &mut HeaderMap) {
    let named: Vec<HeaderName> = h
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        h.remove(n);
    }
    for n in HOP_BY_HOP {
        h.remove(n);
    }
    h.remove(header::TRANSFER_ENCODING);
}

/// What the origin learns about the client: `X-Forwarded-For` (the client appended to what
/// came before), `X-Forwarded-Proto`, `X-Forwarded-Host` and mamori's `X-Request-Id`.
pub fn to_origin(h: &mut HeaderMap, client: IpAddr, scheme: &str, host: &str, request_id: &str) {
    remove_hop_by_hop(h);
    // The body was read whole already: the origin must not wait for a continue.
    h.remove(header::EXPECT);
    // HTTP/2 clients may split cookies over several fields; HTTP/1.1 wants one (RFC 9113 8.2.3).
    let cookies: Vec<&str> = h.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).collect();
    if cookies.len() > 1 {
        let joined = cookies.join("; ");
        set(h, "cookie", &joined);
    }
    let previous: Vec<String> =
        h.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect();
    let mut xff = previous.join(", ");
    if !xff.is_empty() {
        xff.push_str(", ");
    }
    xff.push_str(&client.to_string());
    set(h, "x-forwarded-for", &xff);
    set(h, "x-forwarded-proto", scheme);
    set(h, "x-forwarded-host", host);
    set(h, "x-request-id", request_id);
    set(h, "host", host);
}

/// Clickjacking protection the site asks for, unless the origin chose its own.
pub fn to_client(h: &mut HeaderMap, site: &Site, request_id: &str) {
    remove_hop_by_hop(h);
    let frame = match site.frame_options {
        FrameOptions::Deny => Some("DENY"),
        FrameOptions::Sameorigin => Some("SAMEORIGIN"),
        FrameOptions::Off => None,
    };
    if let Some(v) = frame
        && !h.contains_key(header::X_FRAME_OPTIONS)
    {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static(v));
    }
    if let Some(fa) = &site.frame_ancestors {
        let has = h
            .get_all(header::CONTENT_SECURITY_POLICY)
            .iter()
            .any(|v| v.to_str().is_ok_and(|s| s.to_ascii_lowercase().contains("frame-ancestors")));
        // A second policy header narrows the first (browsers enforce both), so it is added
        // beside any policy of the origin rather than merged into it.
        if !has && let Ok(v) = HeaderValue::from_str(&format!("frame-ancestors {fa}")) {
            h.append(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    set(h, "x-request-id", request_id);
}

fn set(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarding_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("192.0.2.1"));
        h.insert("connection", HeaderValue::from_static("keep-alive, x-secret"));
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("x-request-id", HeaderValue::from_static("chosen-by-client"));
        h.append("cookie", HeaderValue::from_static("a=1"));
        h.append("cookie", HeaderValue::from_static("b=2"));
        to_origin(&mut h, "10.0.0.9".parse().unwrap(), "https", "www.example.jp", "abc");
        assert_eq!(h["x-forwarded-for"], "192.0.2.1, 10.0.0.9");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert_eq!(h["x-request-id"], "abc");
        assert!(!h.contains_key("x-secret") && !h.contains_key("connection"));
        assert_eq!(h.get_all("cookie").iter().collect::<Vec<_>>(), ["a=1; b=2"]);
    }
}
