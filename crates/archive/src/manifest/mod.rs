//! The manifest: `manifest.jsonl` in the archive directory, the append-only, hash-chained
//! record of every segment archived, every watermark and every expiry.
//!
//! Nothing in the archive is trusted unless the manifest lists it: a segment is only part of
//! the archive once its entry is appended (after the file is complete and fsynced), and an
//! expired segment's file is deleted only after the expiry entry is. Every append is fsynced.
//! A crash in the middle of an append leaves a last line without its newline; [`Manifest::open`]
//! cuts it off with a warning, because an entry only counts with its newline and hash.
//!
//! The chain detects edited, removed and reordered lines; cutting entries off the end is only
//! detectable against a head recorded elsewhere (the head is in every [`crate::VerifyReport`]).
//! One process writes an archive: [`Manifest::open`] takes an exclusive lock on the file.

mod entry;

pub use entry::{Entry, ExpireRecord, GENESIS, Record, SegmentRecord, WatermarkRecord, canonical};

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use jiff::Timestamp;

use crate::error::{Error, Result};
use crate::segment::{self, SegmentInfo};

/// The manifest's file name in the archive directory.
pub const MANIFEST_FILE: &str = "manifest.jsonl";
/// Where segment files go in the archive directory.
pub const SEGMENT_DIR: &str = "segments";

/// An open manifest, holding the archive's write lock (or read-only, see [`Manifest::read`]).
#[derive(Debug)]
pub struct Manifest {
    dir: PathBuf,
    path: PathBuf,
    /// `None` when opened read-only.
    file: Option<File>,
    entries: Vec<Entry>,
    expired: HashSet<u64>,
}

/// Parses and checks the chain of a manifest's bytes; returns the entries and the length of a
/// torn last line.
fn parse_chain(path: &Path, bytes: &[u8]) -> Result<(Vec<Entry>, usize)> {
    let (lines, torn) = split_lines(bytes);
    let mut entries: Vec<Entry> = Vec::with_capacity(lines.len());
    for (i, raw) in lines.iter().enumerate() {
        let n = i + 1;
        let line = std::str::from_utf8(raw).map_err(|_| Error::manifest(path, Some(n), "not UTF-8"))?;
        let e = Entry::parse(line).map_err(|m| Error::manifest(path, Some(n), m))?;
        let (seq, prev) = entries.last().map_or((1, GENESIS), |p| (p.seq + 1, p.hash.as_str()));
        if e.seq != seq || e.prev != prev {
            return Err(Error::manifest(
                path,
                Some(n),
                format!(
                    "entry seq {} does not follow the line before (expected seq {seq} with its hash): lines were removed or reordered",
                    e.seq
                ),
            ));
        }
        entries.push(e);
    }
    Ok((entries, torn))
}

/// The complete lines of a manifest file and the length of a torn last line (0 if none).
pub(crate) fn split_lines(bytes: &[u8]) -> (Vec<&[u8]>, usize) {
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let lines = match complete {
        0 => Vec::new(),
        n => bytes[..n - 1].split(|b| *b == b'\n').collect(),
    };
    (lines, bytes.len() - complete)
}

