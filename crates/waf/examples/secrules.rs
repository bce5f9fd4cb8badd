//! Runs the secrules-language-tests operator and transformation vectors.
//! Usage: secrules DATA_DIR OVERRIDES_FILE
//! Prints each unexpected failure, then `secrules: N passed, M failed` (overridden failures
//! are counted as failed and listed with their recorded reason).

#[allow(dead_code)] // each runner uses part of what the runners share
mod support;

use std::path::Path;

use mamori_waf::macros::Resolve;
use mamori_waf::operators::Operator;
use mamori_waf::transforms::Transform;
use support::{Tally, load_overrides};

struct NoVars;
impl Resolve for NoVars {
    fn resolve(&self, _: &str, _: Option<&str>) -> Option<Vec<u8>> {
        None
    }
}

/// JSON strings carry bytes as code points below 256 (others are UTF-8 text), and, as
/// libmodsecurity's test runner reads them, `\xHH` and `\uHHHH` escapes.
fn bytes(s: &str) -> Vec<u8> {
    let raw = s.as_bytes();
    let hex = |b: &[u8]| std::str::from_utf8(b).ok().and_then(|h| u32::from_str_radix(h, 16).ok());
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\'
            && raw.get(i + 1) == Some(&b'x')
            && i + 4 <= raw.len()
            && let Some(v) = hex(&raw[i + 2..i + 4])
        {
            out.push(v as u8);
            i += 4;
            continue;
        }
        if raw[i] == b'\\'
            && raw.get(i + 1) == Some(&b'u')
            && i + 6 <= raw.len()
            && let Some(v) = hex(&raw[i + 2..i + 6])
        {
            match char::from_u32(v).filter(|_| v >= 256) {
                Some(c) => out.extend_from_slice(c.to_string().as_bytes()),
                None => out.push(v as u8),
            }
            i += 6;
            continue;
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: secrules DATA_DIR OVERRIDES_FILE");
        std::process::exit(2);
    }
    let dir = std::fs::canonicalize(&args[1]).unwrap_or_else(|_| Path::new(&args[1]).to_path_buf());
    let dir = dir.as_path();
    let overrides = load_overrides(Path::new(&args[2]));
    let mut tally = Tally::new(overrides);
    for sub in ["operators", "transformations"] {
        let mut files: Vec<_> = match std::fs::read_dir(dir.join(sub)) {
            Ok(r) => r
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect(),
            Err(e) => {
                eprintln!("secrules: cannot read {}: {e}", dir.join(sub).display());
                println!("secrules: 0 passed, 1 failed");
                std::process::exit(1);
            }
        };
        files.sort();
        for f in files {
            let name = format!("{sub}/{}", f.file_name().unwrap_or_default().to_string_lossy());
            let cases: Vec<serde_json::Value> =
                match std::fs::read(&f).ok().and_then(|t| serde_json::from_slice(&t).ok()) {
                    Some(c) => c,
                    None => {
                        eprintln!("secrules: {name}: not a JSON array");
                        tally.failed += 1;
                        continue;
                    }
                };
            for (i, c) in cases.iter().enumerate() {
                let key = format!("{name}#{i}");
                tally.record(&[&key], run_case(c, dir));
            }
        }
    }
    tally.report_unexpected("secrules");
    println!("secrules: {} passed, {} failed", tally.passed, tally.failed);
}

fn run_case(c: &serde_json::Value, dir: &Path) -> Result<(), String> {
    let s = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let name = s("name");
    let input = bytes(&s("input"));
    match s("type").as_str() {
        "op" => {
            let mut param = s("param");
            if name.eq_ignore_ascii_case("pmFromFile") || name.eq_ignore_ascii_case("ipMatchFromFile") {
                // Vectors name their data files by the upstream layout; they live in operators/op/.
                let base = param.rsplit('/').next().unwrap_or("").to_string();
                param = dir.join("operators/op").join(base).display().to_string();
            }
            let want = c.get("ret").and_then(|v| v.as_i64()).unwrap_or(-1);
            let op = Operator::parse(&format!("@{name} {param}"), dir).map_err(|e| format!("does not compile: {e}"))?;
            let (hit, _) = op.matches(&input, &NoVars, false);
            if (hit as i64) == want {
                Ok(())
            } else {
                Err(format!(
                    "@{name} {param:?} on {:?}: got {}, want {want}",
                    String::from_utf8_lossy(&input),
                    hit as i64
                ))
            }
        }
        "tfn" => {
            let t = Transform::from_name(&name).ok_or_else(|| format!("unknown transformation {name}"))?;
            let want = bytes(&s("output"));
            let got = t.apply(&input);
            if *got == *want {
                Ok(())
            } else {
                Err(format!("t:{name} on {:?}: got {:?}, want {:?}", esc(&input), esc(&got), esc(&want)))
            }
        }
        other => Err(format!("unknown case type '{other}'")),
    }
}

fn esc(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}
