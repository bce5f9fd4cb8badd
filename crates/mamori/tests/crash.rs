//! Faults: kill -9 during sustained ingestion, a torn WAL tail, a full disk.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;

fn batch(client: usize, n: usize) -> (String, String) {
    let id = format!("c{client}b{n}");
    let body: String = (0..50)
        .map(|i| format!("{{\"message\":\"crash test {id} {i}\",\"event\":{{\"dataset\":\"test.crash\"}},\"labels\":{{\"batch\":\"{id}\"}}}}\n"))
        .collect();
    (id, body)
}

/// Every batch the server acknowledged (HTTP 200) before kill -9 is searchable after restart.
#[test]
fn kill_9_during_sustained_http_ingest_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Instance::configure(dir.path(), |t| t);
    m.start();
    let token = m.ingest_token("midori");
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let url = m.url("/api/v1/ingest");
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (acked, stop, url, token) = (acked.clone(), stop.clone(), url.clone(), token.clone());
            std::thread::spawn(move || {
                let agent = http();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let (id, body) = batch(c, n);
                    n += 1;
                    let r = agent
                        .post(&url)
                        .header("Authorization", &format!("Bearer {token}"))
                        .header("Content-Type", "application/x-ndjson")
                        .send(body.as_bytes());
                    match r {
                        Ok(resp) if resp.status() == 200 => acked.lock().unwrap().push(id),
                        _ => return, // the server died mid-request: not acknowledged
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    m.kill9();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "the clients got too few batches in: {}", acked.len());

    m.start();
    let total = m.wait_count("event.dataset:test.crash", acked.len() as u64 * 50);
    assert!(total >= acked.len() as u64 * 50, "{total} events found, {} batches acknowledged", acked.len());
    // Every acknowledged batch is there in full.
    let out = m.cli_ok(&[
        "logs",
        "search",
        "--last",
        "1h",
        "--json",
        "--count",
        "--top",
        "labels.batch",
        "--size",
        "100000",
        "event.dataset:test.crash",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let buckets = v["aggregations"][0]["buckets"].as_array().unwrap();
    let found: std::collections::HashMap<&str, u64> =
        buckets.iter().map(|b| (b["key"].as_str().unwrap(), b["count"].as_u64().unwrap())).collect();
    for id in &acked {
        assert_eq!(found.get(id.as_str()), Some(&50), "acknowledged batch {id} is incomplete after the crash");
    }
    m.stop();
}

/// A crash in the middle of a WAL write leaves a torn record: the next start cuts it with a
/// warning and keeps everything before it.
#[test]
fn torn_wal_tail_is_cut_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Instance::configure(dir.path(), |t| t);
    m.start();
    let token = m.ingest_token("midori");
    let (_, body) = batch(0, 0);
    let r = http()
        .post(&m.url("/api/v1/ingest"))
        .header("Authorization", &format!("Bearer {token}"))
        .send(body.as_bytes())
        .unwrap();
    assert_eq!(r.status(), 200);
    m.kill9();
    // Append half a record to the newest WAL segment, as a crash mid-write would.
    let wal = dir.path().join("data/logs/wal");
    let mut segs: Vec<_> = std::fs::read_dir(&wal).unwrap().map(|e| e.unwrap().path()).collect();
    segs.sort();
    let last = segs.last().unwrap();
    use std::io::Write;
    std::fs::OpenOptions::new().append(true).open(last).unwrap().write_all(&[0x40, 0, 0, 0, 1, 2, 3, 4, 99]).unwrap();
    m.start();
    assert!(m.log_text().contains("write-ahead log repaired"), "{}", m.log_text());
    assert_eq!(m.wait_count("event.dataset:test.crash", 50), 50);
    m.stop();
}
