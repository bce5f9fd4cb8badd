//! Syslog parsing speed on a file of lines: `cargo run --release -p mamori-collect --example
//! parse_bench FILE`. Also times JSON encoding of the events, the other half of a receiver's work.

use std::time::Instant;

use mamori_collect::syslog::{ParseContext, parse};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let path = std::env::args().nth(1).expect("a file of syslog lines");
    let data = std::fs::read(path).expect("readable");
    let lines: Vec<&[u8]> = data.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    let ctx = ParseContext::new(jiff::Timestamp::now(), mamori_collect::syslog::default_timezone(), 64 * 1024)
        .with_sender("127.0.0.1:514".parse().unwrap());
    // One event at a time, as a receiver does (it drops each batch once stored).
    let t = Instant::now();
    for l in &lines {
        std::hint::black_box(parse(l, &ctx));
    }
    let parse_ns = t.elapsed().as_nanos() as f64 / lines.len() as f64;
    let t = Instant::now();
    let mut bytes = 0;
    for l in &lines {
        bytes += serde_json::to_vec(&parse(l, &ctx)).unwrap().len();
    }
    let json_ns = t.elapsed().as_nanos() as f64 / lines.len() as f64 - parse_ns;
    println!(
        "{} lines: parse {parse_ns:.0} ns/line, JSON {json_ns:.0} ns/event ({} bytes/event)",
        lines.len(),
        bytes / lines.len()
    );
}
