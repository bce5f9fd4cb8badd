//! Round trips and robustness of the block codec.

mod support;

use mamori_archive::block::{self, BlockBuilder, Compression};
use mamori_archive::{decode_block, encode_block};
use serde_json::{Value, json};
use support::random_json::RandomJson;
use support::synth::{Rng, Synth};

fn round_trip(events: &[Value]) {
    let bytes = encode_block(events, 3).expect("encodes");
    let back = decode_block(&bytes).expect("decodes");
    assert_eq!(back.len(), events.len());
    for (i, (a, b)) in events.iter().zip(&back).enumerate() {
        assert_eq!(a, b, "event {i}");
    }
}

#[test]
fn varied_json_round_trips() {
    let original = "<38>Nov 21 10:02:03 web01 sshd[123]: Failed password for root from 10.1.2.3 port 51234 ssh2";
    let events = vec![
        json!({}),
        json!({"a": {}, "b": [], "c": [[]], "d": [{}], "e": {"f": {}}}),
        json!({"nested": {"deep": {"deeper": {"deepest": [1, [2, [3, {"x": null}]]]}}}}),
        json!({"arr": [{"a": 1}, {"a": 2, "b": "x"}, {"c": [true, false, null]}]}),
        json!({"ja": "ログイン失敗: ユーザー名またはパスワードが違います", "絵文字": "😀🎌", "mixed": "abc日本def123"}),
        json!({"big": u64::MAX, "min": i64::MIN, "max": i64::MAX, "neg": -1, "zero": 0, "i64max+1": 9223372036854775808u64}),
        json!({"f": 1.5, "g": -0.0, "h": 1e308, "i": 5e-324, "j": 0.1, "k": 1.0, "l": -123456.789}),
        json!({"as_string": "123", "neg": "-5", "float": "1.50", "padded": "007", "long": "123456789012345678901234567890"}),
        json!({"a.b": 1, "a": {"b": 2}, "": "empty key", "x.y.z": {"w.v": "dots"}}),
        json!({"event": {"original": original}, "message": "Failed password for root from 10.1.2.3 port 51234 ssh2",
               "host": {"hostname": "web01"}, "process": {"name": "sshd", "pid": 123, "pid_s": "123"},
               "source": {"ip": "10.1.2.3", "port": 51234}, "part": "word", "odd": "d pass", "tail": "ssh2",
               "whole": original, "not_there": "absent text", "small": 38, "prefix": "<38>"}),
        json!({"message": "no original here", "event": {"kind": "event"}}),
        json!({"event": {"original": 12345}, "x": "12345", "y": 12345}),
        json!({"event": {"original": ""}, "x": "", "y": "a"}),
        json!({"event": [{"original": "abc def"}], "x": "abc def"}),
        json!({"event.original": "abc def", "x": "abc"}),
        json!({"@timestamp": "2026-11-21T01:02:03.456Z", "t2": "2026-11-21T01:02:03.500Z", "t3": "2026-11-21T01:02:03Z",
               "t4": "2026-11-21T01:02:03+09:00", "t5": "0000-01-01T00:00:00Z", "t6": "9999-12-31T23:59:59.999999999Z",
               "t7": "1969-12-31T23:59:59.999Z", "t8": "2026-11-21T01:02:03.000000000Z"}),
        json!({"event": {"id": "01936f3a8e5b7c3d8000000000001a2b", "upper": "01936F3A8E5B7C3D8000000000001A2B",
               "zeros": "00000000000000000000000000000000", "ff": "ffffffffffffffffffffffffffffffff"}}),
        json!([1, "top-level array", {"a": 1}]),
        json!("a bare string"),
        json!(null),
        json!({"k": "x".repeat(100_000), "k2": "0123456789".repeat(1000)}),
    ];
    round_trip(&events);
    // And each alone, so every event is also the first of its block.
    for e in &events {
        round_trip(std::slice::from_ref(e));
    }
}

#[test]
fn repeated_and_delta_coded_values_round_trip() {
    let mut events = Vec::new();
    for i in 0..3000i64 {
        let ts = jiff::Timestamp::from_millisecond(1_795_219_200_000 + i * 7 - (i % 5) * 3).unwrap();
        events.push(json!({
            "@timestamp": ts.to_string(),
            "event": {
                "id": format!("{:016x}{:016x}", ((1_795_219_200_000u64 + i as u64) << 16) | 0x7abc, (0b10u64 << 62) | (i as u64 * 3)),
                "ingested": jiff::Timestamp::from_microsecond(ts.as_microsecond() + 1234 + i % 17).unwrap().to_string(),
                "original": format!("<38>line {i} of {} from host{}", i * 1000, i % 3),
                "sequence": i * 2,
                "wobble": (i % 7) * 1_000_000 - 3_000_000,
            },
            "host": format!("host{}", i % 3),
            "n": i % 4,
            "neg": -i,
        }));
    }
    round_trip(&events);
}

