//! Exports larger than one search page: every event once, in order, with the caller's scope.

use std::collections::HashSet;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use mamori_core::Event;
use mamori_store::{AuditFilter, ControlStore};
use reqwest::StatusCode;

use crate::common::*;

#[tokio::test]
async fn a_large_export_streams_every_event_once() {
    let server = start().await;
    // 12,000 events of tenant a, four per millisecond, so page borders fall inside milliseconds.
    let base = Timestamp::now().checked_sub(SignedDuration::from_mins(30)).unwrap();
    let events: Vec<Event> = (0..12_000)
        .map(|i| {
            let mut e = Event::new(base.checked_add(SignedDuration::from_millis(i / 4)).unwrap(), "bulk");
            e.set_tenant("a");
            e.message = Some(format!("bulk {i}"));
            e
        })
        .collect();
    let receipt = server.logs.sink().submit(&events).await.unwrap();
    assert!(server.logs.wait_indexed(receipt.last_lsn, Duration::from_secs(120)));

    let mut admin = Browser::login(&server, "admin", 0).await;
    let r = admin.get("/console/search/export.ndjson?q=event.dataset%3Abulk&last=24h").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "application/x-ndjson");
    let lines: Vec<serde_json::Value> = r.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 12_000);
    let ids: HashSet<&str> = lines.iter().map(|e| e["event"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 12_000, "no event twice");
    let times: Vec<&str> = lines.iter().map(|e| e["@timestamp"].as_str().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0].parse::<Timestamp>().unwrap() >= w[1].parse::<Timestamp>().unwrap()),
        "newest first"
    );

    // A municipality exporting everything gets its own events only.
    let mut b = Browser::login(&server, "muni_b", 0).await;
    let csv = b.get("/console/search/export.csv?q=&last=24h").await;
    assert_eq!(csv.text.lines().count(), 1 + 2, "{}", csv.text);
    assert!(csv.text.starts_with("\u{feff}@timestamp,organization.id"));

    let audit = server
        .store
        .audit_entries(&AuditFilter { action: Some("search.export".into()), ..Default::default() })
        .unwrap();
    assert!(audit.iter().any(|e| e.actor == "admin" && e.detail["events"] == 12_000), "{audit:?}");
    assert!(audit.iter().any(|e| e.actor == "muni_b" && e.tenant.as_deref() == Some("b") && e.detail["events"] == 2));
}
