//! One request through the edge: find the site, read the body within the limit, run the WAF on
//! the request, forward to an origin, run the WAF on the response, add the site's headers, and
//! log the access and every rule match.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use mamori_core::config::edge::WafMode;
use mamori_waf::Interruption;

use crate::alert_event::{AlertContext, alert_event};
use crate::body::{EdgeBody, Prefixed, full, read_prefix};
use crate::exchange::Exchange;
pub use crate::exchange::{Conn, ServerName};
use crate::forward::{ForwardError, Outgoing};
use crate::pages::{self, Page};
use crate::server::EdgeContext;
use crate::state::Site;
use crate::waf::{self, RequestView};

pub async fn handle(ctx: Arc<EdgeContext>, conn: Conn, sni: ServerName, req: Request<Incoming>) -> Response<EdgeBody> {
    let state = ctx.state.load_full();
    let (parts, body) = req.into_parts();
    let host_value = parts
        .uri
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).map(str::to_string));
    let mut ex = Exchange {
        started: Instant::now(),
        request_id: crate::request_id::new_request_id(),
        conn,
        method: parts.method.as_str().to_string(),
        host: host_value.clone().unwrap_or_default(),
        target: parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_string(),
        version: parts.version,
        user_agent: parts.headers.get(header::USER_AGENT).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        request_bytes: 0,
        site: None,
        waf_action: "none",
        origin: None,
    };
    let Some(host) = host_value else {
        let e = Some("the request names no host".to_string());
        return ex.page(&ctx, Page::BadRequest, StatusCode::BAD_REQUEST, "bad_request", e).await;
    };
    let Some(site) = state.site_for(&host).cloned() else {
        return ex.page(&ctx, Page::UnknownHost, StatusCode::NOT_FOUND, "unknown_host", None).await;
    };
    // A TLS connection opened for one site must not reach another one (RFC 9110 15.5.20).
    if let Some(name) = &sni
        && !state.site_for(name).is_some_and(|s| Arc::ptr_eq(s, &site))
    {
        let e = Some(format!("TLS server name {name} is not a host of the site for {host}"));
        return ex.page(&ctx, Page::UnknownHost, StatusCode::MISDIRECTED_REQUEST, "unknown_host", e).await;
    }
    ex.site = Some(site.clone());

    let limit = ctx.settings.max_request_body_bytes;
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return ex.page(&ctx, Page::TooLarge, StatusCode::PAYLOAD_TOO_LARGE, "too_large", None).await;
    }
    // A body trickling in slower than an origin may take to answer is given up (slowloris).
    let read = tokio::time::timeout(ctx.settings.origin_timeout, Limited::new(body, limit as usize).collect()).await;
    let Ok(read) = read else {
        let e = Some("the request body did not arrive in time".to_string());
        return ex.page(&ctx, Page::BadRequest, StatusCode::REQUEST_TIMEOUT, "bad_request", e).await;
    };
    let body = match read {
        Ok(b) => b.to_bytes(),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            return ex.page(&ctx, Page::TooLarge, StatusCode::PAYLOAD_TOO_LARGE, "too_large", None).await;
        }
        Err(e) => {
            let e = Some(format!("reading the request body: {e}"));
            return ex.page(&ctx, Page::BadRequest, StatusCode::BAD_REQUEST, "bad_request", e).await;
        }
    };
    ex.request_bytes = body.len() as u64;

    let ruleset = site.ruleset.clone().filter(|_| site.waf != WafMode::Off);
    let mut tx = None;
    if let Some(rs) = &ruleset {
        let mut wreq = waf::request(&RequestView {
            method: &ex.method,
            target: &ex.target,
            version: ex.version,
            headers: &parts.headers,
            host: &host,
            body: &body,
            client: conn.peer,
            server_port: conn.local_port,
        });
        // The front end's RFC 9112 checks: what a server would refuse, the WAF never sees.
        let front =
            mamori_waf::request_check::check(&wreq).and_then(|_| mamori_waf::request_check::normalize(&mut wreq));
        if let Err(e) = front {
            let e = Some(format!("malformed request: {}", e.0));
            return ex.page(&ctx, Page::BadRequest, StatusCode::BAD_REQUEST, "bad_request", e).await;
        }
        let mut t = rs.transaction(wreq);
        t.set_unique_id(&ex.request_id);
        t.set_engine_mode(waf::engine_mode(site.waf));
        t.process_request();
        tx = Some(t);
    }
    if let Some(resp) = blocked(&mut ex, &site, tx.as_ref()) {
        log_alerts(&ctx, &ex, &site, tx, true).await;
        let len = pages::html(Page::Blocked, &ex.request_id).len() as u64;
        return ex.finish(&ctx, resp, "blocked", Some(len), None).await;
    }

    let mut headers = parts.headers.clone();
    crate::headers::to_origin(&mut headers, conn.peer.ip(), ex.scheme(), &host, &ex.request_id);
    let out = Outgoing { method: &parts.method, target: &ex.target, headers: &headers, body };
    let sent = crate::forward::send(&site.client, &site.origins, &out, ctx.settings.origin_timeout).await;
    let (resp, origin) = match sent {
        Ok(r) => r,
        Err(e) => {
            log_alerts(&ctx, &ex, &site, tx, false).await;
            let (page, status, msg) = match e {
                ForwardError::Unreachable(m) => (Page::OriginDown, StatusCode::BAD_GATEWAY, m),
                ForwardError::Timeout(o) => {
                    (Page::OriginTimeout, StatusCode::GATEWAY_TIMEOUT, format!("{o}: no answer in time"))
                }
            };
            return ex.page(&ctx, page, status, "origin_error", Some(msg)).await;
        }
    };
    ex.origin = Some(origin.authority.clone());
    let (mut rparts, rbody) = resp.into_parts();

    // Phases 3 and 4; the body only as far as the ruleset asks and the limit allows.
    let mut response_bytes = rparts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
    let client_body: EdgeBody = match (&mut tx, &ruleset) {
        (Some(t), Some(rs)) => {
            let inspect = waf::wants_response_body(rs, &rparts.headers);
            let limit = (ctx.settings.max_inspected_response_bytes as usize).min(rs.settings.response_body_limit);
            let (seen, complete, rest) =
                if inspect { read_prefix(rbody, limit).await } else { (Bytes::new(), false, Some(rbody)) };
            let shown = seen.slice(..seen.len().min(limit)).to_vec();
            t.process_response(waf::response(rparts.status.as_u16(), rparts.version, &rparts.headers, shown));
            if complete {
                response_bytes = Some(seen.len() as u64);
            }
            match rest {
                Some(rest) if seen.is_empty() => rest.boxed(),
                Some(rest) => Prefixed { prefix: Some(seen), rest }.boxed(),
                None => full(seen),
            }
        }
        _ => rbody.boxed(),
    };
    if let Some(resp) = blocked(&mut ex, &site, tx.as_ref()) {
        log_alerts(&ctx, &ex, &site, tx, true).await;
        let len = pages::html(Page::Blocked, &ex.request_id).len() as u64;
        return ex.finish(&ctx, resp, "blocked", Some(len), None).await;
    }
    log_alerts(&ctx, &ex, &site, tx, false).await;
    crate::headers::to_client(&mut rparts.headers, &site, &ex.request_id);
    // The client's protocol, not the origin's (an HTTP/1.0 origin must not downgrade it).
    rparts.version = ex.version;
    let resp = Response::from_parts(rparts, client_body);
    ex.finish(&ctx, resp, "passed", response_bytes, None).await
}

