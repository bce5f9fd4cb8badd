//! Headers that must not cross the proxy: hop-by-hop headers (RFC 9110 §7.6.1) and everything
//! that identifies a terminal. The requirement is that terminal information is removed
//! towards the internet, so the list errs on the side of removing.

use http::HeaderMap;
use http::header::{CONNECTION, HeaderName};

/// Hop-by-hop headers (RFC 9110 §7.6.1), besides those the `Connection` header names.
fn hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// Headers in which proxies, load balancers and clients report where a request came from.
fn identifying(name: &str) -> bool {
    matches!(
        name,
        "x-forwarded-for"
            | "x-forwarded-host"
            | "x-forwarded-server"
            | "x-forwarded-proto"
            | "x-forwarded-port"
            | "forwarded"
            | "via"
            | "x-real-ip"
            | "client-ip"
            | "x-client-ip"
            | "x-cluster-client-ip"
            | "true-client-ip"
            | "x-originating-ip"
            | "x-remote-ip"
            | "x-remote-addr"
            | "x-proxyuser-ip"
            | "cf-connecting-ip"
            | "fastly-client-ip"
            | "x-bluecoat-via"
    )
}

/// Removes hop-by-hop headers, including those the `Connection` header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    strip(headers, false);
}

/// Prepares a request's headers for the origin.
pub fn for_origin(headers: &mut HeaderMap) {
    strip(headers, true);
}

/// One pass over the names present (a request has a dozen), not one lookup per listed name.
fn strip(headers: &mut HeaderMap, terminal_information: bool) {
    let mut doomed: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in headers.keys() {
        if hop_by_hop(name.as_str()) || (terminal_information && identifying(name.as_str())) {
            doomed.push(name.clone());
        }
    }
    for name in doomed {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_information_and_hop_by_hop_headers_go() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("x-forwarded-for", "10.1.2.3"),
            ("via", "1.1 town-proxy"),
            ("forwarded", "for=10.1.2.3"),
            ("x-real-ip", "10.1.2.3"),
            ("connection", "keep-alive, x-secret"),
            ("x-secret", "1"),
            ("proxy-authorization", "Basic eDp5"),
            ("accept", "text/html"),
            ("user-agent", "curl"),
        ] {
            h.append(k, v.parse().unwrap());
        }
        for_origin(&mut h);
        let mut left: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        left.sort();
        assert_eq!(left, ["accept", "user-agent"]);
    }
}
