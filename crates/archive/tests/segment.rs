//! Segment files: round trips, time-range skipping, damage.

mod support;

use mamori_archive::segment::{SegmentMeta, SegmentOptions, SegmentReader, SegmentWriter};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::synth::{Rng, Synth};

fn meta() -> SegmentMeta {
    SegmentMeta { tenant: "midori".into(), day: "2026-11-21".into(), level: 3 }
}

fn small_blocks() -> SegmentOptions {
    SegmentOptions { block_events: 100, ..Default::default() }
}

/// Writes `n` synthetic events; returns them with their timestamps.
fn write(
    path: &std::path::Path,
    n: usize,
    options: SegmentOptions,
) -> (Vec<(Value, i64)>, mamori_archive::SegmentInfo) {
    let mut s = Synth::new(1, true);
    let mut w = SegmentWriter::create_with(path, meta(), options).unwrap();
    let mut events = Vec::new();
    for _ in 0..n {
        let g = s.next_event();
        w.push(g.event.clone(), g.timestamp_micros).unwrap();
        events.push((g.event, g.timestamp_micros));
    }
    let info = w.finish().unwrap();
    (events, info)
}

#[test]
fn segments_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("midori/2026-11-21/1.seg");
    let (events, info) = write(&path, 1050, small_blocks());
    assert_eq!(info.events, 1050);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(info.bytes, bytes.len() as u64);
    assert_eq!(info.sha256, hex::encode(Sha256::digest(&bytes)));
    assert_eq!(info.min_ts, events.iter().map(|e| e.1).min().unwrap());
    assert_eq!(info.max_ts, events.iter().map(|e| e.1).max().unwrap());
    assert!(!dir.path().join("midori/2026-11-21/1.seg.tmp").exists());

    let r = SegmentReader::open(&path).unwrap();
    assert_eq!(r.meta(), &meta());
    assert_eq!(r.blocks().len(), 11);
    assert_eq!(r.events(), 1050);
    let back: Vec<Value> = r.iter().map(|e| e.unwrap()).collect();
    assert_eq!(back, events.iter().map(|e| e.0.clone()).collect::<Vec<_>>());
    assert_eq!(r.read_block(3).unwrap(), back[300..400].to_vec());

    // Blocks outside a time range can be skipped.
    let (from, to) = (events[250].1, events[320].1);
    let hits = r.blocks_in_range(from, to);
    assert!(hits.contains(&2) && hits.contains(&3) && !hits.contains(&0) && !hits.contains(&9), "{hits:?}");
}

#[test]
fn blocks_are_cut_by_json_size_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.seg");
    let options = SegmentOptions { block_bytes: 20_000, ..Default::default() };
    let (_, info) = write(&path, 500, options);
    let r = SegmentReader::open(&path).unwrap();
    assert!(r.blocks().len() > 10, "{} blocks", r.blocks().len());
    assert_eq!(r.iter().count() as u64, info.events);
}

#[test]
fn empty_segment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.seg");
    let info = SegmentWriter::create(&path, meta()).unwrap().finish().unwrap();
    assert_eq!((info.events, info.min_ts, info.max_ts), (0, 0, 0));
    let r = SegmentReader::open(&path).unwrap();
    assert!(r.blocks().is_empty());
    assert_eq!(r.iter().count(), 0);
}

#[test]
fn bad_arguments_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.seg");
    for (tenant, day, level) in [
        ("../etc", "2026-11-21", 3),
        ("", "2026-11-21", 3),
        ("midori", "2026-02-30", 3),
        ("midori", "21-11-2026", 3),
        ("midori", "2026-11-21", 0),
        ("midori", "2026-11-21", 40),
    ] {
        let m = SegmentMeta { tenant: tenant.into(), day: day.into(), level };
        assert!(SegmentWriter::create(&p, m).is_err(), "{tenant} {day} {level}");
    }
    std::fs::write(&p, b"x").unwrap();
    assert!(SegmentWriter::create(&p, meta()).is_err(), "an existing file is not overwritten");
}

#[test]
fn dropped_writer_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone.seg");
    let mut w = SegmentWriter::create(&path, meta()).unwrap();
    w.push(json!({"a": 1}), 5).unwrap();
    drop(w);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn errors_name_the_file_and_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.seg");
    write(&path, 350, small_blocks());
    let r = SegmentReader::open(&path).unwrap();
    let b = r.blocks()[2];
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[b.offset as usize + 20] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    let r = SegmentReader::open(&path).unwrap();
    let err = r.read_block(2).unwrap_err().to_string();
    assert!(err.contains("e.seg") && err.contains("block 2") && err.contains("checksum"), "{err}");
    assert!(r.read_block(1).is_ok());
    let results: Vec<_> = r.iter().collect();
    assert_eq!(results.len(), 201, "two good blocks, then the error");
    assert!(results.last().unwrap().is_err());
}

#[test]
fn damaged_files_are_errors_not_panics() {
    // 100k small files: in memory when the system has a tmpfs there.
    let dir = match std::path::Path::new("/dev/shm") {
        shm if shm.is_dir() => tempfile::tempdir_in(shm),
        _ => tempfile::tempdir(),
    }
    .unwrap();
    let good_path = dir.path().join("good.seg");
    write(&good_path, 40, SegmentOptions { block_events: 8, ..Default::default() });
    let good = std::fs::read(&good_path).unwrap();
    let path = dir.path().join("bad.seg");
    let mut rng = Rng::new(17);
    for i in 0..100_000u32 {
        let bytes = match i % 3 {
            0 => {
                let mut b = good.clone();
                let at = rng.below(b.len() as u64) as usize;
                b[at] ^= 1 << rng.below(8);
                b
            }
            1 => good[..rng.below(good.len() as u64) as usize].to_vec(),
            _ => {
                let n = rng.below(200) as usize;
                let mut b: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                if n > 32 && rng.chance(50) {
                    b[..8].copy_from_slice(b"MAMORISG");
                    let l = b.len();
                    b[l - 8..].copy_from_slice(b"MSEGEND1");
                }
                b
            }
        };
        std::fs::write(&path, &bytes).unwrap();
        // Every change must surface as an error: when opening, or when reading a block
        // (checksums first; decoding only what passes them).
        let outcome = SegmentReader::open(&path).and_then(|r| {
            for b in 0..r.blocks().len() {
                r.read_block_bytes(b)?;
            }
            for b in 0..r.blocks().len() {
                r.read_block(b)?;
            }
            Ok(())
        });
        assert!(outcome.is_err(), "iteration {i}: damage went unnoticed");
    }
}
