//! `verify`: checks an archive directory against its manifest and reports every problem
//! found, rather than stopping at the first (what `mamori logs verify` prints).
//!
//! Checked: every manifest line (JSON, canonical form, hash, `seq` and `prev` against the line
//! before); every live segment (the file exists, has the recorded size and SHA-256, its
//! header, footer and block CRCs are right and agree with the entry); expired segments' files
//! are gone; and no `.seg` file in the directory is missing from the manifest.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::block;
use crate::error::{Error, Result};
use crate::manifest::{self, Entry, GENESIS, MANIFEST_FILE, Record, SegmentRecord};
use crate::segment::{self, SegmentReader};

/// How thoroughly to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VerifyOptions {
    /// Decode every block and count its events, rather than checking its CRC and header only.
    pub decode: bool,
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyReport {
    /// Manifest entries read.
    pub entries: u64,
    /// Live segments whose files were checked.
    pub segments_checked: u64,
    /// Events in the live segments.
    pub events: u64,
    /// Everything wrong, each naming the manifest line or entry and the file.
    pub problems: Vec<String>,
    /// Things that are not damage (a torn last manifest line, a leftover temporary file).
    pub warnings: Vec<String>,
    /// The hash of the last manifest entry: keep it elsewhere to detect entries cut off the end.
    pub head: String,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the archive in `dir` (CRCs and headers of every block).
pub fn verify(dir: impl AsRef<Path>) -> Result<VerifyReport> {
    verify_with(dir, VerifyOptions::default())
}

pub fn verify_with(dir: impl AsRef<Path>, options: VerifyOptions) -> Result<VerifyReport> {
    let dir = dir.as_ref();
    if !dir.is_dir() {
        return Err(Error::Invalid(format!("{} is not a directory", dir.display())));
    }
    let mut report = VerifyReport { head: GENESIS.to_string(), ..Default::default() };
    let entries = read_chain(dir, &mut report)?;

    let mut segments: HashMap<u64, (&SegmentRecord, &Entry)> = HashMap::new();
    let mut expired: HashMap<u64, &Entry> = HashMap::new();
    for e in &entries {
        match &e.record {
            Record::Segment(s) => {
                segments.insert(e.seq, (s, e));
            }
            Record::Expire(x) => match segments.get(&x.segment) {
                Some((s, _)) if s.file == x.file && s.sha256 == x.sha256 => {
                    if expired.insert(x.segment, e).is_some() {
                        report.problems.push(format!("entry seq {}: segment {} expired twice", e.seq, x.segment));
                    }
                }
                _ => report.problems.push(format!(
                    "entry seq {}: expires {} ({}), which is not an earlier segment entry with that file and hash",
                    e.seq, x.segment, x.file
                )),
            },
            Record::Watermark(_) => {}
        }
    }

    let mut listed = HashSet::new();
    let mut seqs: Vec<&u64> = segments.keys().collect();
    seqs.sort();
    for seq in seqs {
        let (s, _) = segments[seq];
        listed.insert(s.file.clone());
        if manifest::check_relative(&s.file).is_err() {
            report.problems.push(format!("entry seq {seq}: file {:?} is outside the archive", s.file));
            continue;
        }
        let path = dir.join(&s.file);
        if expired.contains_key(seq) {
            if path.exists() {
                report.problems.push(format!("entry seq {seq}: {} was expired but is still present", s.file));
            }
            continue;
        }
        report.segments_checked += 1;
        report.events += s.events;
        if let Err(problem) = check_segment(&path, s, options) {
            report.problems.push(format!("entry seq {seq}: {}: {problem}", s.file));
        }
    }

    let mut found = Vec::new();
    walk(dir, &mut found).map_err(|e| Error::io(dir, e))?;
    for path in found {
        let rel = relative(dir, &path);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.ends_with(&format!(".{}", segment::EXTENSION)) && !listed.contains(&rel) {
            report.problems.push(format!("{rel}: segment file not listed in the manifest"));
        } else if name.ends_with(&format!(".{}.tmp", segment::EXTENSION)) {
            report.warnings.push(format!("{rel}: unfinished segment (a write was interrupted)"));
        }
    }
    Ok(report)
}

/// Reads the manifest's lines, checking each and the links between them.
fn read_chain(dir: &Path, report: &mut VerifyReport) -> Result<Vec<Entry>> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            report.warnings.push(format!("{MANIFEST_FILE} does not exist"));
            return Ok(Vec::new());
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    let (lines, torn) = manifest::split_lines(&bytes);
    if torn > 0 {
        report.warnings.push(format!(
            "{MANIFEST_FILE}: the last {torn} bytes are a torn line (an interrupted append), cut at the next open"
        ));
    }
    let mut entries = Vec::new();
    let mut prev_hash = GENESIS.to_string();
    let mut expected_seq: u64 = 1;
    for (i, raw) in lines.iter().enumerate() {
        let n = i + 1;
        report.entries += 1;
        let parsed = std::str::from_utf8(raw).map_err(|_| "not UTF-8".to_string()).and_then(Entry::parse);
        let e = match parsed {
            Ok(e) => e,
            Err(m) => {
                report.problems.push(format!("{MANIFEST_FILE} line {n}: {m}"));
                // Go on from the stored hash, so that one damaged line is one problem.
                if let Some(h) = stored_hash(raw) {
                    prev_hash = h;
                }
                expected_seq = expected_seq.saturating_add(1);
                continue;
            }
        };
        if e.seq != expected_seq {
            report.problems.push(format!(
                "{MANIFEST_FILE} line {n}: entry seq {}, expected {expected_seq}: entries were removed or reordered",
                e.seq
            ));
        }
        if e.prev != prev_hash {
            report.problems.push(format!(
                "{MANIFEST_FILE} line {n} (entry seq {}): prev does not match the hash of the entry before: the chain is broken",
                e.seq
            ));
        }
        expected_seq = e.seq.saturating_add(1);
        prev_hash = e.hash.clone();
        entries.push(e);
    }
    report.head = prev_hash;
    Ok(entries)
}

