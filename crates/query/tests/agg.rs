//! Aggregations: results, and exact merging of partials from several partitions.

mod common;

use common::*;
use mamori_query::agg::{
    Accumulator, AggPartial, AggResult, Aggregation, HistogramPartial, Interval, MergeError, TermsBucket, TermsPartial,
};
use serde_json::{Value, json};

fn interval(s: &str) -> Interval {
    s.parse().unwrap()
}

fn aggs() -> Vec<Aggregation> {
    vec![
        Aggregation::Count,
        Aggregation::Terms { field: "source.ip".into(), size: 3 },
        Aggregation::Terms { field: "tags".into(), size: 10 },
        Aggregation::date_histogram(interval("5m")),
    ]
}

/// Random proxy-like events over two hours.
fn random_events(n: usize, rng: &mut Rng) -> Vec<Value> {
    let base = ts("2026-11-21T09:00:00Z").as_second();
    (0..n)
        .map(|_| {
            let mut e = json!({
                "@timestamp": jiff::Timestamp::from_second(base + rng.below(7200) as i64).unwrap().to_string(),
                "source": {"ip": format!("10.0.0.{}", rng.below(8))},
                "tags": match rng.below(4) { 0 => json!(["vpn", "vpn", "remote"]), 1 => json!("office"), 2 => json!([]), _ => json!(null) },
            });
            if rng.chance(10) {
                e.as_object_mut().unwrap().remove("source");
            }
            if rng.chance(5) {
                e["@timestamp"] = json!("not a time");
            }
            e
        })
        .collect()
}

#[test]
fn partitions_merge_exactly() {
    let mut rng = Rng::new(99);
    let events = random_events(5_000, &mut rng);
    let mut whole = Accumulator::new(&aggs());
    events.iter().for_each(|e| whole.add(e));

    for parts in [1, 2, 7, 64] {
        let mut partials: Vec<Vec<AggPartial>> =
            (0..parts).map(|_| Accumulator::new(&aggs()).into_partials()).collect();
        let mut accs: Vec<Accumulator> = (0..parts).map(|_| Accumulator::new(&aggs())).collect();
        for e in &events {
            let i = rng.below(parts);
            accs[i].add(e);
        }
        for (i, acc) in accs.into_iter().enumerate() {
            // Partials cross the network as JSON.
            let json = serde_json::to_string(acc.partials()).unwrap();
            partials[i] = serde_json::from_str(&json).unwrap();
        }
        let mut merged = Accumulator::new(&aggs());
        for p in partials.into_iter().rev() {
            merged.merge(p).unwrap();
        }
        assert_eq!(merged.partials(), whole.partials(), "{parts} partitions");
        assert_eq!(merged.finish(), whole.finish());
    }

    let results = whole.finish();
    let AggResult::Count { count } = results[0] else { panic!() };
    assert_eq!(count, 5_000);
    let AggResult::Terms(ips) = &results[1] else { panic!() };
    assert_eq!(ips.buckets.len(), 3);
    let total: u64 = ips.buckets.iter().map(|b| b.count).sum::<u64>() + ips.other_count + ips.missing_count;
    assert_eq!(total, 5_000, "every event is in a bucket, in other or missing");
    assert!(ips.buckets.windows(2).all(|w| w[0].count >= w[1].count));
    let AggResult::DateHistogram(h) = &results[3] else { panic!() };
    assert_eq!(h.buckets.len(), 24);
    assert_eq!(h.buckets[0].start, ts("2026-11-21T09:00:00Z"));
    assert_eq!(h.buckets.iter().map(|b| b.count).sum::<u64>() + h.missing_count, 5_000);
}

#[test]
fn terms_count_each_distinct_value_once_per_event() {
    let mut acc = Accumulator::new(&[Aggregation::Terms { field: "tags".into(), size: 10 }]);
    acc.add(&json!({"tags": ["vpn", "vpn", "remote"]}));
    acc.add(&json!({"tags": "vpn"}));
    acc.add(&json!({"tags": [null]}));
    acc.add(&json!({"tags": {"nested": 1}}));
    acc.add(&json!({"tags.x": 1}));
    acc.add(&json!({"tags": 443}));
    let AggResult::Terms(t) = &acc.finish()[0] else { panic!() };
    assert_eq!(
        t.buckets,
        vec![
            TermsBucket { key: "vpn".into(), count: 2 },
            TermsBucket { key: "443".into(), count: 1 },
            TermsBucket { key: "remote".into(), count: 1 },
        ]
    );
    assert_eq!((t.other_count, t.missing_count), (0, 3));
}

#[test]
fn terms_top_n_other_and_ties() {
    let mut t = TermsPartial::default();
    for (v, n) in [("a", 5), ("b", 3), ("c", 3), ("d", 1), ("e", 1)] {
        t.add_n(v, n);
    }
    t.add_missing();
    let r = t.finish(2);
    assert_eq!(r.buckets, vec![TermsBucket { key: "a".into(), count: 5 }, TermsBucket { key: "b".into(), count: 3 }]);
    assert_eq!((r.other_count, r.missing_count), (5, 1));
    assert_eq!(t.finish(0).other_count, 13);
    assert_eq!(t.finish(100).buckets.len(), 5);
}

