//! `POST /api/v1/ingest`: newline-delimited JSON events from log shippers and scripts.
//!
//! The response is sent only once the log store has made the events durable, so a 200 means
//! they survive a crash. When the store cannot take them the sender is told to retry (507 for
//! a full disk, 503 otherwise); nothing is dropped silently.

use std::net::IpAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use mamori_collect::ndjson::parse_ndjson;
use mamori_core::tenant::UNASSIGNED;
use mamori_core::{Event, SubmitError, TenantDirectory};
use mamori_store::Role;
use serde_json::{Value, json};

use crate::audit;
use crate::auth::Caller;
use crate::blocking::blocking;
use crate::error::{ApiError, ApiResult};
use crate::extract::body_rejection;
use crate::metrics::{self, refused};
use crate::state::AppState;

/// Media types accepted as JSON lines.
const TYPES: &[&str] =
    &["application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/json"];

pub async fn ingest(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let (forced, ip, operator) = match caller {
        Caller::Ingest(t) => (t.tenant, t.ip, None),
        Caller::Operator(op) if op.role() == Role::PrefectureAdmin => (None, op.ip, Some(op)),
        Caller::Operator(op) => {
            return Err(ApiError::forbidden(format!(
                "posting events needs an ingest token or the prefecture_admin role (you are {})",
                op.role()
            )));
        }
    };
    check_content_type(&headers)?;
    let body = body.map_err(|e| {
        let e = body_rejection(e);
        if e.status == StatusCode::PAYLOAD_TOO_LARGE {
            refused("too_large");
        }
        e
    })?;

    let current = state.current();
    let max_line = state.settings().max_line_bytes;
    let batch = blocking(move || {
        let mut batch = parse_ndjson(&body, forced.as_deref(), max_line);
        if forced.is_none() {
            for event in &mut batch.events {
                attribute(event, &current.directory, ip);
            }
        }
        Ok(batch)
    })
    .await?;
    let rejected: Vec<Value> =
        batch.rejected_lines.iter().map(|(line, reason)| json!({"line": line, "reason": reason})).collect();
    let (accepted, last_lsn) = if batch.events.is_empty() {
        (0, None)
    } else {
        match state.logs().sink().submit(&batch.events).await {
            Ok(receipt) => (receipt.count, Some(receipt.last_lsn)),
            Err(e) => return Err(push_back(e)),
        }
    };
    metrics::metrics().ingest_events.inc_by(accepted as u64);
    if let Some(op) = operator {
        let detail = json!({"accepted": accepted, "rejected_lines": rejected.len()});
        audit::record(&state, op.audit("ingest", "events", None, "success", detail)).await;
    }
    Ok(Json(json!({
        "accepted": accepted,
        "rejected_lines": rejected,
        "last_lsn": last_lsn,
    })))
}

fn check_content_type(headers: &HeaderMap) -> ApiResult<()> {
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    // No type at all (simple shippers) and text/plain are read as NDJSON too.
    if mime.is_empty() || mime == "text/plain" || TYPES.contains(&mime.as_str()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send one JSON event per line with Content-Type: application/x-ndjson",
        )
        .with_field("Content-Type"))
    }
}

/// An event keeps the tenant it names when that tenant exists; otherwise it belongs to the
/// tenant of the sending address (log sender entries first, then tenant networks), and failing
/// that to `unassigned`, where the SOC sees it.
fn attribute(event: &mut Event, directory: &TenantDirectory, ip: Option<IpAddr>) {
    if directory.get(event.tenant()).is_some() {
        return;
    }
    let tenant = ip.and_then(|ip| directory.tenant_of_log_sender(ip)).map_or(UNASSIGNED, |t| t.id.as_str());
    event.set_tenant(tenant);
}

/// The refusal a sender should retry after.
fn push_back(e: SubmitError) -> ApiError {
    match e {
        SubmitError::StorageFull(why) => {
            refused("storage_full");
            tracing::warn!(reason = %why, "ingestion refused: log storage full");
            ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "the log store is out of disk space; nothing was stored, retry later",
            )
            .retry_after(60)
        }
        SubmitError::Storage(why) => {
            refused("storage_error");
            tracing::error!(reason = %why, "ingestion refused: log storage error");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the log store cannot write right now; nothing was stored, retry later",
            )
            .retry_after(10)
        }
        SubmitError::Closed => {
            refused("closed");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "mamori is shutting down; nothing was stored, retry later")
                .retry_after(10)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_core::{ManagedConfig, NetworkModel, Tenant};

    fn directory() -> TenantDirectory {
        let config = ManagedConfig {
            tenants: vec![Tenant {
                id: "aoba".into(),
                name_ja: "青葉町".into(),
                name_en: "Aoba".into(),
                network_model: NetworkModel::Beta,
                networks: vec!["10.1.0.0/16".parse().unwrap()],
                domains: vec![],
                contacts: vec![],
                retention: Default::default(),
            }],
            ..Default::default()
        };
        config.directory()
    }

    #[test]
    fn attribution_order() {
        let d = directory();
        let mut e = Event::new(jiff::Timestamp::now(), "t");
        e.set_tenant("aoba");
        attribute(&mut e, &d, None);
        assert_eq!(e.tenant(), "aoba");
        let mut e = Event::new(jiff::Timestamp::now(), "t");
        e.set_tenant("nosuch");
        attribute(&mut e, &d, Some("10.1.2.3".parse().unwrap()));
        assert_eq!(e.tenant(), "aoba");
        let mut e = Event::new(jiff::Timestamp::now(), "t");
        attribute(&mut e, &d, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(e.tenant(), UNASSIGNED);
    }
}
