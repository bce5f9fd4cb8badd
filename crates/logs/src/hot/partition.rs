//! One day of events: a tantivy index in `hot/YYYY-MM-DD/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use jiff::civil::Date;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument};

use super::schema::{Fields, TEXT_TOKENIZER};
use super::tokenizer::MamoriTokenizer;
use crate::error::LogError;

/// What the indexer records with each commit of a partition: the WAL position it reflects, so
/// that a restart re-indexes exactly what the partition is missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommitPayload {
    pub lsn: u64,
}

/// An open partition, readable by searches.
pub struct Partition {
    pub day: Date,
    pub dir: PathBuf,
    pub index: Index,
    pub reader: IndexReader,
    /// Tenants whose events were removed from this partition by their shorter hot retention;
    /// searches read those tenants' events of this day from the archive.
    expired: RwLock<BTreeSet<String>>,
}

const EXPIRED_FILE: &str = "expired_tenants.json";

pub fn partition_dir(root: &Path, day: Date) -> PathBuf {
    root.join(day.strftime("%Y-%m-%d").to_string())
}

pub fn parse_partition_name(name: &str) -> Option<Date> {
    if name.len() != 10 {
        return None;
    }
    name.parse().ok()
}

impl Partition {
    /// Opens the partition of `day`, creating it when `create` is set.
    pub fn open(root: &Path, day: Date, fields: &Fields, create: bool) -> Result<Option<Partition>, LogError> {
        let dir = partition_dir(root, day);
        let exists = dir.join("meta.json").exists();
        if !exists && !create {
            return Ok(None);
        }
        let index = if exists {
            Index::open_in_dir(&dir).map_err(|e| LogError::index(&dir, e))?
        } else {
            std::fs::create_dir_all(&dir).map_err(|e| LogError::io(&dir, e))?;
            Index::create_in_dir(&dir, fields.schema.clone()).map_err(|e| LogError::index(&dir, e))?
        };
        index.tokenizers().register(TEXT_TOKENIZER, MamoriTokenizer::default());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| LogError::index(&dir, e))?;
        let expired = match std::fs::read(dir.join(EXPIRED_FILE)) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| LogError::index(&dir, format!("{EXPIRED_FILE}: {e}")))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
            Err(e) => return Err(LogError::io(&dir.join(EXPIRED_FILE), e)),
        };
        Ok(Some(Partition { day, dir, index, reader, expired: RwLock::new(expired) }))
    }

    /// The WAL position of the last commit.
    pub fn committed(&self) -> Result<CommitPayload, LogError> {
        let metas = self.index.load_metas().map_err(|e| LogError::index(&self.dir, e))?;
        Ok(metas.payload.as_deref().and_then(|p| serde_json::from_str(p).ok()).unwrap_or_default())
    }

    pub fn writer(&self, threads: usize, memory_bytes: usize) -> Result<IndexWriter<TantivyDocument>, LogError> {
        self.index
            .writer_with_num_threads(threads.max(1), memory_bytes.max(15 << 20) * threads.max(1))
            .map_err(|e| LogError::index(&self.dir, e))
    }

    /// Makes the latest commit visible to searches.
    pub fn refresh(&self) -> Result<(), LogError> {
        self.reader.reload().map_err(|e| LogError::index(&self.dir, e))
    }

    /// Whether this partition still holds `tenant`'s events.
    pub fn holds(&self, tenant: &str) -> bool {
        !self.expired.read().unwrap_or_else(|e| e.into_inner()).contains(tenant)
    }

    pub fn expired_tenants(&self) -> BTreeSet<String> {
        self.expired.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records (durably) that `tenant`'s events were deleted from this partition.
    pub fn mark_expired(&self, tenant: &str) -> Result<(), LogError> {
        let mut set = self.expired.write().unwrap_or_else(|e| e.into_inner());
        set.insert(tenant.to_string());
        let path = self.dir.join(EXPIRED_FILE);
        let tmp = self.dir.join(format!("{EXPIRED_FILE}.tmp"));
        let body = serde_json::to_vec(&*set).expect("serializes");
        (|| -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&body)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        })()
        .map_err(|e| LogError::io(&path, e))
    }

    /// The smallest WAL position indexed here.
    pub fn min_lsn(&self) -> Option<u64> {
        let searcher = self.reader.searcher();
        searcher
            .segment_readers()
            .iter()
            .filter_map(|s| s.fast_fields().u64(super::schema::F_LSN).ok())
            .filter(|c| c.num_docs() > 0)
            .map(|c| c.min_value())
            .min()
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

/// The days that have a partition under `root`, oldest first.
pub fn list_days(root: &Path) -> Vec<Date> {
    let mut days: Vec<Date> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("meta.json").exists())
        .filter_map(|e| e.file_name().to_str().and_then(parse_partition_name))
        .collect();
    days.sort();
    days
}
