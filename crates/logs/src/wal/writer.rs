//! The writer thread: group commit. Every request waiting when a write starts joins it; the
//! group is written with one `write` and made durable with one `fdatasync`, then every request
//! in it is acknowledged. Under load, groups grow and the cost of fsync is shared.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use mamori_core::sink::{EncodedEvents, Receipt, SubmitError};
use tokio::sync::{mpsc, oneshot};

use super::format::*;
use super::{Shared, WalMetrics};

/// A batch of records to append, and where to report that they are durable.
pub(crate) struct WriteRequest {
    pub payloads: EncodedEvents,
    pub done: oneshot::Sender<Result<Receipt, SubmitError>>,
}

/// Upper bound on bytes gathered into one group, so one fsync never waits on gigabytes.
const GROUP_MAX_BYTES: usize = 16 << 20;

pub(crate) struct Writer {
    pub dir: PathBuf,
    pub file: File,
    pub segment_first_lsn: u64,
    pub segment_len: u64,
    pub next_lsn: u64,
    pub segment_bytes: u64,
    pub min_free_bytes: u64,
    pub shared: Arc<Shared>,
    pub metrics: WalMetrics,
}

impl Writer {
    pub fn run(mut self, mut rx: mpsc::Receiver<WriteRequest>) {
        let mut buf = Vec::with_capacity(1 << 20);
        while let Some(first) = rx.blocking_recv() {
            let mut bytes = first.payloads.byte_len();
            let mut group = vec![first];
            while bytes < GROUP_MAX_BYTES {
                match rx.try_recv() {
                    Ok(req) => {
                        bytes += req.payloads.byte_len();
                        group.push(req);
                    }
                    Err(_) => break,
                }
            }
            self.commit_group(group, &mut buf);
        }
    }

    fn commit_group(&mut self, group: Vec<WriteRequest>, buf: &mut Vec<u8>) {
        if let Err(e) = self.check_free_space() {
            self.metrics.rejected_full.inc_by(group.len() as u64);
            for req in group {
                let _ = req.done.send(Err(e.clone()));
            }
            return;
        }
        if self.segment_len >= self.segment_bytes
            && let Err(e) = self.rotate()
        {
            let err = classify(&e);
            for req in group {
                let _ = req.done.send(Err(err.clone()));
            }
            return;
        }
        buf.clear();
        let start_lsn = self.next_lsn;
        let mut receipts = Vec::with_capacity(group.len());
        let mut lsn = start_lsn;
        for req in &group {
            for p in req.payloads.records() {
                encode_record(buf, lsn, p);
                lsn += 1;
            }
            receipts.push(Receipt { last_lsn: lsn.saturating_sub(1), count: req.payloads.len() });
        }
        let records = lsn - start_lsn;
        match self.write_durably(buf) {
            Ok(()) => {
                self.next_lsn = lsn;
                self.segment_len += buf.len() as u64;
                self.metrics.records.inc_by(records);
                self.metrics.bytes.inc_by(buf.len() as u64);
                self.metrics.fsyncs.inc();
                if records > 0 {
                    self.shared.publish_durable(lsn - 1);
                }
                for (req, receipt) in group.into_iter().zip(receipts) {
                    let receipt = if receipt.count == 0 {
                        Receipt { last_lsn: self.shared.durable_lsn(), count: 0 }
                    } else {
                        receipt
                    };
                    let _ = req.done.send(Ok(receipt));
                }
            }
            Err(e) => {
                // Leave no partial record behind: the next group reuses these LSNs.
                if let Err(t) = self.file.set_len(self.segment_len) {
                    tracing::error!(error = %t, "cannot cut a failed WAL write back; the next start will repair the tail");
                }
                let err = classify(&e);
                if matches!(err, SubmitError::StorageFull(_)) {
                    self.metrics.rejected_full.inc_by(group.len() as u64);
                } else {
                    self.metrics.write_errors.inc();
                }
                tracing::warn!(error = %e, "WAL write failed; senders are asked to retry");
                for req in group {
                    let _ = req.done.send(Err(err.clone()));
                }
            }
        }
    }

    /// Writes at the segment's known end rather than the file cursor: after a failed write
    /// (disk full) the file is cut back to `segment_len`, and the next group must land exactly
    /// there, not after a hole.
    fn write_durably(&mut self, buf: &[u8]) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.file.write_all_at(buf, self.segment_len)?;
        self.file.sync_data()
    }

    fn check_free_space(&self) -> Result<(), SubmitError> {
        match free_bytes(&self.dir) {
            Ok(free) if free < self.min_free_bytes => Err(SubmitError::StorageFull(format!(
                "{} MB free on the log disk, below the reserve of {} MB (logs.min_free_disk_mb)",
                free >> 20,
                self.min_free_bytes >> 20
            ))),
            _ => Ok(()),
        }
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let (file, len) = create_segment(&self.dir, self.next_lsn)?;
        self.file = file;
        self.segment_first_lsn = self.next_lsn;
        self.segment_len = len;
        self.shared.active_segment.store(self.next_lsn, Ordering::Release);
        Ok(())
    }
}

/// Creates a segment file with its header, durable together with its directory entry.
pub(crate) fn create_segment(dir: &Path, first_lsn: u64) -> std::io::Result<(File, u64)> {
    let path = segment_path(dir, first_lsn);
    let mut file = OpenOptions::new().create(true).truncate(true).write(true).read(true).open(&path)?;
    file.write_all(&segment_header())?;
    file.sync_all()?;
    File::open(dir)?.sync_all()?;
    Ok((file, SEGMENT_HEADER_LEN))
}

fn classify(e: &std::io::Error) -> SubmitError {
    if e.raw_os_error() == Some(libc::ENOSPC) || e.raw_os_error() == Some(libc::EDQUOT) {
        SubmitError::StorageFull(format!("the log disk is full: {e}"))
    } else {
        SubmitError::Storage(format!("writing the WAL failed: {e}"))
    }
}

/// Bytes available to unprivileged writers on the filesystem holding `dir`.
pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a properly sized out-parameter.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}
