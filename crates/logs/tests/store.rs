//! The log store end to end: durable ingestion, search, archiving of closed days, retention,
//! search across hot and cold, and tamper evidence.

use std::time::Duration;

use jiff::{Timestamp, ToSpan};
use mamori_core::Event;
use mamori_logs::{LogStore, LogStoreConfig, RetentionPolicy, SearchRequest, TenantScope};
use mamori_query::{AggResult, Aggregation};

fn config(dir: &std::path::Path) -> LogStoreConfig {
    let mut c = LogStoreConfig::new(dir);
    c.min_free_bytes = 0;
    c.indexer.commit_interval = Duration::from_millis(100);
    c
}

/// The clock, moved back to 23:00 of the previous day when it reads 00:00-01:00 UTC (and to
/// 23:00 after 23:00), so that a test's events never straddle the midnight that closes a day.
fn mid_day_now() -> Timestamp {
    let real = Timestamp::now();
    let day_start = real.to_zoned(jiff::tz::TimeZone::UTC).start_of_day().unwrap().timestamp();
    let into_day = real.as_second() - day_start.as_second();
    if into_day < 3600 {
        day_start - 1.hours()
    } else if into_day > 23 * 3600 {
        day_start + 23.hours()
    } else {
        real
    }
}

fn event(t: Timestamp, tenant: &str, msg: &str, ip: &str) -> Event {
    let mut e = Event::new(t, "syslog");
    e.set_tenant(tenant);
    e.message = Some(msg.to_string());
    e.event.original = Some(format!("<13>{msg}"));
    e.source = Some(mamori_core::event::Endpoint { ip: Some(ip.parse().unwrap()), ..Default::default() });
    e
}

fn req(q: &str, from: Timestamp, to: Timestamp, scope: TenantScope) -> SearchRequest {
    SearchRequest {
        query: mamori_query::parse(q, to).unwrap(),
        from,
        to,
        tenants: scope,
        limit: 1000,
        oldest_first: false,
        aggregations: vec![Aggregation::Count, Aggregation::Terms { field: "organization.id".into(), size: 10 }],
    }
}

fn submit(store: &LogStore, events: Vec<Event>) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let receipt = rt.block_on(store.sink().submit(&events)).unwrap();
    assert!(store.wait_indexed(receipt.last_lsn, Duration::from_secs(30)));
    receipt.last_lsn
}