/// The block page (or the rule's redirect) when the site blocks and a rule interrupted.
fn blocked(ex: &mut Exchange, site: &Site, tx: Option<&mamori_waf::Transaction<'_>>) -> Option<Response<EdgeBody>> {
    let tx = tx?;
    if tx.matches().iter().any(|m| m.logged) {
        ex.waf_action = "alert";
    }
    // A `nolog` rule may deny too: the interruption decides, not the log.
    if site.waf != WafMode::Block {
        return None;
    }
    let Interruption { status, redirect, .. } = tx.interruption()?.clone();
    ex.waf_action = "blocked";
    if let Some(to) = redirect
        && let Ok(location) = HeaderValue::from_str(&to)
    {
        let mut resp = Response::new(full(Bytes::new()));
        *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FOUND);
        resp.headers_mut().insert(header::LOCATION, location);
        return Some(resp);
    }
    let status = StatusCode::from_u16(status).ok().filter(|s| s.is_client_error() || s.is_server_error());
    Some(pages::response(Page::Blocked, status.unwrap_or(StatusCode::FORBIDDEN), &ex.request_id))
}

/// Runs phase 5 and writes one alert event per logged rule match.
async fn log_alerts(
    ctx: &EdgeContext,
    ex: &Exchange,
    site: &Site,
    tx: Option<mamori_waf::Transaction<'_>>,
    blocked: bool,
) {
    let Some(mut tx) = tx else { return };
    tx.process_logging();
    let (inbound_score, outbound_score) = waf::anomaly_scores(&tx);
    let url = format!("{}://{}{}", ex.scheme(), ex.host, ex.target);
    let c = AlertContext {
        request_id: &ex.request_id,
        client: ex.conn.peer,
        tenant: &site.tenant,
        site: &site.name,
        method: &ex.method,
        url: &url,
        waf_mode: waf::mode_name(site.waf),
        blocked,
        inbound_score,
        outbound_score,
    };
    let events: Vec<_> = tx.matches().iter().filter(|m| m.logged).map(|m| alert_event(&c, m)).collect();
    drop(tx);
    for e in events {
        crate::metrics::metrics().waf_matches.inc();
        ctx.events.record(e).await;
    }
}
