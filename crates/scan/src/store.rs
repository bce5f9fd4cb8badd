//! The live signature set: a snapshot that scans hold on to while a reload builds the next
//! one and swaps it in atomically. Scans never wait for a reload.

use crate::signatures::{SignatureConfig, SignatureSet};
use arc_swap::ArcSwap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub struct SignatureStore {
    config: Mutex<SignatureConfig>,
    current: ArcSwap<SignatureSet>,
    next_version: AtomicU64,
    /// Fingerprint of the signature files taken just before the current snapshot was loaded.
    loaded_fingerprint: AtomicU64,
    /// Only one reload runs at a time; scans are not blocked by it.
    reloading: Mutex<()>,
}

impl SignatureStore {
    /// Loads the first snapshot (version 1).
    pub fn open(config: SignatureConfig) -> SignatureStore {
        let fingerprint = fingerprint_of(&config);
        let first = SignatureSet::load(&config, 1);
        SignatureStore {
            config: Mutex::new(config),
            current: ArcSwap::from_pointee(first),
            next_version: AtomicU64::new(2),
            loaded_fingerprint: AtomicU64::new(fingerprint),
            reloading: Mutex::new(()),
        }
    }

    /// The snapshot to scan with; it stays valid while it is held, whatever reloads happen.
    pub fn snapshot(&self) -> Arc<SignatureSet> {
        self.current.load_full()
    }

    /// Builds a new snapshot from the configured paths and swaps it in.
    pub fn reload(&self) -> Arc<SignatureSet> {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let config = self.config.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let version = self.next_version.fetch_add(1, Ordering::SeqCst);
        self.loaded_fingerprint.store(fingerprint_of(&config), Ordering::SeqCst);
        let next = Arc::new(SignatureSet::load(&config, version));
        self.current.store(next.clone());
        tracing::info!(
            version,
            clamav = next.clamav.len(),
            unsupported = next.report.clamav.unsupported_total(),
            "signatures reloaded"
        );
        next
    }

    /// Changes where signatures come from and reloads.
    pub fn reconfigure(&self, config: SignatureConfig) -> Arc<SignatureSet> {
        *self.config.lock().unwrap_or_else(|e| e.into_inner()) = config;
        self.reload()
    }

    /// A value that changes whenever a signature file is added, removed or modified.
    pub fn fingerprint(&self) -> u64 {
        fingerprint_of(&self.config.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Watches the signature paths and reloads when they change; polls every `interval`
    /// (signature updates arrive at most hourly, so polling costs nothing and needs no
    /// platform-specific watcher). Runs until `stop` is set.
    pub fn watch(self: Arc<Self>, interval: Duration, stop: Arc<std::sync::atomic::AtomicBool>) {
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(interval);
            if self.fingerprint() != self.loaded_fingerprint.load(Ordering::SeqCst) {
                // Let a copy in progress finish before reading the files.
                std::thread::sleep(Duration::from_millis(500));
                self.reload();
            }
        }
    }
}

fn fingerprint_of(config: &SignatureConfig) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    for root in config.clamav.iter().chain(&config.yara) {
        fingerprint_path(root, &mut hasher, 0);
    }
    hasher.finish()
}

fn fingerprint_path(path: &Path, hasher: &mut rustc_hash::FxHasher, depth: u32) {
    let Ok(meta) = std::fs::metadata(path) else { return };
    path.hash(hasher);
    meta.len().hash(hasher);
    if let Ok(modified) = meta.modified() {
        modified.hash(hasher);
    }
    if meta.is_dir() && depth < 8 {
        let mut entries: Vec<_> = std::fs::read_dir(path).into_iter().flatten().flatten().map(|e| e.path()).collect();
        entries.sort();
        for entry in entries {
            fingerprint_path(&entry, hasher, depth + 1);
        }
    }
}
