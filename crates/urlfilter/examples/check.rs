//! Reads `URL [METHOD]` lines on standard input and prints, for each, `block<TAB>LIST`, `pass`
//! or `error<TAB>WHY`, with every category of a squidGuard/UT1 directory blocked. Used by
//! `scripts/conformance ut1-squidguard` to compare verdicts with squidGuard.
//!   check CATEGORY_DIR < requests

use std::io::{BufRead, Write};

use mamori_urlfilter::*;

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: check CATEGORY_DIR < requests");
        std::process::exit(2);
    };
    let mut builder = MatcherBuilder::new();
    let mut policy = Policy::new();
    let categories = load_category_dir(std::path::Path::new(&dir)).unwrap_or_else(|e| {
        eprintln!("cannot read {dir}: {e}");
        std::process::exit(2);
    });
    for (name, list) in categories {
        eprintln!("{}", list.report);
        let id = builder.list(&name).expect("fewer lists than ids");
        policy.set(id, Action::Block);
        for e in list.entries {
            builder.add(id, e);
        }
    }
    let matcher = builder.build().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut matches = Matches::default();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("standard input is readable");
        let mut words = line.split_whitespace();
        let url = words.next().unwrap_or("");
        let method = Method::from_http(words.next().unwrap_or("GET"));
        match Target::parse(url) {
            Ok(t) => {
                matcher.lookup(&t, &mut matches);
                match policy.decide(&matches, method).reason {
                    Reason::Blocked(l) => writeln!(out, "block\t{}", matcher.list_name(l)),
                    _ => writeln!(out, "pass"),
                }
            }
            Err(e) => writeln!(out, "error\t{e}"),
        }
        .expect("standard output is writable");
    }
}
