//! Reading the log back in order, as consumers (the indexer) do. A reader never returns a
//! record that is not yet durable, so what a consumer acts on survives a crash.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::Shared;
use super::format::*;

/// One record read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalRecord {
    pub lsn: u64,
    pub payload: Vec<u8>,
}

/// Records read back into one buffer that is kept between reads, so reading costs no
/// allocation per record.
#[derive(Default)]
pub struct WalBatch {
    bytes: Vec<u8>,
    /// `(lsn, end of its payload in bytes)`, in order.
    records: Vec<(u64, usize)>,
}

impl WalBatch {
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.records.clear();
    }

    /// `(lsn, payload)` of each record, in order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &[u8])> + '_ {
        let mut start = 0;
        self.records.iter().map(move |&(lsn, end)| {
            let payload = &self.bytes[start..end];
            start = end;
            (lsn, payload)
        })
    }

    fn push(&mut self, lsn: u64, payload: &[u8]) {
        self.bytes.extend_from_slice(payload);
        self.records.push((lsn, self.bytes.len()));
    }
}

/// A cursor over durable records, starting after a given LSN.
pub struct WalReader {
    dir: PathBuf,
    shared: Arc<Shared>,
    next_lsn: u64,
    segment: Option<OpenSegment>,
    chunk: Vec<u8>,
}

struct OpenSegment {
    first_lsn: u64,
    file: File,
    offset: u64,
}

const CHUNK: usize = 1 << 20;

impl WalReader {
    pub(crate) fn new(dir: PathBuf, shared: Arc<Shared>, after_lsn: u64) -> Self {
        WalReader { dir, shared, next_lsn: after_lsn + 1, segment: None, chunk: Vec::new() }
    }

    /// The LSN the next record will have (one past the last one returned).
    pub fn position(&self) -> u64 {
        self.next_lsn - 1
    }

    /// Up to `max` durable records; waits up to `wait` when there are none yet.
    pub fn read_batch(&mut self, max: usize, wait: Duration) -> std::io::Result<Vec<WalRecord>> {
        let mut batch = WalBatch::default();
        self.read_into(&mut batch, max, wait)?;
        Ok(batch.iter().map(|(lsn, payload)| WalRecord { lsn, payload: payload.to_vec() }).collect())
    }

    /// Replaces the contents of `out` with up to `max` durable records; waits up to `wait`
    /// when there are none yet.
    pub fn read_into(&mut self, out: &mut WalBatch, max: usize, wait: Duration) -> std::io::Result<()> {
        out.clear();
        let durable = self.shared.wait_durable_beyond(self.next_lsn.saturating_sub(1), wait);
        while out.len() < max && self.next_lsn <= durable {
            if self.segment.is_none() && !self.open_segment_for(self.next_lsn)? {
                break;
            }
            let before = out.len();
            self.read_from_segment(max, durable, out)?;
            if out.len() == before {
                // End of this segment: the next record lives in a later one.
                let current = self.segment.take().map(|s| s.first_lsn);
                if !self.open_segment_after(current)? {
                    break;
                }
            }
        }
        Ok(())
    }

    fn read_from_segment(&mut self, max: usize, durable: u64, out: &mut WalBatch) -> std::io::Result<()> {
        let seg = self.segment.as_mut().expect("caller opened a segment");
        self.chunk.resize(CHUNK, 0);
        let n = read_at_most(&seg.file, &mut self.chunk, seg.offset)?;
        let mut pos = 0usize;
        while out.len() < max && self.next_lsn <= durable {
            if n - pos < RECORD_HEADER_LEN {
                break;
            }
            let h = decode_header(&self.chunk[pos..pos + RECORD_HEADER_LEN]);
            if h.lsn != self.next_lsn || h.len > MAX_RECORD_LEN {
                // Past the records of this segment (or the writer's uncommitted bytes).
                break;
            }
            let end = pos + RECORD_HEADER_LEN + h.len;
            let big;
            let payload = if end <= n {
                &self.chunk[pos + RECORD_HEADER_LEN..end]
            } else if pos == 0 {
                // A record larger than the chunk: read it whole.
                let mut whole = vec![0u8; h.len];
                if read_at_most(&seg.file, &mut whole, seg.offset + RECORD_HEADER_LEN as u64)? < h.len {
                    break;
                }
                big = whole;
                &big
            } else {
                break;
            };
            if record_crc(h.lsn, payload) != h.crc {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("WAL record {} fails its CRC", h.lsn),
                ));
            }
            out.push(h.lsn, payload);
            seg.offset += (RECORD_HEADER_LEN + h.len) as u64;
            pos = end;
            self.next_lsn += 1;
            if end > n {
                break;
            }
        }
        Ok(())
    }

    /// Opens the segment holding `lsn`.
    fn open_segment_for(&mut self, lsn: u64) -> std::io::Result<bool> {
        let segments = list_segments(&self.dir)?;
        let Some((first, path)) = segments.iter().rev().find(|(first, _)| *first <= lsn) else {
            return self.open_segment_after(None);
        };
        let file = File::open(path)?;
        let mut seg = OpenSegment { first_lsn: *first, file, offset: SEGMENT_HEADER_LEN };
        // Skip records before `lsn`.
        let mut skip_lsn = *first;
        let mut hb = [0u8; RECORD_HEADER_LEN];
        while skip_lsn < lsn {
            if read_at_most(&seg.file, &mut hb, seg.offset)? < RECORD_HEADER_LEN {
                break;
            }
            let h = decode_header(&hb);
            if h.lsn != skip_lsn {
                break;
            }
            seg.offset += (RECORD_HEADER_LEN + h.len) as u64;
            skip_lsn += 1;
        }
        self.segment = Some(seg);
        Ok(true)
    }

    /// Moves to the first segment after `current`. Records missing between segments (cut out
    /// at startup because they were damaged) are skipped with a warning.
    fn open_segment_after(&mut self, current: Option<u64>) -> std::io::Result<bool> {
        let segments = list_segments(&self.dir)?;
        let next = segments.into_iter().find(|(first, _)| current.is_none_or(|c| *first > c));
        let Some((first, path)) = next else {
            return Ok(false);
        };
        if first > self.next_lsn {
            tracing::warn!(
                from = self.next_lsn,
                to = first - 1,
                "WAL records missing (cut as damaged at startup); skipping"
            );
            self.next_lsn = first;
        } else if first < self.next_lsn {
            // The segment starts before our position (only on the very first open).
            self.segment = None;
            return self.open_segment_for(self.next_lsn);
        }
        let file = File::open(path)?;
        self.segment = Some(OpenSegment { first_lsn: first, file, offset: SEGMENT_HEADER_LEN });
        Ok(true)
    }
}

fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], offset + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
