use std::io::Write;
use std::time::Duration;

use super::*;

fn config(dir: &Path) -> WalConfig {
    WalConfig { dir: dir.to_path_buf(), segment_bytes: 8192, min_free_bytes: 0, queue_depth: 8 }
}

fn payloads(range: std::ops::Range<u32>) -> mamori_core::sink::EncodedEvents {
    let mut out = mamori_core::sink::EncodedEvents::new();
    range.for_each(|i| out.push_record(format!("{{\"n\":{i}}}").as_bytes()));
    out
}

fn read_all(wal: &Wal, after: u64) -> Vec<WalRecord> {
    let mut r = wal.reader(after);
    let mut out = Vec::new();
    loop {
        let batch = r.read_batch(1000, Duration::from_millis(10)).unwrap();
        if batch.is_empty() {
            return out;
        }
        out.extend(batch);
    }
}

#[test]
fn appended_records_read_back_in_order_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, report) = Wal::open(&config(dir.path())).unwrap();
    assert_eq!(report.last_lsn, 0);
    for chunk in 0..50 {
        let r = wal.append_blocking(payloads(chunk * 100..chunk * 100 + 100)).unwrap();
        assert_eq!(r.last_lsn, (chunk as u64 + 1) * 100);
    }
    assert!(list_segments(dir.path()).unwrap().len() > 3, "small segments rotate");
    let all = read_all(&wal, 0);
    assert_eq!(all.len(), 5000);
    for (i, rec) in all.iter().enumerate() {
        assert_eq!(rec.lsn, i as u64 + 1);
        assert_eq!(rec.payload, format!("{{\"n\":{i}}}").into_bytes());
    }
    let tail = read_all(&wal, 4990);
    assert_eq!(tail.first().unwrap().lsn, 4991);
    assert_eq!(tail.len(), 10);
}

#[test]
fn released_segments_are_deleted_and_reopen_continues_numbering() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (wal, _) = Wal::open(&config(dir.path())).unwrap();
        for chunk in 0..30 {
            wal.append_blocking(payloads(chunk * 100..chunk * 100 + 100)).unwrap();
        }
        let before = list_segments(dir.path()).unwrap().len();
        assert!(wal.release_through(2500).unwrap() > 0);
        let after = list_segments(dir.path()).unwrap();
        assert!(after.len() < before);
        // Everything after the release point is still readable.
        assert_eq!(read_all(&wal, 2500).len(), 500);
    }
    let (wal, report) = Wal::open(&config(dir.path())).unwrap();
    assert_eq!(report.last_lsn, 3000);
    assert!(report.repairs.is_empty(), "{:?}", report.repairs);
    assert_eq!(wal.append_blocking(payloads(0..1)).unwrap().last_lsn, 3001);
}

#[test]
fn concurrent_appenders_get_distinct_durable_lsns() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(&config(dir.path())).unwrap();
    let wal = Arc::new(wal);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let receipts = rt.block_on(async {
        let mut tasks = Vec::new();
        for t in 0..16u32 {
            let wal = wal.clone();
            tasks.push(tokio::spawn(async move {
                let mut rs = Vec::new();
                for i in 0..50u32 {
                    rs.push(wal.append(payloads(t * 1000 + i * 10..t * 1000 + i * 10 + 10)).await.unwrap());
                }
                rs
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let mut lasts: Vec<u64> = receipts.iter().map(|r| r.last_lsn).collect();
    lasts.sort();
    lasts.dedup();
    assert_eq!(lasts.len(), 800);
    assert_eq!(wal.durable_lsn(), 8000);
    assert_eq!(read_all(&wal, 0).len(), 8000);
}

fn last_segment(dir: &Path) -> PathBuf {
    // The newest segment with records (a reopen leaves an empty active segment behind it).
    list_segments(dir)
        .unwrap()
        .into_iter()
        .rev()
        .find(|(_, p)| p.metadata().unwrap().len() > SEGMENT_HEADER_LEN)
        .unwrap()
        .1
}

#[test]
fn torn_tail_is_cut_at_the_last_good_record() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (wal, _) = Wal::open(&config(dir.path())).unwrap();
        wal.append_blocking(payloads(0..10)).unwrap();
    }
    // A crash in the middle of a write leaves half a record.
    let path = last_segment(dir.path());
    let mut half = Vec::new();
    encode_record(&mut half, 11, b"{\"n\":10}");
    half.truncate(half.len() - 3);
    std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(&half).unwrap();

    let (wal, report) = Wal::open(&config(dir.path())).unwrap();
    assert_eq!(report.last_lsn, 10);
    assert_eq!(report.repairs.len(), 1);
    assert!(report.repairs[0].contains("torn record 11"), "{:?}", report.repairs);
    assert_eq!(report.bytes_cut, half.len() as u64);
    assert_eq!(read_all(&wal, 0).len(), 10);
    assert_eq!(wal.append_blocking(payloads(10..11)).unwrap().last_lsn, 11);
    assert_eq!(read_all(&wal, 0).len(), 11);
}

#[test]
fn corrupted_record_is_cut_with_everything_after_it_in_that_segment() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (wal, _) = Wal::open(&config(dir.path())).unwrap();
        wal.append_blocking(payloads(0..10)).unwrap();
    }
    let path = last_segment(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 2] ^= 0xff; // flip a byte in the last record's payload
    std::fs::write(&path, &bytes).unwrap();

    let (wal, report) = Wal::open(&config(dir.path())).unwrap();
    assert_eq!(report.last_lsn, 9);
    assert!(report.repairs[0].contains("CRC mismatch in record 10"), "{:?}", report.repairs);
    let got = read_all(&wal, 0);
    assert_eq!(got.len(), 9);
    assert_eq!(got[8].payload, b"{\"n\":8}");
}

#[test]
fn garbage_segment_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(format!("{:020}.wal", 1)), b"not a wal").unwrap();
    let (wal, report) = Wal::open(&config(dir.path())).unwrap();
    assert_eq!(report.repairs.len(), 1);
    assert!(report.repairs[0].contains("bad magic") || report.repairs[0].contains("unreadable"));
    assert_eq!(wal.append_blocking(payloads(0..1)).unwrap().last_lsn, 1);
}

#[test]
fn below_the_disk_reserve_appends_are_refused_as_storage_full() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.min_free_bytes = u64::MAX;
    let (wal, _) = Wal::open(&c).unwrap();
    match wal.append_blocking(payloads(0..1)) {
        Err(SubmitError::StorageFull(msg)) => assert!(msg.contains("min_free_disk_mb"), "{msg}"),
        other => panic!("expected StorageFull, got {other:?}"),
    }
    assert_eq!(wal.durable_lsn(), 0);
}

#[test]
fn reader_waits_for_new_records() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(&config(dir.path())).unwrap();
    let wal = Arc::new(wal);
    let mut reader = wal.reader(0);
    let w = wal.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        w.append_blocking(payloads(0..3)).unwrap();
    });
    let got = reader.read_batch(10, Duration::from_secs(5)).unwrap();
    t.join().unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(reader.position(), 3);
}
