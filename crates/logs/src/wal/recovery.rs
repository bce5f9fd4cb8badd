//! Checking segments at startup: a torn or corrupted tail is cut at the last good record.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use super::format::*;

/// What scanning one segment found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentScan {
    /// Records that passed their CRC, in order.
    pub records: u64,
    pub last_lsn: Option<u64>,
    /// Bytes from the start of the file to the end of the last good record.
    pub valid_len: u64,
    pub file_len: u64,
    /// Why scanning stopped before the end of the file.
    pub damage: Option<String>,
}

/// Reads a segment from the start and stops at the first record that is incomplete, fails its
/// CRC or breaks the LSN sequence.
pub fn scan_segment(path: &Path, first_lsn: u64) -> std::io::Result<SegmentScan> {
    let file = File::open(path)?;
    let file_len = file.metadata()?.len();
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut scan = SegmentScan { records: 0, last_lsn: None, valid_len: 0, file_len, damage: None };
    let mut header = [0u8; SEGMENT_HEADER_LEN as usize];
    if let Err(e) = r.read_exact(&mut header) {
        scan.damage = Some(format!("segment header unreadable: {e}"));
        return Ok(scan);
    }
    if let Err(e) = check_segment_header(&header) {
        scan.damage = Some(e);
        return Ok(scan);
    }
    scan.valid_len = SEGMENT_HEADER_LEN;
    let mut expected = first_lsn;
    let mut rh = [0u8; RECORD_HEADER_LEN];
    let mut payload = Vec::new();
    loop {
        match read_full(&mut r, &mut rh)? {
            0 => return Ok(scan),
            n if n < RECORD_HEADER_LEN => {
                scan.damage = Some(format!("torn record header at byte {}", scan.valid_len));
                return Ok(scan);
            }
            _ => {}
        }
        let h = decode_header(&rh);
        if h.len > MAX_RECORD_LEN {
            scan.damage = Some(format!("record length {} at byte {} is implausible", h.len, scan.valid_len));
            return Ok(scan);
        }
        if h.lsn != expected {
            scan.damage =
                Some(format!("record at byte {} has LSN {} where {} was expected", scan.valid_len, h.lsn, expected));
            return Ok(scan);
        }
        payload.resize(h.len, 0);
        if read_full(&mut r, &mut payload)? < h.len {
            scan.damage = Some(format!("torn record {} at byte {}", h.lsn, scan.valid_len));
            return Ok(scan);
        }
        if record_crc(h.lsn, &payload) != h.crc {
            scan.damage = Some(format!("CRC mismatch in record {} at byte {}", h.lsn, scan.valid_len));
            return Ok(scan);
        }
        scan.records += 1;
        scan.last_lsn = Some(h.lsn);
        scan.valid_len += (RECORD_HEADER_LEN + h.len) as u64;
        expected += 1;
    }
}

/// Like `read_exact`, but reports how much was read at end of file instead of failing.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
