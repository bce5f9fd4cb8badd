use std::sync::Arc;

use mamori_query::ValueRef;
use serde_json::json;

use super::{Block, BlockBuilder};

fn build(events: &[serde_json::Value]) -> Block {
    let mut b = BlockBuilder::new();
    for (i, e) in events.iter().enumerate() {
        b.add(i as u64 + 10, &serde_json::to_vec(e).unwrap()).unwrap();
    }
    Block::open(Arc::new(b.finish().to_vec())).unwrap()
}

#[test]
fn round_trip_of_columns_sources_times_and_lsns() {
    let events = vec![
        json!({"@timestamp": "2026-11-21T00:00:01Z", "message": "Login failed", "source": {"ip": "10.0.0.1", "port": 22}, "tags": ["a", "b"]}),
        json!({"@timestamp": "2026-11-21T00:00:02Z", "message": "login ok", "source": {"ip": "10.0.0.1"}, "big": 18446744073709551615u64, "f": 1.5, "ok": true}),
        json!({"message": "no time"}),
    ];
    let block = build(&events);
    assert_eq!(block.rows(), 3);
    assert_eq!((block.min_lsn, block.max_lsn), (10, 12));
    let t0: jiff::Timestamp = "2026-11-21T00:00:01Z".parse().unwrap();
    assert_eq!(block.time(0), t0.as_microsecond());
    assert_eq!(block.time(2), i64::MIN);
    assert_eq!((block.min_ts, block.max_ts), (block.time(0), block.time(1)));
    let sources = block.sources().unwrap();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(&serde_json::from_slice::<serde_json::Value>(sources.get(i)).unwrap(), e);
    }
    let ip = block.column("source.ip").unwrap().unwrap();
    assert_eq!(ip.dict().unwrap(), &[ValueRef::Str("10.0.0.1")]);
    let mut rows = Vec::new();
    ip.for_each(|r, c| rows.push((r, c)));
    assert_eq!(rows, vec![(0, 0), (1, 0)]);
    let tags = block.column("tags").unwrap().unwrap();
    let mut rows = Vec::new();
    tags.for_each(|r, c| rows.push((r, c)));
    assert_eq!(rows, vec![(0, 0), (0, 1)], "several values of one row");
    let big = block.column("big").unwrap().unwrap();
    assert_eq!(big.dict().unwrap(), &[ValueRef::UInt(u64::MAX)]);
    assert_eq!(block.column("f").unwrap().unwrap().dict().unwrap(), &[ValueRef::Float(1.5)]);
    assert_eq!(block.column("ok").unwrap().unwrap().dict().unwrap(), &[ValueRef::Bool(true)]);
    assert!(block.column("nothing").unwrap().is_none());
    let message = block.column("message").unwrap().unwrap();
    let login = message.find_token("login").unwrap();
    assert_eq!(message.token_rows(login).collect::<Vec<_>>(), vec![0, 1]);
    assert!(message.find_token("Login").is_none(), "tokens are lower-cased");
}

