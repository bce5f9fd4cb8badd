//! The cold tier: each tenant's events of each day in compressed columnar segments
//! (`mamori_archive`), listed in a hash-chained manifest. Searched by scanning.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use jiff::Timestamp;
use jiff::civil::Date;
use mamori_archive::manifest::{Record, SegmentRecord, WatermarkRecord};
use mamori_archive::{Manifest, SegmentMeta, SegmentReader, SegmentWriter, VerifyReport};
use mamori_query::{Accumulator, AggPartial, Aggregation, CompiledQuery, Query};
use serde_json::Value;

use crate::error::LogError;
use crate::hot::HotStore;

const F_TIMESTAMP: &str = "@timestamp";
use crate::retention::RetentionPolicy;
use crate::search::TenantScope;

/// What scanning the archive contributed to a search.
pub struct ColdHits {
    pub total: u64,
    pub events: Vec<(i64, Value)>,
    pub partials: Vec<AggPartial>,
    pub segments: usize,
    pub scanned: u64,
}

/// What archiving one day did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ArchivedDay {
    pub day: String,
    pub segments: usize,
    pub events: u64,
    pub bytes: u64,
}

pub struct ColdStore {
    dir: PathBuf,
    level: i32,
    manifest: Mutex<Manifest>,
}

impl ColdStore {
    pub fn open(dir: &Path, level: i32) -> Result<ColdStore, LogError> {
        std::fs::create_dir_all(dir).map_err(|e| LogError::io(dir, e))?;
        let manifest = Manifest::open(dir).map_err(|e| LogError::archive(dir, e.to_string()))?;
        Ok(ColdStore { dir: dir.to_path_buf(), level, manifest: Mutex::new(manifest) })
    }

    fn manifest(&self) -> std::sync::MutexGuard<'_, Manifest> {
        self.manifest.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens the archive without its write lock, for a process that only searches and
    /// verifies while a server writes.
    pub fn open_read_only(dir: &Path) -> Result<ColdStore, LogError> {
        let manifest = Manifest::read(dir).map_err(|e| LogError::archive(dir, e.to_string()))?;
        Ok(ColdStore { dir: dir.to_path_buf(), level: 0, manifest: Mutex::new(manifest) })
    }

    /// Everything of `day` up to this WAL position is archived.
    pub fn watermark(&self, day: Date) -> u64 {
        self.manifest().watermark(&day.to_string()).unwrap_or(0)
    }

    /// Scans the live segments overlapping `[from, to)` that the hot tier does not hold.
    #[allow(clippy::too_many_arguments)]
    pub fn scan(
        &self,
        query: &Query,
        from: Timestamp,
        to: Timestamp,
        scope: &TenantScope,
        limit: usize,
        oldest_first: bool,
        aggs: &[Aggregation],
        covered: &dyn Fn(Date, &str, u64) -> bool,
    ) -> Result<ColdHits, LogError> {
        let (lo, hi) = (from.as_microsecond(), to.as_microsecond());
        let segments: Vec<SegmentRecord> = self
            .manifest()
            .live_segments()
            .into_iter()
            .map(|(_, s)| s.clone())
            .filter(|s| scope.allows(&s.tenant) && s.min_ts < hi && s.max_ts >= lo)
            .filter(|s| s.day.parse::<Date>().is_ok_and(|d| !covered(d, &s.tenant, s.lsn_from)))
            .collect();
        let compiled = CompiledQuery::new(query);
        let mut acc = Accumulator::new(aggs);
        let mut top = TopK::new(limit, oldest_first);
        let (mut total, mut scanned) = (0u64, 0u64);
        for seg in &segments {
            let path = self.dir.join(&seg.file);
            let reader = SegmentReader::open(&path).map_err(|e| LogError::archive(&path, e.to_string()))?;
            for (i, block) in reader.blocks().iter().enumerate() {
                if block.min_ts >= hi || block.max_ts < lo {
                    continue;
                }
                for event in reader.read_block(i).map_err(|e| LogError::archive(&path, e.to_string()))? {
                    scanned += 1;
                    let Some(ts) = event_micros(&event) else { continue };
                    if ts < lo || ts >= hi || !compiled.matches(&event) {
                        continue;
                    }
                    total += 1;
                    acc.add(&event);
                    top.push(ts, event);
                }
            }
        }
        Ok(ColdHits { total, events: top.into_vec(), partials: acc.into_partials(), segments: segments.len(), scanned })
    }

    /// Archives the events of `day` indexed after the day's watermark and up to `upto_lsn`
    /// (everything committed): one segment per tenant, then a new watermark.
    pub fn archive_day(&self, hot: &HotStore, day: Date, upto_lsn: u64) -> Result<ArchivedDay, LogError> {
        let mut report = ArchivedDay { day: day.to_string(), ..Default::default() };
        let from_lsn = self.watermark(day);
        if from_lsn >= upto_lsn {
            return Ok(report);
        }
        let Some(partition) = hot.get(day) else { return Ok(report) };
        let mut writers: BTreeMap<String, SegmentWriter> = BTreeMap::new();
        for block in partition.blocks().iter() {
            if block.max_lsn <= from_lsn || block.min_lsn > upto_lsn {
                continue;
            }
            let sources = block.sources().map_err(|e| LogError::index(&partition.dir, e))?;
            for row in 0..block.rows() {
                let lsn = block.lsn(row);
                if lsn <= from_lsn || lsn > upto_lsn {
                    continue;
                }
                let Ok(event) = serde_json::from_slice::<Value>(&sources.json(row)) else { continue };
                self.archive_event(&mut writers, day, event)?;
            }
        }
        let mut manifest = self.manifest();
        for (tenant, w) in writers {
            let info = w.finish().map_err(|e| LogError::archive(&self.dir, e.to_string()))?;
            manifest
                .add_segment(&info, &tenant, &day.to_string(), from_lsn + 1, upto_lsn)
                .map_err(|e| LogError::archive(&self.dir, e.to_string()))?;
            report.segments += 1;
            report.events += info.events;
            report.bytes += info.bytes;
        }
        manifest
            .append(Record::Watermark(WatermarkRecord { day: day.to_string(), lsn: upto_lsn }))
            .map_err(|e| LogError::archive(&self.dir, e.to_string()))?;
        Ok(report)
    }