impl Manifest {
    /// Opens (or creates) the manifest in `dir`, checking the whole chain. A torn last line is
    /// cut off with a warning; any other damage is an error naming the line (run
    /// [`crate::verify`] for the full list).
    pub fn open(dir: impl AsRef<Path>) -> Result<Manifest> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(MANIFEST_FILE);
        let mut file =
            OpenOptions::new().read(true).append(true).create(true).open(&path).map_err(|e| Error::io(&path, e))?;
        file.try_lock()
            .map_err(|_| Error::manifest(&path, None, "locked by another process (one writer per archive)"))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| Error::io(&path, e))?;
        let (entries, torn) = parse_chain(&path, &bytes)?;
        if torn > 0 {
            tracing::warn!(
                manifest = %path.display(),
                bytes = torn,
                "cutting off a torn last line of the archive manifest (a crash during an append)"
            );
            file.set_len((bytes.len() - torn) as u64)
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(&path, e))?;
        }
        Ok(Manifest::from_entries(dir, path, Some(file), entries))
    }

    /// Reads the manifest in `dir` without the write lock, for a second process (a CLI search
    /// next to a running server). A last line still being appended is ignored, not cut; the
    /// result cannot append.
    pub fn read(dir: impl AsRef<Path>) -> Result<Manifest> {
        let dir = dir.as_ref().to_path_buf();
        let path = dir.join(MANIFEST_FILE);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let (entries, _) = parse_chain(&path, &bytes)?;
        Ok(Manifest::from_entries(dir, path, None, entries))
    }

    fn from_entries(dir: PathBuf, path: PathBuf, file: Option<File>, entries: Vec<Entry>) -> Manifest {
        let mut m = Manifest { dir, path, file, entries: Vec::new(), expired: HashSet::new() };
        for e in entries {
            m.note(&e);
            m.entries.push(e);
        }
        m
    }

    fn note(&mut self, e: &Entry) {
        if let Record::Expire(x) = &e.record {
            self.expired.insert(x.segment);
        }
    }

    /// The archive directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The last entry's hash (64 zeros while empty): the whole history in one value.
    pub fn head(&self) -> &str {
        self.entries.last().map_or(GENESIS, |e| e.hash.as_str())
    }

    /// The entry with this `seq`.
    pub fn get(&self, seq: u64) -> Option<&Entry> {
        let i = usize::try_from(seq.checked_sub(1)?).ok()?;
        self.entries.get(i)
    }

    /// The segment entries not expired.
    pub fn live_segments(&self) -> Vec<(&Entry, &SegmentRecord)> {
        self.entries
            .iter()
            .filter(|e| !self.expired.contains(&e.seq))
            .filter_map(|e| match &e.record {
                Record::Segment(s) => Some((e, s)),
                _ => None,
            })
            .collect()
    }

    /// The live segments of one tenant and day, oldest first.
    pub fn segments_for(&self, tenant: &str, day: &str) -> Vec<(&Entry, &SegmentRecord)> {
        self.live_segments().into_iter().filter(|(_, s)| s.tenant == tenant && s.day == day).collect()
    }

    /// The highest WAL position recorded as archived for `day`.
    pub fn watermark(&self, day: &str) -> Option<u64> {
        self.entries
            .iter()
            .filter_map(|e| match &e.record {
                Record::Watermark(w) if w.day == day => Some(w.lsn),
                _ => None,
            })
            .max()
    }

    /// A new file name for a segment of `tenant` and `day`, relative to the archive
    /// directory: `segments/<tenant>/<day>/<n>.seg`, with `n` the next entry's seq (or the
    /// next free number, if a crashed attempt left that name behind).
    pub fn new_segment_path(&self, tenant: &str, day: &str) -> Result<String> {
        segment::check_tenant(tenant)?;
        segment::check_day(day)?;
        let mut n = self.entries.last().map_or(1, |e| e.seq + 1);
        loop {
            let rel = format!("{SEGMENT_DIR}/{tenant}/{day}/{n:08}.{}", segment::EXTENSION);
            let taken = self.entries.iter().any(|e| match &e.record {
                Record::Segment(s) => s.file == rel,
                _ => false,
            });
            if !taken && !self.dir.join(&rel).exists() {
                return Ok(rel);
            }
            n += 1;
        }
    }

    /// Appends `record`: numbers it, chains it, writes it and fsyncs.
    pub fn append(&mut self, record: Record) -> Result<Entry> {
        self.check(&record)?;
        let seq = self.entries.last().map_or(1, |e| e.seq + 1);
        let entry = Entry::new(seq, self.head(), record);
        let mut line = entry.line();
        line.push('\n');
        let Some(file) = self.file.as_mut() else {
            return Err(Error::Invalid(format!("{} was opened read-only", self.path.display())));
        };
        let before = file.metadata().map_err(|e| Error::io(&self.path, e))?.len();
        if let Err(e) = file.write_all(line.as_bytes()).and_then(|()| file.sync_data()) {
            // Leave no partial line behind for the next append to continue.
            let _ = file.set_len(before);
            return Err(Error::io(&self.path, e));
        }
        if seq == 1 {
            segment::sync_dir(&self.path)?;
        }
        self.note(&entry);
        self.entries.push(entry.clone());
        Ok(entry)
    }

    fn check(&self, record: &Record) -> Result<()> {
        match record {
            Record::Segment(s) => {
                segment::check_tenant(&s.tenant)?;
                segment::check_day(&s.day)?;
                check_relative(&s.file)?;
                let listed = self.entries.iter().any(|e| matches!(&e.record, Record::Segment(o) if o.file == s.file));
                if listed {
                    return Err(Error::Invalid(format!("{} is listed already", s.file)));
                }
            }
            Record::Watermark(w) => segment::check_day(&w.day)?,
            Record::Expire(x) => {
                let seg = match self.get(x.segment).map(|e| &e.record) {
                    Some(Record::Segment(s)) => s,
                    _ => {
                        return Err(Error::Invalid(format!("entry {} is not a segment", x.segment)));
                    }
                };
                if self.expired.contains(&x.segment) {
                    return Err(Error::Invalid(format!("segment {} is expired already", x.segment)));
                }
                if seg.file != x.file || seg.sha256 != x.sha256 {
                    return Err(Error::Invalid(format!("expiry of segment {} names another file or hash", x.segment)));
                }
            }
        }
        Ok(())
    }

    /// Records a finished segment file (which must be inside the archive directory).
    pub fn add_segment(
        &mut self,
        info: &SegmentInfo,
        tenant: &str,
        day: &str,
        lsn_from: u64,
        lsn_to: u64,
    ) -> Result<Entry> {
        let rel = info.path.strip_prefix(&self.dir).map_err(|_| {
            Error::Invalid(format!("{} is not inside the archive {}", info.path.display(), self.dir.display()))
        })?;
        let file = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        self.append(Record::Segment(SegmentRecord {
            tenant: tenant.to_string(),
            day: day.to_string(),
            file,
            events: info.events,
            bytes: info.bytes,
            sha256: info.sha256.clone(),
            min_ts: info.min_ts,
            max_ts: info.max_ts,
            lsn_from,
            lsn_to,
            created: Timestamp::now(),
        }))
    }

    /// Expires segment entry `seq`: appends the expiry, then deletes the file. If the process
    /// dies between the two, the file stays behind: [`crate::verify`] reports it and
    /// [`Manifest::remove_expired_files`] deletes it.
    pub fn expire(&mut self, seq: u64, reason: &str) -> Result<Entry> {
        let Some(Entry { record: Record::Segment(s), .. }) = self.get(seq) else {
            return Err(Error::Invalid(format!("entry {seq} is not a segment")));
        };
        let record = Record::Expire(ExpireRecord {
            segment: seq,
            file: s.file.clone(),
            sha256: s.sha256.clone(),
            reason: reason.to_string(),
            at: Timestamp::now(),
        });
        let entry = self.append(record)?;
        self.remove_expired_files()?;
        Ok(entry)
    }

    /// Deletes the files of expired segments that are still on disk.
    pub fn remove_expired_files(&self) -> Result<()> {
        for e in &self.entries {
            if let Record::Expire(x) = &e.record {
                let path = self.dir.join(&x.file);
                match fs::remove_file(&path) {
                    Ok(()) => segment::sync_dir(&path)?,
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                    Err(err) => return Err(Error::io(&path, err)),
                }
            }
        }
        Ok(())
    }
}

/// A manifest `file` must stay inside the archive: relative, `/`-separated, no `..`.
pub(crate) fn check_relative(file: &str) -> Result<()> {
    let p = Path::new(file);
    let ok = !file.is_empty() && !file.contains('\\') && p.components().all(|c| matches!(c, Component::Normal(_)));
    if ok { Ok(()) } else { Err(Error::Invalid(format!("{file:?} is not a path inside the archive"))) }
}
