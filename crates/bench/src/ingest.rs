//! Syslog lines through the ingestion path in process — parse and write each record, append
//! to the write-ahead log, index — without sockets, to see where the CPU of ingestion goes
//! (`perf record` on this is far easier to read than on a whole `mamori up`). The official
//! comparison with rsyslog is `bench/syslog-ingest`.

use std::path::Path;
use std::time::{Duration, Instant};

use mamori_collect::syslog::{self, Admission, ParseContext, RecordFormat};
use mamori_core::sink::EncodedEvents;
use mamori_logs::{LogStore, LogStoreConfig};

const BATCH: usize = 2000;

pub fn run(dir: &Path, input: &Path) -> anyhow::Result<()> {
    let data = std::fs::read(input)?;
    let lines: Vec<&[u8]> = data.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    let mut config = LogStoreConfig::new(dir);
    config.min_free_bytes = 64 << 20;
    let (store, _) = LogStore::open(config)?;
    let sink = store.sink();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    let mut parse_cpu = 0.0;
    let mut batch = EncodedEvents::new();
    for chunk in lines.chunks(BATCH) {
        let p0 = thread_cpu_seconds();
        let now = jiff::Timestamp::now();
        let ctx = ParseContext::new(now, syslog::default_timezone(), 64 * 1024)
            .with_sender("127.0.0.1:40000".parse().expect("an address"));
        let ingested = now.to_string();
        let admission = Admission { tenant: "midori", ingested: &ingested };
        batch.clear();
        for line in chunk {
            batch.push_with(|out| {
                syslog::write_line(line, &ctx, Some(&admission), RecordFormat::Compact, out);
            });
        }
        parse_cpu += thread_cpu_seconds() - p0;
        rt.block_on(sink.submit_encoded(&batch))?;
    }
    store.wait_indexed(store.durable_lsn(), Duration::from_secs(3600));
    let (cpu, wall) = (cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
    let n = lines.len() as f64;
    println!(
        "{} lines: {:.0} events/s per core ({:.2} µs CPU each: parse+write {:.2} µs, WAL+index {:.2} µs), {:.0} events/s wall",
        lines.len(),
        n / cpu,
        cpu / n * 1e6,
        parse_cpu / n * 1e6,
        (cpu - parse_cpu) / n * 1e6,
        n / wall
    );
    store.close();
    Ok(())
}

fn cpu_seconds() -> f64 {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn thread_cpu_seconds() -> f64 {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn clock(id: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid out-parameter for clock_gettime.
    unsafe { libc::clock_gettime(id, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}
