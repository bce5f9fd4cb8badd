//! mamori's malware scanning engine. Given bytes (a file, a mail, an HTTP body) it answers
//! clean, infected (with signature names), suspicious (with reasons) or error, and says
//! where inside nested containers each finding sits.
//!
//! - [`filetype`] and [`names`]: what a file really is, and names that disguise it.
//! - `containers`: zip, gzip, bzip2, xz, tar, cpio, cab, 7z, ARJ, CHM, SIS, MIME/mbox, TNEF,
//!   OLE2, PDF, RTF; installers (NSIS, InstallShield), compiled AutoIt scripts, programs packed
//!   by UPX, ASPack, WWPack, Petite, PESpin, yC, MEW or Upack, and programs or zips stored inside programs; all
//!   opened within [`Limits`].
//! - [`clamav`]: ClamAV databases (hash, body, logical signatures with hex, PCRE and
//!   byte-compare subsignatures; CVD files).
//! - `yara`: YARA rules through yara-x (feature `yara`).
//! - [`SignatureStore`]: versioned snapshots swapped while scans go on.
//! - [`icap`]: an ICAP server (RFC 3507) so that proxies can use the engine.

pub mod clamav;
pub mod clamd;
mod containers;
pub mod engine;
pub mod events;
pub mod filetype;
pub mod icap;
pub mod limits;
pub mod names;
pub mod session;
pub mod signatures;
pub mod store;
pub mod verdict;
mod walk;
#[cfg(feature = "yara")]
pub mod yara;

/// Entry points for the fuzz targets in `fuzz/` only: each unpacker of packed programs on its
/// own, and their raw decompressors. Not a stable interface.
#[doc(hidden)]
pub mod fuzzing {
    /// One unpacker on `data` (a PE file): 0 UPX, 1 WWPack, 2 ASPack, 3 Petite, 4 yC,
    /// 5 PESpin, 6 MEW, 7 Upack, anything else the chain the container walker runs.
    pub fn unpacker(which: u8, data: &[u8], max_bytes: u64) -> Option<Vec<u8>> {
        crate::containers::fuzzing::unpacker(which, data, max_bytes)
    }

    /// A raw decompressor on any bytes: 0 NRV2B, 1 NRV2D, 2 NRV2E, anything else FSG's.
    pub fn decoder(which: u8, data: &[u8], max_out: usize) -> Option<Vec<u8>> {
        crate::containers::fuzzing::decoder(which, data, max_out)
    }
}

pub use engine::{Engine, scan_with};
pub use limits::Limits;
pub use session::Session;
pub use signatures::{SignatureConfig, SignatureSet, SourceInfo};
pub use store::SignatureStore;
pub use verdict::{Finding, FindingKind, ScanReport, Verdict};
