//! URL lookup cost: the UT1 categories plus synthetic entries (domains, URL prefixes and
//! networks, 1,000,000 by default), looked up with a mix of listed and unlisted URLs.
//! Run by `bench/url-lookup`.
//!   lookup_bench UT1_DIR [SYNTHETIC_ENTRIES] [LOOKUPS]

use std::hint::black_box;
use std::time::Instant;

use mamori_urlfilter::*;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: lookup_bench UT1_DIR [SYNTHETIC_ENTRIES] [LOOKUPS]");
    let synthetic: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let lookups: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(5_000_000);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let t0 = Instant::now();
    let mut b = MatcherBuilder::new();
    let mut policy = Policy::new();
    let mut listed_domains = Vec::new();
    let mut ut1_entries = 0;
    for (name, list) in load_category_dir(std::path::Path::new(&dir)).expect("the UT1 directory is readable") {
        let id = b.list(&name).unwrap();
        policy.set(id, Action::Block);
        ut1_entries += list.entries.len();
        for e in list.entries {
            if let Entry::Domain(d) = &e
                && listed_domains.len() < 100_000
            {
                listed_domains.push(d.clone());
            }
            b.add(id, e);
        }
    }
    let lists: Vec<ListId> = (0..16).map(|i| b.list(&format!("synthetic-{i}")).unwrap()).collect();
    for i in 0..synthetic {
        let list = lists[i % lists.len()];
        let n = rnd();
        let e = match i % 10 {
            0..=6 => Entry::Domain(format!("s{:x}.example{}.jp", n, n % 50)),
            7 | 8 => Entry::url_prefix(&format!("u{:x}.example.com/path/{}", n % 100_000, n % 997)).unwrap(),
            _ => Entry::Net(format!("10.{}.{}.0/24", (n >> 8) % 256, n % 256).parse().unwrap()),
        };
        if i % 10 == 0
            && listed_domains.len() < 200_000
            && let Entry::Domain(d) = &e
        {
            listed_domains.push(d.clone());
        }
        b.add(list, e);
    }
    let matcher = b.build().expect("compiles");
    let built = t0.elapsed();
    // The mix: a third listed (as sub-domains, with paths), two thirds unlisted with deep names.
    let urls: Vec<Target> = (0..100_000)
        .map(|i| {
            let n = rnd();
            let s = match i % 3 {
                0 => format!("http://www.{}/index.html?id={n}", listed_domains[n as usize % listed_domains.len()]),
                1 => format!("https://cdn{}.static.unlisted{}.example.net/assets/app.js", n % 7, n % 100_000),
                _ => format!("http://u{:x}.example.com/path/{}/page", n % 200_000, n % 997),
            };
            Target::parse(&s).unwrap()
        })
        .collect();
    let mut m = Matches::default();
    let mut blocked = 0usize;
    let c1 = thread_cpu_ns();
    let t1 = Instant::now();
    for i in 0..lookups {
        matcher.lookup(black_box(&urls[i % urls.len()]), &mut m);
        blocked += (policy.decide(&m, Method::Read).decision == Decision::Block) as usize;
    }
    let per_wall = t1.elapsed().as_nanos() as f64 / lookups as f64;
    let per = (thread_cpu_ns() - c1) as f64 / lookups as f64;
    // Parsing the URL is part of every request too.
    let raw: Vec<String> = (0..100_000).map(|i| format!("http://www.host{i}.example.org/a/b/c?d={i}")).collect();
    let c2 = thread_cpu_ns();
    let mut n = 0usize;
    for s in raw.iter().cycle().take(1_000_000) {
        n += Target::parse(black_box(s)).map(|t| t.url_key().len()).unwrap_or(0);
    }
    let parse = (thread_cpu_ns() - c2) as f64 / 1_000_000.0;
    black_box(n);
    println!(
        "{} entries ({ut1_entries} UT1 + {synthetic} synthetic) compiled in {:.1} s; {lookups} lookups, {:.1}% blocked: {per:.0} ns per lookup (CPU time; {per_wall:.0} ns wall) + {parse:.0} ns to parse a URL",
        matcher.len(),
        built.as_secs_f64(),
        100.0 * blocked as f64 / lookups as f64
    );
}

/// CPU time of this thread: the cost of a lookup, whatever else the machine runs meanwhile.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec to the pointer it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