#[test]
fn ingest_search_archive_expire_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = LogStore::open(config(dir.path())).unwrap();
    let now = mid_day_now();
    let two_days_ago = now - 48.hours();
    let mut events = Vec::new();
    for i in 0..300 {
        let tenant = if i % 3 == 0 { "aoba" } else { "midori" };
        events.push(event(two_days_ago + (i as i64).seconds(), tenant, &format!("login failed user{i}"), "10.1.2.3"));
    }
    for i in 0..50 {
        events.push(event(now - (i as i64).seconds(), "midori", &format!("ログイン成功 {i}"), "10.2.0.1"));
    }
    submit(&store, events);

    let all = store.search(&req("", now - 72.hours(), now + 1.hours(), TenantScope::All)).unwrap();
    assert_eq!(all.total, 350);
    assert_eq!(all.cold_segments, 0);
    let midori = store
        .search(&req("failed", now - 72.hours(), now + 1.hours(), TenantScope::Only(vec!["midori".into()])))
        .unwrap();
    assert_eq!(midori.total, 200);
    match &midori.aggregations[1] {
        AggResult::Terms(t) => {
            assert_eq!(t.buckets.len(), 1, "a scoped search never counts another tenant");
            assert_eq!(t.buckets[0].key, "midori");
        }
        other => panic!("{other:?}"),
    }

    // Archive the closed day; nothing is deleted yet (hot retention is 90 days).
    let report = store.run_maintenance(now).unwrap();
    assert_eq!(report.archived.iter().map(|a| a.events).sum::<u64>(), 300, "{report:?}");
    assert_eq!(report.archived.iter().map(|a| a.segments).sum::<usize>(), 2);
    assert!(report.hot_partitions_removed.is_empty());
    // Searching still uses the hot copy only.
    let again = store.search(&req("failed", now - 72.hours(), now + 1.hours(), TenantScope::All)).unwrap();
    assert_eq!((again.total, again.cold_segments), (300, 0));
    // A second run archives nothing new.
    assert!(store.run_maintenance(now).unwrap().archived.is_empty());

    // Shorter hot retention for aoba: its share of the old day leaves the hot tier.
    let mut policy = RetentionPolicy::default();
    policy.tenants.insert("aoba".into(), (1, 5));
    store.set_retention(policy);
    let r = store.run_maintenance(now).unwrap();
    assert_eq!(r.hot_tenants_removed.len(), 1, "{r:?}");
    let mixed = store.search(&req("failed", now - 72.hours(), now + 1.hours(), TenantScope::All)).unwrap();
    assert_eq!(mixed.total, 300, "aoba from the archive, midori from the index");
    assert_eq!(mixed.cold_segments, 1);
    let aoba =
        store.search(&req("user3", now - 72.hours(), now + 1.hours(), TenantScope::Only(vec!["aoba".into()]))).unwrap();
    assert_eq!(aoba.total, 1);
    assert_eq!(aoba.events[0]["message"], "login failed user3");

    // Past everyone's hot retention (seen from 100 days later) the day lives in the archive only.
    let later = now + (100 * 24).hours();
    let r = store.run_maintenance(later).unwrap();
    assert!(!r.hot_partitions_removed.is_empty(), "{r:?}");
    let cold = store.search(&req("failed", now - 72.hours(), now + 1.hours(), TenantScope::All)).unwrap();
    assert_eq!(cold.total, 300);
    assert_eq!(cold.cold_segments, 3, "both days are archive-only now");
    match &cold.aggregations[1] {
        AggResult::Terms(t) => assert_eq!(
            t.buckets.iter().map(|b| (b.key.as_str(), b.count)).collect::<Vec<_>>(),
            [("midori", 200), ("aoba", 100)]
        ),
        other => panic!("{other:?}"),
    }

    let v = store.verify().unwrap();
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!(v.events, 350, "the second day was archived too");

    // Tampering with an archived segment is evident.
    let seg =
        walk(&dir.path().join("archive")).into_iter().find(|p| p.extension().is_some_and(|e| e == "seg")).unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&seg, bytes).unwrap();
    let v = store.verify().unwrap();
    assert!(!v.problems.is_empty());

    // Archive expiry after the archive retention (5 years by default).
    let r = store.run_maintenance(now + (366 * 6 * 24).hours()).unwrap();
    assert_eq!(r.archive_segments_expired.len(), 3, "{r:?}");
    store.close();
}

#[test]
fn reopening_reindexes_nothing_twice_and_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let now = Timestamp::now();
    {
        let (store, _) = LogStore::open(config(dir.path())).unwrap();
        submit(&store, (0..100).map(|i| event(now - (i as i64).seconds(), "midori", "a", "10.1.0.1")).collect());
        store.close();
    }
    let (store, report) = LogStore::open(config(dir.path())).unwrap();
    assert!(report.repairs.is_empty());
    submit(&store, (0..10).map(|i| event(now - (i as i64).seconds(), "aoba", "b", "10.2.0.1")).collect());
    let r = store.search(&req("", now - 1.hours(), now + 1.hours(), TenantScope::All)).unwrap();
    assert_eq!(r.total, 110);
    assert!(
        matches!(LogStore::open(config(dir.path())), Err(mamori_logs::LogError::Locked(_))),
        "one writer at a time"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The time range is exact to below the second, for the range of a search and for
/// `@timestamp` in a query: paging by time must neither lose nor repeat events.
#[test]
fn time_bounds_are_exact_below_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = LogStore::open(config(dir.path())).unwrap();
    let t0 = Timestamp::from_second(Timestamp::now().as_second() - 60).unwrap();
    let events =
        (0..10).map(|i| event(t0 + (i * 100).milliseconds(), "midori", &format!("tick {i}"), "10.1.0.1")).collect();
    submit(&store, events);
    let count =
        |q: &str, from: Timestamp, to: Timestamp| store.search(&req(q, from, to, TenantScope::All)).unwrap().total;
    let end = t0 + 10.seconds();
    assert_eq!(count("tick", t0, t0 + 450.milliseconds()), 5, "to is exclusive at the millisecond");
    assert_eq!(count("tick", t0 + 450.milliseconds(), end), 5, "from is inclusive at the millisecond");
    assert_eq!(count("tick", t0 + 500.milliseconds(), end), 5);
    let q = format!("tick AND @timestamp:[{} TO {}]", t0 + 200.milliseconds(), t0 + 300.milliseconds());
    assert_eq!(count(&q, t0, end), 2, "{q}");
}