#[test]
fn a_malformed_event_leaves_the_block_unchanged() {
    let mut b = BlockBuilder::new();
    b.add(1, br#"{"@timestamp":"2026-11-21T00:00:00Z","message":"first","a":1}"#).unwrap();
    assert!(b.add(2, br#"{"message":"second","a":2,"#).is_err());
    assert_eq!(b.rows(), 1);
    let block = Block::open(Arc::new(b.finish().to_vec())).unwrap();
    let a = block.column("a").unwrap().unwrap();
    let mut rows = Vec::new();
    a.for_each(|r, _| rows.push(r));
    assert_eq!(rows, vec![0]);
    let message = block.column("message").unwrap().unwrap();
    assert!(message.find_token("second").is_none());
}

#[test]
fn wide_dictionaries_use_wider_codes() {
    let events: Vec<_> = (0..70_000).map(|i| json!({"@timestamp": "2026-11-21T00:00:00Z", "id": i})).collect();
    let block = build(&events);
    let col = block.column("id").unwrap().unwrap();
    assert_eq!(col.dict().unwrap().len(), 70_000);
    let mut last = (0, 0);
    col.for_each(|r, c| last = (r, c));
    assert_eq!(last, (69_999, 69_999));
}

#[test]
fn damaged_blocks_are_errors_not_panics() {
    let events: Vec<_> = (0..50)
        .map(|i| json!({"@timestamp": "2026-11-21T00:00:00Z", "message": format!("word{i} other"), "n": i, "t": ["x", i]}))
        .collect();
    let mut b = BlockBuilder::new();
    for (i, e) in events.iter().enumerate() {
        b.add(i as u64, &serde_json::to_vec(e).unwrap()).unwrap();
    }
    let good = b.finish().to_vec();
    assert!(Block::open(Arc::new(good[..good.len() - 1].to_vec())).is_err(), "truncated");
    let mut flipped = good.clone();
    flipped[100] ^= 0x40;
    assert!(Block::open(Arc::new(flipped)).is_err(), "a flipped bit fails the checksum");
    assert!(Block::open(Arc::new(b"MHB1".to_vec())).is_err());
    assert!(Block::open(Arc::new(Vec::new())).is_err());
    // With the checksum recomputed, structural damage must still be caught by the reader.
    let mut state = 7u64;
    for _ in 0..2000 {
        let mut bad = good.clone();
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let at = 12 + (state >> 33) as usize % (bad.len() - 12);
        bad[at] = (state >> 24) as u8;
        let crc = crc32c::crc32c(&bad[8..]);
        bad[4..8].copy_from_slice(&crc.to_le_bytes());
        if let Ok(block) = Block::open(Arc::new(bad)) {
            for p in ["message", "n", "t", "@timestamp"] {
                if let Ok(Some(col)) = block.column(p) {
                    col.for_each(|_, _| {});
                    for t in 0..col.token_count() {
                        let _ = col.token(t);
                        col.token_rows(t).for_each(drop);
                    }
                }
            }
            if let Ok(s) = block.sources() {
                (0..block.rows()).for_each(|r| assert!(s.get(r).len() <= 1 << 20));
            }
            (0..block.rows()).for_each(|r| {
                let _ = (block.time(r), block.lsn(r));
            });
        }
    }
}

#[test]
fn a_builder_reused_for_the_next_block_writes_what_a_new_one_would() {
    let first: Vec<_> = (0..300)
        .map(|i| json!({"@timestamp": "2026-11-21T00:00:00Z", "message": format!("alpha{} beta ログイン{}", i % 7, i % 3), "a": i % 5, "only_first": "x"}))
        .collect();
    let second: Vec<_> = (0..200)
        .map(|i| json!({"@timestamp": "2026-11-21T00:00:01Z", "message": format!("gamma{} beta", i % 11), "a": format!("s{}", i % 4)}))
        .collect();
    let mut reused = BlockBuilder::new();
    for (i, e) in first.iter().enumerate() {
        reused.add(i as u64, &serde_json::to_vec(e).unwrap()).unwrap();
    }
    reused.finish();
    // A malformed event in between must leave no trace either.
    assert!(reused.add(999, br#"{"message":"delta epsilon","a":7,"#).is_err());
    let mut fresh = BlockBuilder::new();
    for (i, e) in second.iter().enumerate() {
        let json = serde_json::to_vec(e).unwrap();
        reused.add(i as u64, &json).unwrap();
        fresh.add(i as u64, &json).unwrap();
    }
    let (reused, fresh) = (reused.finish().to_vec(), fresh.finish().to_vec());
    let (r, f) = (Block::open(Arc::new(reused)).unwrap(), Block::open(Arc::new(fresh)).unwrap());
    assert!(r.column("only_first").unwrap().is_none(), "columns without rows are not written");
    for path in ["message", "a", "@timestamp"] {
        let (rc, fc) = (r.column(path).unwrap().unwrap(), f.column(path).unwrap().unwrap());
        assert_eq!(rc.dict().unwrap(), fc.dict().unwrap(), "{path}");
        let (mut rr, mut fr) = (Vec::new(), Vec::new());
        rc.for_each(|row, code| rr.push((row, code)));
        fc.for_each(|row, code| fr.push((row, code)));
        assert_eq!(rr, fr, "{path}");
        assert_eq!(rc.token_count(), fc.token_count(), "{path}");
        for t in 0..fc.token_count() {
            assert_eq!(rc.token(t), fc.token(t));
            assert_eq!(rc.token_rows(t).collect::<Vec<_>>(), fc.token_rows(t).collect::<Vec<_>>());
        }
    }
    let message = r.column("message").unwrap().unwrap();
    assert!(message.find_token("delta").is_none() && message.find_token("alpha0").is_none());
    let beta = message.find_token("beta").unwrap();
    assert_eq!(message.token_rows(beta).collect::<Vec<_>>(), (0..200).collect::<Vec<u32>>());
}

#[test]
fn blocks_with_plain_row_lists_are_still_read() {
    // A text column as blocks were written before row lists were packed: token "a" in rows 0, 2.
    let mut col = vec![super::column::FLAG_TOKENS];
    [0u32, 0].iter().for_each(|v| col.extend_from_slice(&v.to_le_bytes()));
    col.push(1);
    col.extend_from_slice(&[0, 0, 0]);
    for v in [1u32, 1, 1] {
        col.extend_from_slice(&v.to_le_bytes());
    }
    col.push(b'a');
    for v in [2u32, 2, 0, 2] {
        col.extend_from_slice(&v.to_le_bytes());
    }
    let reader = super::ColumnReader::parse(&col, 3).unwrap();
    assert_eq!(reader.token(0), "a");
    assert_eq!(reader.token_rows(0).collect::<Vec<_>>(), vec![0, 2]);
}

#[test]
fn varints_round_trip() {
    use super::bytes::{get_varint, put_varint};
    let values = [0, 1, 127, 128, 16_383, 16_384, 32_767, u32::MAX];
    let mut out = Vec::new();
    values.iter().for_each(|&v| put_varint(&mut out, v));
    let mut at = 0;
    let back: Vec<u32> = std::iter::from_fn(|| get_varint(&out, &mut at)).collect();
    assert_eq!(back, values);
    assert_eq!(get_varint(&[0x80, 0x80], &mut 0), None, "truncated");
    assert_eq!(get_varint(&[0xff; 6], &mut 0), None, "too long");
}

#[test]
fn a_builder_filled_past_max_rows_still_writes_every_source() {
    let mut b = BlockBuilder::new();
    let n = super::MAX_ROWS + 3;
    for i in 0..n {
        b.add(i as u64, format!(r#"{{"@timestamp":"2026-11-21T00:00:00Z","n":{i}}}"#).as_bytes()).unwrap();
    }
    let block = Block::open(Arc::new(b.finish().to_vec())).unwrap();
    let sources = block.sources().unwrap();
    assert_eq!(block.rows(), n);
    assert_eq!(sources.get(n - 1), format!(r#"{{"@timestamp":"2026-11-21T00:00:00Z","n":{}}}"#, n - 1).as_bytes());
    // The builder is reused for a normal block afterwards.
    b.add(1, br#"{"@timestamp":"2026-11-21T00:00:00Z","n":-1}"#).unwrap();
    let again = Block::open(Arc::new(b.finish().to_vec())).unwrap();
    assert_eq!(again.sources().unwrap().get(0), br#"{"@timestamp":"2026-11-21T00:00:00Z","n":-1}"#);
}

/// A compact record gives the very block its JSON gives: same columns, tokens and stored text.
#[test]
fn compact_records_build_the_block_their_json_builds() {
    use mamori_core::compact::{CompactWriter, Known, render_json};
    let lines = ["<13>Nov 23 host sshd[7]: Failed password for 山田 from 10.0.0.9", "plain \"quoted\" line"];
    let mut records = Vec::new();
    for (i, line) in lines.iter().cycle().take(50).enumerate() {
        let mut r = Vec::new();
        let mut w = CompactWriter::new(&mut r);
        w.blob(line);
        w.str(Known::new("@timestamp"), &format!("2026-11-21T00:00:{:02}Z", i % 60));
        w.str(Known::new("message"), &line[line.len() / 2..]);
        if i % 3 == 0 {
            w.array_str(Known::new("tags"), "_parse_failure");
        }
        w.str(Known::new("event.original"), line);
        w.str(Known::new("organization.id"), if i % 2 == 0 { "midori" } else { "aoba" });
        w.uint(Known::new("log.syslog.priority"), 13);
        w.str_at("source.ip", "10.0.0.9");
        w.int(Known::new("process.pid"), i as i64 - 3);
        records.push(r);
    }
    let (mut from_compact, mut from_json) = (BlockBuilder::new(), BlockBuilder::new());
    for (i, r) in records.iter().enumerate() {
        let mut json = Vec::new();
        render_json(r, &mut json).unwrap();
        let t = from_compact.add(i as u64, r).unwrap();
        assert_eq!(from_json.add(i as u64, &json).unwrap(), t);
        assert_eq!(super::event_time(r).unwrap(), t);
    }
    // A damaged compact record is refused and changes nothing.
    assert!(from_compact.add(99, &records[0][..records[0].len() - 1]).is_err());
    let compact = Block::open(Arc::new(from_compact.finish().to_vec())).unwrap();
    let json = Block::open(Arc::new(from_json.finish().to_vec())).unwrap();
    assert_eq!(compact.rows(), json.rows());
    let (cs, js) = (compact.sources().unwrap(), json.sources().unwrap());
    for row in 0..compact.rows() {
        assert_eq!(cs.json(row), js.json(row));
        assert_eq!(cs.get(row), &records[row][..], "kept as it came");
        assert_eq!((compact.time(row), compact.lsn(row)), (json.time(row), json.lsn(row)));
    }
    let paths: Vec<&str> = compact.column_paths().collect();
    assert_eq!(paths, json.column_paths().collect::<Vec<_>>());
    assert!(paths.contains(&"message") && paths.contains(&"tags") && paths.contains(&"source.ip"));
    for path in paths {
        assert_eq!(compact.column_section(path), json.column_section(path), "{path}");
    }
}

#[test]
fn the_token_table_is_sorted_bytewise_across_shared_prefixes() {
    // Tokens sharing their first eight bytes, prefixes of each other, and short ones, in an
    // order unlike the sorted one: every token must be found by the table's binary search.
    let words = [
        "zeta",
        "authentication",
        "authenticated",
        "authenticator",
        "auth",
        "au",
        "a",
        "authenticate",
        "12345678",
        "1234567",
        "123456789",
        "123456780",
        "z",
        "authenticationfailure",
    ];
    let events: Vec<_> = words.iter().map(|w| json!({"message": w})).collect();
    let block = build(&events);
    let message = block.column("message").unwrap().unwrap();
    let tokens: Vec<&str> = (0..message.token_count()).map(|i| message.token(i)).collect();
    let mut sorted = tokens.clone();
    sorted.sort_unstable();
    assert_eq!(tokens, sorted);
    for (row, w) in words.iter().enumerate() {
        let t = message.find_token(w).unwrap_or_else(|| panic!("{w} not found"));
        assert_eq!(message.token_rows(t).collect::<Vec<_>>(), vec![row as u32]);
    }
}

#[test]
fn event_times_read_through_the_cache_are_those_read_alone() {
    use super::{TimeCache, event_time, event_time_cached};
    let records = [
        br#"{"@timestamp":"2026-11-21T00:00:01Z","a":1}"#.to_vec(),
        br#"{"@timestamp":"2026-11-21T00:00:01Z","a":2}"#.to_vec(),
        br#"{"@timestamp":"2026-11-21T00:00:02.5Z"}"#.to_vec(),
        br#"{"@timestamp":"not a time"}"#.to_vec(),
        br#"{"@timestamp":"not a time"}"#.to_vec(),
        br#"{"a":1,"@timestamp":"2026-11-21T00:00:03Z"}"#.to_vec(),
        br#"{"@timestamp":"2026-11-21T00:00:01Z"}"#.to_vec(),
    ];
    let mut cache = TimeCache::default();
    for r in &records {
        assert_eq!(event_time_cached(r, &mut cache).unwrap(), event_time(r).unwrap(), "{}", String::from_utf8_lossy(r));
    }
}