    /// Adds one event to its tenant's segment of `day`, starting the segment when needed.
    fn archive_event(
        &self,
        writers: &mut BTreeMap<String, SegmentWriter>,
        day: Date,
        event: Value,
    ) -> Result<(), LogError> {
        let tenant = event
            .pointer("/organization/id")
            .and_then(Value::as_str)
            .unwrap_or(mamori_core::tenant::UNASSIGNED)
            .to_string();
        let ts = event_micros(&event).unwrap_or(0);
        if !writers.contains_key(&tenant) {
            let rel = self
                .manifest()
                .new_segment_path(&tenant, &day.to_string())
                .map_err(|e| LogError::archive(&self.dir, e.to_string()))?;
            let path = self.dir.join(rel);
            let meta = SegmentMeta { tenant: tenant.clone(), day: day.to_string(), level: self.level };
            let w = SegmentWriter::create(&path, meta).map_err(|e| LogError::archive(&path, e.to_string()))?;
            writers.insert(tenant.clone(), w);
        }
        let w = writers.get_mut(&tenant).expect("inserted above");
        w.push(event, ts).map_err(|e| LogError::archive(&self.dir, e.to_string()))
    }

    /// Deletes segments past their tenant's archive retention, recording each in the manifest.
    pub fn expire(&self, policy: &RetentionPolicy, now: Timestamp) -> Result<Vec<String>, LogError> {
        let mut manifest = self.manifest();
        let due: Vec<(u64, SegmentRecord)> = manifest
            .live_segments()
            .into_iter()
            .filter(|(_, s)| s.day.parse::<Date>().is_ok_and(|d| d < policy.archive_since(&s.tenant, now)))
            .map(|(e, s)| (e.seq, s.clone()))
            .collect();
        let mut expired = Vec::new();
        for (seq, seg) in due {
            let reason = format!("archive retention of {} years for {}", policy.archive_years(&seg.tenant), seg.tenant);
            manifest.expire(seq, &reason).map_err(|e| LogError::archive(&self.dir, e.to_string()))?;
            expired.push(seg.file);
        }
        Ok(expired)
    }

    pub fn verify(&self) -> Result<VerifyReport, LogError> {
        mamori_archive::verify(&self.dir).map_err(|e| LogError::archive(&self.dir, e.to_string()))
    }

    /// Live segments and their bytes on disk.
    pub fn usage(&self) -> (usize, u64, u64) {
        let m = self.manifest();
        let segs = m.live_segments();
        (segs.len(), segs.iter().map(|(_, s)| s.bytes).sum(), segs.iter().map(|(_, s)| s.events).sum())
    }

    pub fn head(&self) -> String {
        self.manifest().head().to_string()
    }
}

fn event_micros(event: &Value) -> Option<i64> {
    mamori_query::time::event_time(event.get(F_TIMESTAMP)?).map(|t| t.as_microsecond())
}

/// The best `limit` events by time, newest (or oldest) first.
struct TopK {
    limit: usize,
    oldest_first: bool,
    heap: BinaryHeap<(Reverse<i64>, u64)>,
    newest: BinaryHeap<(i64, u64)>,
    events: std::collections::HashMap<u64, Value>,
    seq: u64,
}

impl TopK {
    fn new(limit: usize, oldest_first: bool) -> Self {
        TopK {
            limit,
            oldest_first,
            heap: BinaryHeap::new(),
            newest: BinaryHeap::new(),
            events: Default::default(),
            seq: 0,
        }
    }

    fn push(&mut self, ts: i64, event: Value) {
        if self.limit == 0 {
            return;
        }
        self.seq += 1;
        let id = self.seq;
        if self.oldest_first {
            // Keep the smallest timestamps: a max-heap whose top is evicted.
            self.newest.push((ts, id));
            self.events.insert(id, event);
            if self.newest.len() > self.limit
                && let Some((_, out)) = self.newest.pop()
            {
                self.events.remove(&out);
            }
        } else {
            self.heap.push((Reverse(ts), id));
            self.events.insert(id, event);
            if self.heap.len() > self.limit
                && let Some((_, out)) = self.heap.pop()
            {
                self.events.remove(&out);
            }
        }
    }

    fn into_vec(mut self) -> Vec<(i64, Value)> {
        let ids: Vec<(i64, u64)> = if self.oldest_first {
            self.newest.into_vec()
        } else {
            self.heap.into_vec().into_iter().map(|(Reverse(t), id)| (t, id)).collect()
        };
        ids.into_iter().filter_map(|(t, id)| self.events.remove(&id).map(|e| (t, e))).collect()
    }
}
