//! Writing a file so that it survives a crash once the call returns: a temporary file in the
//! same file system, fsynced, renamed into place, and the directory fsynced. The queue and the
//! quarantine both keep mail this way, as a [`MessageDir`].

mod message_dir;

pub use message_dir::{MessageDir, StoreError};

use std::fs::{self, File};
use std::io::Write as _;
use std::path::Path;

/// Writes `bytes` to `dest` through a new file in `tmp_dir`. Mail is private: the file is
/// readable by mamori only.
pub fn write(tmp_dir: &Path, dest: &Path, bytes: &[u8]) -> Result<(), (std::path::PathBuf, std::io::Error)> {
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = tmp_dir.join(format!("{name}.{}", uuid::Uuid::new_v4().simple()));
    let mut f = {
        use std::os::unix::fs::OpenOptionsExt as _;
        fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp).map_err(|e| (tmp.clone(), e))?
    };
    f.write_all(bytes).map_err(|e| (tmp.clone(), e))?;
    f.sync_all().map_err(|e| (tmp.clone(), e))?;
    drop(f);
    fs::rename(&tmp, dest).map_err(|e| (dest.to_path_buf(), e))?;
    sync_dir(dest.parent().unwrap_or(tmp_dir))
}

/// Makes a rename or removal in `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<(), (std::path::PathBuf, std::io::Error)> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| (dir.to_path_buf(), e))
}