fn stored_hash(raw: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(raw).ok()?;
    v.get("hash")?.as_str().map(str::to_string)
}

/// Checks one live segment against its entry.
fn check_segment(path: &Path, s: &SegmentRecord, options: VerifyOptions) -> Result<(), String> {
    let mut file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("the file is missing".into()),
        Err(e) => return Err(e.to_string()),
    };
    let mut sha = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
        size += n as u64;
    }
    if size != s.bytes {
        return Err(format!("{size} bytes, the manifest says {}", s.bytes));
    }
    let sha = hex::encode(sha.finalize());
    if sha != s.sha256 {
        return Err(format!("SHA-256 {sha} differs from the manifest's {}", s.sha256));
    }
    let reader = SegmentReader::open(path).map_err(|e| e.to_string())?;
    let meta = reader.meta();
    if meta.tenant != s.tenant || meta.day != s.day {
        return Err(format!("the file is for {} {}, the manifest says {} {}", meta.tenant, meta.day, s.tenant, s.day));
    }
    if reader.events() != s.events || reader.time_range() != (s.min_ts, s.max_ts) {
        return Err("the footer's event count or time range differs from the manifest".into());
    }
    for i in 0..reader.blocks().len() {
        if options.decode {
            reader.read_block(i).map_err(|e| e.to_string())?;
        } else {
            let bytes = reader.read_block_bytes(i).map_err(|e| e.to_string())?;
            let h = block::read_header(&bytes).map_err(|e| format!("block {i}: {e}"))?;
            if h.events != u64::from(reader.blocks()[i].events) {
                return Err(format!("block {i}: its header and the footer disagree on its events"));
            }
        }
    }
    Ok(())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), out)?;
        } else if kind.is_file() || kind.is_symlink() {
            out.push(entry.path());
        }
    }
    Ok(())
}

fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