#[test]
fn random_json_round_trips() {
    let mut g = RandomJson::new(42);
    for round in 0..40 {
        let n = 1 + g.rng.below(200) as usize;
        let events: Vec<Value> = (0..n).map(|_| g.event()).collect();
        let bytes = encode_block(&events, 1).unwrap_or_else(|e| panic!("round {round}: {e}"));
        let back = decode_block(&bytes).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(back, events, "round {round}");
    }
}

#[test]
fn synthetic_syslog_round_trips() {
    for parsed in [false, true] {
        let mut s = Synth::new(7, parsed);
        let events: Vec<Value> = (0..5000).map(|_| s.next_event().event).collect();
        round_trip(&events);
    }
}

#[test]
fn builder_starts_over_after_finish() {
    let mut b = BlockBuilder::new();
    b.push(&json!({"a": "x"})).unwrap();
    let first = b.finish(Compression::default()).unwrap();
    assert_eq!(b.events(), 0);
    b.push(&json!({"b": 2})).unwrap();
    let second = b.finish(Compression::default()).unwrap();
    assert_eq!(decode_block(&first).unwrap(), vec![json!({"a": "x"})]);
    assert_eq!(decode_block(&second).unwrap(), vec![json!({"b": 2})]);
}

#[test]
fn long_window_round_trips() {
    let mut s = Synth::new(3, false);
    let events: Vec<Value> = (0..2000).map(|_| s.next_event().event).collect();
    let mut b = BlockBuilder::new();
    for e in &events {
        b.push(e).unwrap();
    }
    let bytes = b.finish(Compression { level: 3, long_window: Some(27) }).unwrap();
    assert_eq!(decode_block(&bytes).unwrap(), events);
}

#[test]
fn too_deep_events_are_refused() {
    let mut v = json!(1);
    for _ in 0..300 {
        v = Value::Array(vec![v]);
    }
    let err = encode_block(&[v], 3).unwrap_err();
    assert!(err.to_string().contains("deeper"), "{err}");
}

/// Rebuilds a block around a (damaged) body, so that the decoder's checks behind zstd's
/// checksum are exercised too.
fn reframe(block: &[u8], body: &[u8]) -> Vec<u8> {
    let h = block::read_header(block).unwrap();
    let mut out = block[..10].to_vec();
    for v in [h.events, body.len() as u64, h.decoded] {
        let mut v = v;
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    let mut z = zstd::bulk::Compressor::new(1).unwrap();
    z.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true)).unwrap();
    out.extend(z.compress(body).unwrap());
    let crc = crc32c::crc32c(&out[10..]);
    out[6..10].copy_from_slice(&crc.to_le_bytes());
    out
}

#[test]
fn damaged_blocks_are_errors_not_panics() {
    let mut s = Synth::new(11, true);
    let mut g = RandomJson::new(5);
    let mut events: Vec<Value> = (0..6).map(|_| s.next_event().event).collect();
    events.extend((0..4).map(|_| g.event()));
    let good = encode_block(&events, 3).unwrap();
    let body = block::inspect(&good).unwrap().body;
    let mut rng = Rng::new(99);
    let iterations = 100_000;
    let mut body_ok = 0;
    for i in 0..iterations {
        match i % 8 {
            // A flipped bit anywhere in the block: the header checks, the frame size or
            // zstd's checksum must catch it.
            0..=2 => {
                let mut b = good.clone();
                let at = rng.below(b.len() as u64) as usize;
                b[at] ^= 1 << rng.below(8);
                assert!(decode_block(&b).is_err(), "flip at byte {at} went unnoticed");
            }
            // Random bytes, sometimes behind a valid magic.
            3..=4 => {
                let n = rng.below(64) as usize;
                let mut b: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                if rng.chance(50) && b.len() > 6 {
                    b[..6].copy_from_slice(&good[..6]);
                }
                assert!(decode_block(&b).is_err());
            }
            // A truncated block.
            5..=6 => {
                let n = rng.below(good.len() as u64) as usize;
                assert!(decode_block(&good[..n]).is_err());
            }
            // A damaged body behind a valid frame: must not panic; may decode to other events.
            _ => {
                let mut b = body.clone();
                for _ in 0..1 + rng.below(3) {
                    let at = rng.below(b.len() as u64) as usize;
                    b[at] ^= 1 << rng.below(8);
                }
                if decode_block(&reframe(&good, &b)).is_ok() {
                    body_ok += 1;
                }
            }
        }
    }
    // Most damage inside the body is noticed by the decoder's own checks (a flip inside a
    // string's text just gives another string).
    assert!(body_ok < iterations / 8 / 2, "{body_ok} damaged bodies decoded");
}

#[test]
fn large_events_round_trip() {
    // A long original and many values that occur in it: the encoder bounds its searches.
    let words: Vec<String> = (0..20_000).map(|i| format!("w{i}")).collect();
    let original = words.join(" ");
    let event = json!({
        "event": {"original": original},
        "parts": words,
        "numbers": (0..5000).collect::<Vec<u64>>(),
        "nested": (0..100).map(|i| json!({"k": i, "v": [i, {"x": format!("{i}")}]})).collect::<Vec<_>>(),
    });
    round_trip(&[event.clone(), event]);
}
