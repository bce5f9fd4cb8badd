//! Runs libinjection's own test vectors (the `tests/` folder of the C libinjection, files
//! `test-*.txt` in its `--TEST--` / `--INPUT--` / `--EXPECTED--` format) through mamori's
//! detectors and compares with their expected output, the way libinjection's `testdriver` does.
//!
//! Usage: `MAMORI_LIBINJECTION_TESTS=DIR libinjection_vectors` (or the folder as argument).
//! The vectors are not in the repository (no package ships them); the runner fails when the
//! folder is missing or holds no vector file, instead of passing on nothing.
//!
//! - `test-sqli-*`: expected is the fingerprint when the input is SQLi, empty when it is not;
//!   compared with `@detectSQLi` (`mamori_waf::libinjection::sqli::detect`). A difference is
//!   classed as a verdict difference (one side calls it SQLi, the other not) or a fingerprint
//!   difference (both call it SQLi).
//! - `test-html5-*`: expected is the HTML5 tokenizer's token list from the data state
//!   (`TYPE,LEN,TEXT` a line); compared with the tokenizer `@detectXSS` runs on (the wrapped
//!   crate's, also used by mamori's event-prefix rule). `@detectXSS`'s verdict is printed too.
//! - `test-xss-*`: expected is `1` when the input is XSS, `0` when not; compared with
//!   `@detectXSS` (`mamori_waf::libinjection::xss::detect`).
//! - `test-folding-*`, `test-tokens-*`: SQL token lists, which mamori does not expose; counted
//!   as not run.
//!
//! Prints each difference, then one line per group: `GROUP: N agree, M differ (...)`.
//! Exit status 1 when something differs, 2 when there is nothing to run.

use std::collections::BTreeMap;
use std::path::PathBuf;

use libinjectionrs::xss::{Html5Flags, Html5State};
use mamori_waf::libinjection::{sqli, xss};

/// One vector file: its input and expected output as libinjection's testdriver reads them
/// (input without its final newline, expected trimmed of surrounding white space).
struct Vector {
    input: Vec<u8>,
    expected: String,
}

fn parse(text: &[u8]) -> Option<Vector> {
    let text = String::from_utf8_lossy(text);
    let (_, rest) = text.split_once("--INPUT--\n")?;
    let (input, expected) = rest.split_once("--EXPECTED--")?;
    let input = input.strip_suffix('\n').unwrap_or(input);
    Some(Vector { input: input.as_bytes().to_vec(), expected: expected.trim().to_string() })
}

fn html5_tokens(input: &[u8]) -> String {
    let mut h5 = Html5State::new(input, Html5Flags::DataState);
    let mut out = String::new();
    while h5.next() {
        let tok = &h5.token_start[..h5.token_len];
        out.push_str(&format!("{},{},{}\n", h5.token_type, h5.token_len, String::from_utf8_lossy(tok)));
    }
    out.trim().to_string()
}

#[derive(Default)]
struct Group {
    agree: usize,
    differ: BTreeMap<&'static str, usize>,
    not_run: usize,
}

fn main() {
    let dir = std::env::args().nth(1).or_else(|| std::env::var("MAMORI_LIBINJECTION_TESTS").ok());
    let Some(dir) = dir.map(PathBuf::from) else {
        eprintln!("libinjection_vectors: set MAMORI_LIBINJECTION_TESTS to a folder of libinjection test-*.txt files");
        std::process::exit(2);
    };
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("test-") && n.ends_with(".txt"))
            })
            .collect(),
        Err(e) => {
            eprintln!("libinjection_vectors: cannot read {}: {e}", dir.display());
            std::process::exit(2);
        }
    };
    if files.is_empty() {
        eprintln!("libinjection_vectors: no test-*.txt vector file in {}", dir.display());
        std::process::exit(2);
    }
    files.sort();
    let mut groups: BTreeMap<&'static str, Group> = BTreeMap::new();
    let mut differences = 0;
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let group = ["sqli", "html5", "xss", "folding", "tokens"]
            .into_iter()
            .find(|g| name.starts_with(&format!("test-{g}-")))
            .unwrap_or("other");
        let g = groups.entry(group).or_default();
        let Some(v) = std::fs::read(path).ok().and_then(|t| parse(&t)) else {
            println!("{name}: not a --TEST--/--INPUT--/--EXPECTED-- file");
            *g.differ.entry("unreadable").or_default() += 1;
            differences += 1;
            continue;
        };
        let shown = String::from_utf8_lossy(&v.input).into_owned();
        match group {
            "sqli" => {
                let actual =
                    sqli::detect(&v.input).map(|fp| String::from_utf8_lossy(&fp).into_owned()).unwrap_or_default();
                if actual == v.expected {
                    g.agree += 1;
                    continue;
                }
                let class = if v.expected.contains(char::is_whitespace) {
                    "expected is not a fingerprint"
                } else if actual.is_empty() != v.expected.is_empty() {
                    "verdict differs"
                } else {
                    "fingerprint differs, verdict same"
                };
                println!("{name}: {class}: input {shown:?}: expected {:?}, mamori {actual:?}", v.expected);
                *g.differ.entry(class).or_default() += 1;
                differences += 1;
            }
            "html5" => {
                let actual = html5_tokens(&v.input);
                println!(
                    "{name}: @detectXSS {} on {shown:?}",
                    if xss::detect(&v.input) { "matches" } else { "does not match" }
                );
                if actual == v.expected {
                    g.agree += 1;
                    continue;
                }
                println!("{name}: tokens differ: input {shown:?}:\n  expected {:?}\n  mamori   {actual:?}", v.expected);
                *g.differ.entry("tokens differ").or_default() += 1;
                differences += 1;
            }
            "xss" => {
                let actual = if xss::detect(&v.input) { "1" } else { "0" };
                if actual == v.expected {
                    g.agree += 1;
                    continue;
                }
                println!("{name}: verdict differs: input {shown:?}: expected {:?}, mamori {actual}", v.expected);
                *g.differ.entry("verdict differs").or_default() += 1;
                differences += 1;
            }
            _ => g.not_run += 1,
        }
    }
    let mut ran = 0;
    for (name, g) in &groups {
        let differ: usize = g.differ.values().sum();
        ran += g.agree + differ;
        let classes: Vec<String> = g.differ.iter().map(|(c, n)| format!("{n} {c}")).collect();
        let not_run = if g.not_run > 0 {
            format!(", {} not run (mamori exposes no SQL tokens)", g.not_run)
        } else {
            String::new()
        };
        println!(
            "{name}: {} agree, {differ} differ{}{not_run}",
            g.agree,
            if classes.is_empty() { String::new() } else { format!(" ({})", classes.join(", ")) }
        );
    }
    if ran == 0 {
        eprintln!("libinjection_vectors: no sqli, html5 or xss vector among {} files", files.len());
        std::process::exit(2);
    }
    if differences > 0 {
        std::process::exit(1);
    }
}
