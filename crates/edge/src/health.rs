//! Active health checks: every interval each origin of each site is asked for the site's
//! `health_check_path`; a connection failure, timeout or 5xx takes it out of the rotation, an
//! answer brings it back.

use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use tokio_util::sync::CancellationToken;

use crate::origins::Origin;
use crate::server::EdgeContext;
use crate::state::Site;

pub async fn run(ctx: Arc<EdgeContext>, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(ctx.settings.health_check_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let state = ctx.state.load_full();
        let mut checks = Vec::new();
        for site in &state.sites {
            for origin in &site.origins.origins {
                checks.push(check(ctx.clone(), site.clone(), origin.clone()));
            }
        }
        futures_join_all(checks).await;
    }
}

async fn check(ctx: Arc<EdgeContext>, site: Arc<Site>, origin: Arc<Origin>) {
    let uri = format!("{}{}", origin.base_url(), site.health_check_path);
    let host = site.hosts.first().cloned().unwrap_or_default();
    let Ok(req) = Request::get(&uri)
        .header("host", host)
        .header("user-agent", "mamori-edge-health")
        .body(Full::new(Bytes::new()))
    else {
        return;
    };
    // A check must finish before the next one starts.
    let timeout = ctx.settings.health_check_interval.min(ctx.settings.origin_timeout);
    let healthy = match tokio::time::timeout(timeout, site.client.request(req)).await {
        Ok(Ok(resp)) => !resp.status().is_server_error(),
        _ => false,
    };
    if origin.set_up(healthy) {
        if healthy {
            tracing::info!(site = %site.name, origin = %origin.authority, "origin is back in rotation");
        } else {
            tracing::warn!(site = %site.name, origin = %origin.authority, "origin failed its health check; taken out of rotation");
        }
    }
}

/// Runs the checks together (no `futures` dependency for one join).
async fn futures_join_all(checks: Vec<impl Future<Output = ()> + Send + 'static>) {
    let handles: Vec<_> = checks.into_iter().map(tokio::spawn).collect();
    for h in handles {
        let _ = h.await;
    }
}
