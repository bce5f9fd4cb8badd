//! Between hyper's types and the WAF engine's: the request and response as the engine sees
//! them, and the engine mode for a site.

use std::net::SocketAddr;

use http::{HeaderMap, Version};
use mamori_core::config::edge::WafMode;
use mamori_waf::{EngineMode, Request, Response, Ruleset, Transaction};

pub fn version_str(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

fn headers(h: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    h.iter().map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec())).collect()
}

pub struct RequestView<'a> {
    pub method: &'a str,
    /// Path and query as sent.
    pub target: &'a str,
    pub version: Version,
    pub headers: &'a HeaderMap,
    /// The host as the client named it (HTTP/2 sends it as `:authority`, not `Host`).
    pub host: &'a str,
    pub body: &'a [u8],
    pub client: SocketAddr,
    pub server_port: u16,
}

pub fn request(r: &RequestView<'_>) -> Request {
    let mut hs = headers(r.headers);
    // Rules about `Host` must see it under HTTP/2 too.
    if !hs.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        hs.insert(0, ("Host".into(), r.host.as_bytes().to_vec()));
    }
    Request {
        method: r.method.to_string(),
        uri: r.target.to_string(),
        protocol: version_str(r.version).to_string(),
        headers: hs,
        body: r.body.to_vec(),
        remote_addr: r.client.ip().to_string(),
        remote_port: r.client.port(),
        server_port: r.server_port,
    }
}

pub fn response(status: u16, version: Version, h: &HeaderMap, body: Vec<u8>) -> Response {
    Response { status, protocol: version_str(version).to_string(), headers: headers(h), body }
}

/// Whether phase 4 wants this response's body (the ruleset's `SecResponseBodyAccess` and
/// `SecResponseBodyMimeType`).
pub fn wants_response_body(rs: &Ruleset, h: &HeaderMap) -> bool {
    if !rs.settings.response_body_access {
        return false;
    }
    let ct = h.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ct = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    rs.settings.response_mime_types.contains(&ct)
}

pub fn engine_mode(mode: WafMode) -> EngineMode {
    match mode {
        WafMode::Off => EngineMode::Off,
        WafMode::Detect => EngineMode::DetectionOnly,
        WafMode::Block => EngineMode::On,
    }
}

pub fn mode_name(mode: WafMode) -> &'static str {
    match mode {
        WafMode::Off => "off",
        WafMode::Detect => "detect",
        WafMode::Block => "block",
    }
}

/// CRS's anomaly scores (inbound, outbound), when the ruleset keeps them.
pub fn anomaly_scores(tx: &Transaction<'_>) -> (Option<i64>, Option<i64>) {
    let num = |name: &str| tx.tx_var(name).and_then(|v| std::str::from_utf8(v).ok()?.trim().parse().ok());
    (num("blocking_inbound_anomaly_score"), num("blocking_outbound_anomaly_score"))
}
