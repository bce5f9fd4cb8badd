//! Limits that keep a scan bounded in time and memory, whatever the input claims about itself.

use serde::{Deserialize, Serialize};
use std::io::Read;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Containers inside containers deeper than this are not opened.
    pub max_depth: u32,
    /// The largest single object (the outer one or an extracted member), in bytes.
    pub max_object_size: u64,
    /// Bytes extracted from containers in one scan, all levels together.
    pub max_expanded_size: u64,
    /// Expanded size over compressed size of one member, checked once it passes 1 MiB.
    pub max_ratio: u64,
    /// Objects (members of containers) in one scan.
    pub max_files: u64,
}

impl Default for Limits {
    fn default() -> Self {
        // Close to clamscan's defaults (MaxRecursion 17, MaxFileSize 100M, MaxScanSize 400M,
        // MaxFiles 10000), so the two engines give up on the same inputs.
        Limits {
            max_depth: 16,
            max_object_size: 100 << 20,
            max_expanded_size: 400 << 20,
            max_ratio: 1000,
            max_files: 10_000,
        }
    }
}

/// Why extraction stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// A limit was reached: the verdict becomes "suspicious: limit exceeded".
    Limit(String),
    /// The data is not what its container says it is.
    Malformed(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Limit(reason) => write!(f, "limit exceeded: {reason}"),
            ReadError::Malformed(message) => write!(f, "{message}"),
        }
    }
}

/// How much one member may expand to.
#[derive(Debug, Clone, Copy)]
pub struct ReadCap {
    /// Bytes this member may produce (the smaller of the object limit and what is left of the
    /// scan's expansion budget).
    pub max_bytes: u64,
    pub max_ratio: u64,
}

const RATIO_CHECK_FLOOR: u64 = 1 << 20;

/// Reads a decompressing reader to its end, stopping as soon as it produces more than the cap
/// allows or expands more than `max_ratio` times its `compressed_len`. Never allocates more
/// than the cap.
pub fn read_capped(mut reader: impl Read, compressed_len: u64, cap: ReadCap) -> Result<Vec<u8>, ReadError> {
    // The most bytes allowed: past the cap or past the ratio (checked above its floor) is an error.
    let ratio_limit = compressed_len.max(1).saturating_mul(cap.max_ratio.saturating_add(1)).saturating_sub(1);
    let limit = cap.max_bytes.min(ratio_limit.max(RATIO_CHECK_FLOOR));
    let most = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    // Decompressed straight into the result, which grows by doubling up to one byte over the
    // limit (a 64 KiB bounce buffer per member cost a zeroing and a copy of every byte).
    let mut out: Vec<u8> = Vec::new();
    let mut filled = 0;
    let mut next_size = usize::try_from(compressed_len.saturating_mul(4)).unwrap_or(usize::MAX).clamp(4096, 1 << 20);
    loop {
        if filled == out.len() {
            let size = next_size.min(most);
            if size <= out.len() {
                break;
            }
            out.reserve_exact(size - out.len());
            out.resize(size, 0);
            next_size = size.saturating_mul(2);
        }
        match reader.read(&mut out[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::Malformed(format!("cannot decompress: {e}"))),
        }
    }
    let total = filled as u64;
    if total > cap.max_bytes {
        return Err(ReadError::Limit(format!("expands beyond {} bytes", cap.max_bytes)));
    }
    if total > limit {
        return Err(ReadError::Limit(format!(
            "compression ratio over {}:1 (more than {limit} bytes from {compressed_len})",
            cap.max_ratio
        )));
    }
    out.truncate(filled);
    Ok(out)
}

/// A writer for decoders that push output (xz, lzma): fails once the cap is passed.
pub struct CappedWriter {
    pub out: Vec<u8>,
    compressed_len: u64,
    cap: ReadCap,
    pub exceeded: Option<ReadError>,
}

impl CappedWriter {
    pub fn new(compressed_len: u64, cap: ReadCap) -> Self {
        CappedWriter { out: Vec::new(), compressed_len, cap, exceeded: None }
    }
}

impl std::io::Write for CappedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let total = self.out.len() as u64 + buf.len() as u64;
        let error = if total > self.cap.max_bytes {
            Some(ReadError::Limit(format!("expands beyond {} bytes", self.cap.max_bytes)))
        } else if total > RATIO_CHECK_FLOOR && total / self.compressed_len.max(1) > self.cap.max_ratio {
            Some(ReadError::Limit(format!("compression ratio over {}:1", self.cap.max_ratio)))
        } else {
            None
        };
        if let Some(error) = error {
            self.exceeded = Some(error);
            return Err(std::io::Error::other("limit exceeded"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