#[test]
fn histogram_buckets_align_to_utc_and_fill_gaps() {
    let mut h = HistogramPartial::new(interval("1h"));
    h.add(ts("2026-11-21T10:59:59.999Z"));
    h.add(ts("2026-11-21T19:30:00+09:00"));
    h.add(ts("2026-11-21T13:00:00Z"));
    let r = h.finish();
    let got: Vec<(String, u64)> = r.buckets.iter().map(|b| (b.start.to_string(), b.count)).collect();
    assert_eq!(
        got,
        [
            ("2026-11-21T10:00:00Z".to_string(), 2),
            ("2026-11-21T11:00:00Z".to_string(), 0),
            ("2026-11-21T12:00:00Z".to_string(), 0),
            ("2026-11-21T13:00:00Z".to_string(), 1),
        ]
    );
    assert_eq!(r.buckets[0].key, ts("2026-11-21T10:00:00Z").as_millisecond());

    let within = h.finish_within(ts("2026-11-21T08:30:00Z")..ts("2026-11-21T15:00:00Z"));
    assert_eq!(within.buckets.first().unwrap().start, ts("2026-11-21T08:00:00Z"));
    assert_eq!(within.buckets.last().unwrap().start, ts("2026-11-21T14:00:00Z"));
    assert_eq!(within.buckets.len(), 7);

    let mut days = HistogramPartial::new(interval("1d"));
    days.add(ts("2026-11-21T23:59:59+09:00"));
    assert_eq!(days.finish().buckets[0].start, ts("2026-11-21T00:00:00Z"), "UTC days, not JST");

    let mut far = HistogramPartial::new(interval("1m"));
    far.add(ts("2000-01-01T00:00:00Z"));
    far.add(ts("2026-01-01T00:00:00Z"));
    assert_eq!(far.finish().buckets.len(), 2, "huge gaps are not filled");
    assert!(HistogramPartial::new(interval("1m")).finish().buckets.is_empty());
}

#[test]
fn histogram_reads_event_times_in_any_form() {
    let mut acc =
        Accumulator::new(&[Aggregation::DateHistogram { field: "event.created".into(), interval: interval("1d") }]);
    acc.add(&json!({"event": {"created": "2026-11-21T10:00:00+09:00"}}));
    acc.add(&json!({"event.created": 1_795_233_600_000i64}));
    acc.add(&json!({"event": {"created": ["bogus", "2026-11-22"]}}));
    acc.add(&json!({}));
    let AggResult::DateHistogram(h) = &acc.finish()[0] else { panic!() };
    let counts: Vec<u64> = h.buckets.iter().map(|b| b.count).collect();
    assert_eq!(counts, [2, 1]);
    assert_eq!(h.missing_count, 1);
}

#[test]
fn mismatched_partials_are_errors() {
    let mut count = Aggregation::Count.empty_partial();
    let terms = Aggregation::Terms { field: "x".into(), size: 1 }.empty_partial();
    assert_eq!(count.merge(terms), Err(MergeError::KindMismatch { ours: "count", theirs: "terms" }));
    let mut h1 = Aggregation::date_histogram(interval("1m")).empty_partial();
    let h5 = Aggregation::date_histogram(interval("5m")).empty_partial();
    assert!(matches!(h1.merge(h5), Err(MergeError::IntervalMismatch { .. })));
    let mut acc = Accumulator::new(&aggs());
    assert_eq!(acc.merge(vec![]), Err(MergeError::CountMismatch { expected: 4, got: 0 }));
}

#[test]
fn request_json_format() {
    let parsed: Vec<Aggregation> = serde_json::from_value(json!([
        {"type": "count"},
        {"type": "terms", "field": "source.ip"},
        {"type": "terms", "field": "user.name", "size": 5},
        {"type": "date_histogram", "interval": "15m"},
        {"type": "date_histogram", "field": "event.created", "interval": "1h"},
    ]))
    .unwrap();
    assert_eq!(
        parsed,
        vec![
            Aggregation::Count,
            Aggregation::Terms { field: "source.ip".into(), size: 10 },
            Aggregation::Terms { field: "user.name".into(), size: 5 },
            Aggregation::date_histogram(interval("15m")),
            Aggregation::DateHistogram { field: "event.created".into(), interval: interval("1h") },
        ]
    );
    let bad = serde_json::from_value::<Aggregation>(json!({"type": "date_histogram", "interval": "5x"}));
    assert!(bad.unwrap_err().to_string().contains("'5x' is not a valid interval"));
    let result = serde_json::to_value(AggResult::Count { count: 3 }).unwrap();
    assert_eq!(result, json!({"type": "count", "count": 3}));
}
