//! One immutable, versioned set of signatures: the ClamAV database, the YARA rules, and
//! where each part came from (version, release time, load time).

use crate::clamav::{ClamDatabase, LoadStats};
use jiff::Timestamp;
use serde::Serialize;
use sha2::Digest;
use std::path::{Path, PathBuf};

/// Where signatures are read from.
#[derive(Debug, Clone, Default)]
pub struct SignatureConfig {
    /// Directories (or single files) of ClamAV databases and hash lists.
    pub clamav: Vec<PathBuf>,
    /// Directories (or single files) of YARA rules.
    pub yara: Vec<PathBuf>,
}

/// One file signatures were loaded from.
#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    /// File name, e.g. `daily.cvd`, `custom.ndb`, `apt_lazarus.yar`.
    pub name: String,
    pub engine: &'static str,
    /// The vendor's version: the CVD version, or a content hash for plain files.
    pub version: String,
    /// When the vendor released it: the CVD build time, else the file's modification time.
    pub released: Option<Timestamp>,
    pub loaded: Timestamp,
}

/// A YARA rule file that did not compile, and why.
#[derive(Debug, Clone, Serialize)]
pub struct RuleFailure {
    pub file: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    pub clamav: LoadStats,
    pub yara_files: usize,
    pub yara_rules: usize,
    pub yara_failures: Vec<RuleFailure>,
    /// Files that could not be read at all.
    pub errors: Vec<String>,
}

pub struct SignatureSet {
    /// Increases by one with every reload of a running store.
    pub version: u64,
    pub loaded: Timestamp,
    pub clamav: ClamDatabase,
    #[cfg(feature = "yara")]
    pub yara: Option<crate::yara::YaraRules>,
    pub sources: Vec<SourceInfo>,
    pub report: LoadReport,
}

impl SignatureSet {
    /// Only the built-in EICAR signature.
    pub fn builtin() -> SignatureSet {
        Self::load(&SignatureConfig::default(), 0)
    }

    /// Loads everything `config` names. Never fails as a whole: unreadable files and
    /// unsupported signatures are listed in the report.
    pub fn load(config: &SignatureConfig, version: u64) -> SignatureSet {
        let now = Timestamp::now();
        let mut clamav = ClamDatabase::new();
        clamav.add_eicar();
        let mut sources = vec![SourceInfo {
            name: "builtin".into(),
            engine: "builtin",
            version: env!("CARGO_PKG_VERSION").into(),
            released: None,
            loaded: now,
        }];
        let mut errors = Vec::new();
        for path in expand(&config.clamav, &mut errors, is_clamav_file) {
            match clamav.load_file(&path) {
                Ok(header) => sources.push(clamav_source(&path, header, now)),
                Err(e) => errors.push(e),
            }
        }
        if let Err(e) = clamav.finish() {
            errors.push(e);
        }
        let mut report = LoadReport { clamav: clamav.stats.clone(), errors, ..Default::default() };
        #[cfg(feature = "yara")]
        let yara = {
            let files =
                expand(&config.yara, &mut report.errors, |p| p.extension().is_some_and(|e| e == "yar" || e == "yara"));
            if files.is_empty() {
                None
            } else {
                let rules = crate::yara::YaraRules::compile(&files);
                report.yara_files = rules.files;
                report.yara_rules = rules.rule_count();
                report.yara_failures = rules.failures.clone();
                sources.extend(files.iter().map(|path| plain_source(path, "yara", now)));
                Some(rules)
            }
        };
        #[cfg(not(feature = "yara"))]
        if !config.yara.is_empty() {
            report.errors.push("this build has no YARA support (feature `yara`)".into());
        }
        SignatureSet {
            version,
            loaded: now,
            clamav,
            #[cfg(feature = "yara")]
            yara,
            sources,
            report,
        }
    }

    /// Sources whose release is older than `max_age` at `now` (the built-in set excepted).
    pub fn stale_sources(&self, now: Timestamp, max_age: std::time::Duration) -> Vec<&SourceInfo> {
        let max_age = jiff::SignedDuration::try_from(max_age).unwrap_or(jiff::SignedDuration::MAX);
        self.sources
            .iter()
            .filter(|s| s.engine != "builtin")
            .filter(|s| s.released.is_some_and(|released| now.duration_since(released) > max_age))
            .collect()
    }
}

fn is_clamav_file(path: &Path) -> bool {
    let ext = path.extension().map_or_else(String::new, |e| e.to_string_lossy().to_lowercase());
    !matches!(ext.as_str(), "yar" | "yara" | "md" | "txt") && !ext.is_empty()
}

/// Files named directly, and files inside directories (recursively), sorted.
fn expand(paths: &[PathBuf], errors: &mut Vec<String>, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_file() {
            out.push(path.clone());
            continue;
        }
        let mut pending = vec![path.clone()];
        while let Some(dir) = pending.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) => {
                    errors.push(format!("cannot read {}: {e}", dir.display()));
                    continue;
                }
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if keep(&path) {
                    out.push(path);
                }
            }
        }
    }
    out.sort();
    out
}

fn clamav_source(path: &Path, header: Option<crate::clamav::CvdHeader>, now: Timestamp) -> SourceInfo {
    match header {
        Some(header) => SourceInfo {
            name: file_name(path),
            engine: "clamav",
            version: header.version.to_string(),
            released: header.build_epoch.and_then(|s| Timestamp::from_second(s).ok()).or_else(|| modified(path)),
            loaded: now,
        },
        None => plain_source(path, "clamav", now),
    }
}

fn plain_source(path: &Path, engine: &'static str, now: Timestamp) -> SourceInfo {
    let version = std::fs::read(path).map(|data| hex::encode(&sha2::Sha256::digest(&data)[..6])).unwrap_or_default();
    SourceInfo { name: file_name(path), engine, version, released: modified(path), loaded: now }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

fn modified(path: &Path) -> Option<Timestamp> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    Timestamp::try_from(modified).ok()
}
