//! One day of events in `hot/YYYY-MM-DD/`: immutable block files and a `meta.json` that lists
//! them with the WAL position they reflect. A block file not listed (a crash between writing it
//! and the meta) is deleted on open.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::block::{Block, BlockBuilder};
use crate::error::LogError;

/// What the indexer records with each commit of a partition: the WAL position it reflects, so
/// that a restart re-indexes exactly what the partition is missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitPayload {
    pub lsn: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Meta {
    lsn: u64,
    /// Block files in order of their events.
    blocks: Vec<String>,
    /// The number the next block file gets.
    next: u64,
    /// The smallest WAL position ever indexed here; kept when events are deleted, so that the
    /// archive's older segments of this day are known to be covered.
    #[serde(default)]
    first_lsn: Option<u64>,
}

const META_FILE: &str = "meta.json";
const EXPIRED_FILE: &str = "expired_tenants.json";

/// An open partition, readable by searches.
pub struct Partition {
    pub day: Date,
    pub dir: PathBuf,
    state: RwLock<State>,
    /// Tenants whose events were removed from this partition by their shorter hot retention;
    /// searches read those tenants' events of this day from the archive.
    expired: RwLock<BTreeSet<String>>,
}

struct State {
    meta: Meta,
    blocks: Arc<Vec<Arc<Block>>>,
}

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
    pub fn open(root: &Path, day: Date, create: bool) -> Result<Option<Partition>, LogError> {
        let dir = partition_dir(root, day);
        if !dir.join(META_FILE).exists() {
            if !create {
                return Ok(None);
            }
            std::fs::create_dir_all(&dir).map_err(|e| LogError::io(&dir, e))?;
            write_atomic(&dir.join(META_FILE), &serde_json::to_vec(&Meta::default()).expect("serializes"))?;
        }
        let expired = match std::fs::read(dir.join(EXPIRED_FILE)) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| LogError::index(&dir, format!("{EXPIRED_FILE}: {e}")))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
            Err(e) => return Err(LogError::io(&dir.join(EXPIRED_FILE), e)),
        };
        let p = Partition {
            day,
            dir,
            state: RwLock::new(State { meta: Meta::default(), blocks: Arc::new(Vec::new()) }),
            expired: RwLock::new(expired),
        };
        p.refresh()?;
        Ok(Some(p))
    }

    /// Reloads the list of blocks from disk (for a reader beside a writing server). A block
    /// can vanish between reading the meta and opening it (the writer merged it): read again.
    pub fn refresh(&self) -> Result<(), LogError> {
        let mut tries = 0;
        loop {
            match self.try_refresh() {
                Err(LogError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound && tries < 5 => {
                    tries += 1;
                }
                other => return other,
            }
        }
    }

    fn try_refresh(&self) -> Result<(), LogError> {
        let path = self.dir.join(META_FILE);
        let body = std::fs::read(&path).map_err(|e| LogError::io(&path, e))?;
        let meta: Meta =
            serde_json::from_slice(&body).map_err(|e| LogError::index(&self.dir, format!("{META_FILE}: {e}")))?;
        let current = self.state.read().unwrap_or_else(|e| e.into_inner());
        if current.meta.blocks == meta.blocks && current.meta.lsn == meta.lsn && !current.meta.blocks.is_empty() {
            return Ok(());
        }
        let mut blocks = Vec::with_capacity(meta.blocks.len());
        for name in &meta.blocks {
            match current.meta.blocks.iter().position(|b| b == name) {
                Some(i) => blocks.push(current.blocks[i].clone()),
                None => blocks.push(Arc::new(self.load(name)?)),
            }
        }
        drop(current);
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = State { meta, blocks: Arc::new(blocks) };
        Ok(())
    }

    fn load(&self, name: &str) -> Result<Block, LogError> {
        let path = self.dir.join(name);
        let file = std::fs::File::open(&path).map_err(|e| LogError::io(&path, e))?;
        // SAFETY: block files are written once (to a temporary name, then renamed) and never
        // modified in place; they are only deleted, which keeps an existing map valid.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| LogError::io(&path, e))?;
        Block::open_unverified(Arc::new(map)).map_err(|e| LogError::index(&path, e))
    }

    /// The blocks as of now; a search works on this snapshot while the indexer goes on.
    pub fn blocks(&self) -> Arc<Vec<Arc<Block>>> {
        self.state.read().unwrap_or_else(|e| e.into_inner()).blocks.clone()
    }

    /// The WAL position of the last commit.
    pub fn committed(&self) -> Result<CommitPayload, LogError> {
        Ok(CommitPayload { lsn: self.state.read().unwrap_or_else(|e| e.into_inner()).meta.lsn })
    }

    /// Writes the builder's events as a new block and records `lsn` as committed. Only the
    /// indexer calls this.
    pub fn append(&self, builder: &mut BlockBuilder, lsn: u64) -> Result<(), LogError> {
        let mut meta = self.state.read().unwrap_or_else(|e| e.into_inner()).meta.clone();
        let mut added = Vec::new();
        if !builder.is_empty() {
            let (name, block) = self.write_block(&mut meta, builder)?;
            meta.first_lsn = Some(meta.first_lsn.map_or(block.min_lsn, |f| f.min(block.min_lsn)));
            added.push((name, block));
        }
        meta.lsn = meta.lsn.max(lsn);
        self.install(meta, added, &[])
    }

    /// Replaces the blocks `old` (consecutive, in order) by those the builders make.
    pub fn replace(&self, old: &[String], builders: Vec<BlockBuilder>) -> Result<(), LogError> {
        let mut meta = self.state.read().unwrap_or_else(|e| e.into_inner()).meta.clone();
        let mut added = Vec::new();
        for mut b in builders.into_iter().filter(|b| !b.is_empty()) {
            added.push(self.write_block(&mut meta, &mut b)?);
        }
        self.install(meta, added, old)
    }

    /// The file names of the current blocks.
    pub fn block_names(&self) -> Vec<String> {
        self.state.read().unwrap_or_else(|e| e.into_inner()).meta.blocks.clone()
    }

    fn write_block(&self, meta: &mut Meta, builder: &mut BlockBuilder) -> Result<(String, Arc<Block>), LogError> {
        let name = format!("{:08}.blk", meta.next);
        meta.next += 1;
        write_atomic(&self.dir.join(&name), builder.finish())?;
        // Served from the file (the page cache), not from a copy in memory.
        Ok((name.clone(), Arc::new(self.load(&name)?)))
    }

    /// Publishes new blocks (appended, or in place of `old`) with the meta that lists them.
    fn install(&self, mut meta: Meta, added: Vec<(String, Arc<Block>)>, old: &[String]) -> Result<(), LogError> {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        let mut names = state.meta.blocks.clone();
        let mut blocks: Vec<Arc<Block>> = state.blocks.as_ref().clone();
        drop(state);
        let at = match old.first().and_then(|f| names.iter().position(|n| n == f)) {
            Some(i) => {
                names.drain(i..i + old.len());
                blocks.drain(i..i + old.len());
                i
            }
            None => names.len(),
        };
        for (k, (name, block)) in added.into_iter().enumerate() {
            names.insert(at + k, name);
            blocks.insert(at + k, block);
        }
        meta.blocks = names;
        write_atomic(&self.dir.join(META_FILE), &serde_json::to_vec(&meta).expect("serializes"))?;
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = State { meta, blocks: Arc::new(blocks) };
        for name in old {
            let _ = std::fs::remove_file(self.dir.join(name));
        }
        Ok(())
    }

    /// Deletes block files no meta lists (left by a crash).
    pub fn remove_strays(&self) {
        let listed = self.block_names();
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if (name.ends_with(".blk") || name.ends_with(".tmp")) && !listed.contains(&name) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
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
        write_atomic(&self.dir.join(EXPIRED_FILE), &serde_json::to_vec(&*set).expect("serializes"))
    }

    /// The smallest WAL position indexed here (deleted events included).
    pub fn min_lsn(&self) -> Option<u64> {
        let first = self.state.read().unwrap_or_else(|e| e.into_inner()).meta.first_lsn;
        first.or_else(|| self.blocks().iter().filter(|b| b.rows() > 0).map(|b| b.min_lsn).min())
    }

    /// The largest WAL position indexed here.
    pub fn max_lsn(&self) -> Option<u64> {
        self.blocks().iter().filter(|b| b.rows() > 0).map(|b| b.max_lsn).max()
    }

    /// The real time span of the events (microseconds), if any has a time.
    pub fn time_span(&self) -> Option<(i64, i64)> {
        let blocks = self.blocks();
        let lo = blocks.iter().map(|b| b.min_ts).min()?;
        let hi = blocks.iter().map(|b| b.max_ts).max()?;
        (lo <= hi).then_some((lo, hi))
    }

    pub fn num_docs(&self) -> u64 {
        self.blocks().iter().map(|b| b.rows() as u64).sum()
    }

    /// The tenants with events here (from the tenant column's dictionaries).
    pub fn tenants(&self) -> Result<BTreeSet<String>, LogError> {
        let mut out = BTreeSet::new();
        for b in self.blocks().iter() {
            if let Some(col) = b.column(super::TENANT_FIELD).map_err(|e| LogError::index(&self.dir, e))? {
                for v in col.dict().map_err(|e| LogError::index(&self.dir, e))? {
                    if let mamori_query::ValueRef::Str(s) = v {
                        out.insert(s.to_string());
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Writes a file atomically and durably: a temporary file, fsync, rename, fsync of the directory.
fn write_atomic(path: &Path, body: &[u8]) -> Result<(), LogError> {
    let tmp = path.with_extension("tmp");
    (|| -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(body)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })()
    .map_err(|e| LogError::io(path, e))
}

/// The days that have a partition under `root`, oldest first.
pub fn list_days(root: &Path) -> Vec<Date> {
    let mut days: Vec<Date> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join(META_FILE).exists())
        .filter_map(|e| e.file_name().to_str().and_then(parse_partition_name))
        .collect();
    days.sort();
    days
}
