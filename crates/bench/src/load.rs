//! Filling a log store with generated events and timing searches on it, in process, so that
//! the figures are the store's and not those of a client.

use std::path::Path;
use std::time::{Duration, Instant};

use mamori_core::Event;
use mamori_logs::{LogStore, LogStoreConfig, SearchRequest, TenantScope};
use mamori_query::Aggregation;

use crate::generator::Generator;

pub fn run(dir: &Path, count: u64, days: u64, seed: u64) -> anyhow::Result<()> {
    let mut config = LogStoreConfig::new(dir);
    config.min_free_bytes = 64 << 20;
    config.indexer.commit_interval = Duration::from_secs(5);
    let (store, _) = LogStore::open(config)?;
    let start = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days as i64);
    let mut g = Generator::new(seed, start);
    g.step_ms = ((days * 86_400_000) / count.max(1)).max(1);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let sink = store.sink();
    let started = Instant::now();
    let mut batch = Vec::with_capacity(5000);
    for i in 0..count {
        let (value, _) = g.next_event();
        batch.push(Event::from_json_value(value).map_err(anyhow::Error::msg)?);
        if batch.len() == 5000 || i + 1 == count {
            rt.block_on(sink.submit(&batch))?;
            batch.clear();
        }
        if (i + 1) % 1_000_000 == 0 {
            eprintln!("{} events in {:.0} s", i + 1, started.elapsed().as_secs_f64());
        }
    }
    store.wait_indexed(store.durable_lsn(), Duration::from_secs(24 * 3600));
    eprintln!("{count} events stored and indexed in {:.0} s", started.elapsed().as_secs_f64());
    store.close();
    Ok(())
}

pub fn search(dir: &Path, queries: &[String], top: Option<&str>, days: u64, runs: usize) -> anyhow::Result<()> {
    let mut config = LogStoreConfig::new(dir);
    config.min_free_bytes = 0;
    let (store, _) = LogStore::open(config)?;
    let now = jiff::Timestamp::now();
    let from = now - jiff::SignedDuration::from_hours(24 * days as i64);
    for q in queries {
        let mut aggregations = vec![];
        if let Some(field) = top {
            aggregations.push(Aggregation::Terms { field: field.to_string(), size: 10 });
        }
        let req = SearchRequest {
            query: mamori_query::parse(q, now).map_err(|e| anyhow::anyhow!("{e}"))?,
            from,
            to: now,
            tenants: TenantScope::All,
            limit: 100,
            oldest_first: false,
            aggregations,
        };
        let mut times = Vec::with_capacity(runs);
        let mut total = 0;
        for _ in 0..runs {
            let t = Instant::now();
            total = store.search(&req)?.total;
            times.push(t.elapsed());
        }
        times.sort();
        let p = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
        println!(
            "query {q:?}{}: {total} matches, p50 {:.0} ms, p90 {:.0} ms",
            top.map(|f| format!(" + top {f}")).unwrap_or_default(),
            p(0.5),
            p(0.9)
        );
    }
    store.close();
    Ok(())
}
