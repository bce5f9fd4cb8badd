//! A set of compiled rules, indexed by log source so that an event is checked only against the
//! rules that can match it (a Sysmon process creation against process_creation rules, not the
//! 2,000 others).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use serde_json::Value as Json;

use crate::compiled::{CompileOptions, CompiledRule};
use crate::correlation::CorrelationRule;
use crate::error::{CompileError, RuleFileError};
use crate::event::FieldPath;
use crate::pipeline::{Pipeline, Scope};
use crate::prefilter::{Prefilter, variant_need};
use crate::rule::{RuleDoc, parse_documents};

/// (rule, variant) pairs, with their prefilter (built on first use, after the last rule).
#[derive(Default, Debug)]
struct Refs {
    refs: Vec<(u32, u16)>,
    prefilter: OnceLock<Prefilter>,
}

impl Refs {
    fn push(&mut self, r: (u32, u16)) {
        self.refs.push(r);
        self.prefilter = OnceLock::new();
    }

    fn len(&self) -> usize {
        self.refs.len()
    }

    fn prefilter(&self, rules: &[CompiledRule]) -> &Prefilter {
        self.prefilter.get_or_init(|| {
            Prefilter::build(self.refs.iter().map(|&(r, v)| variant_need(&rules[r as usize].variants[v as usize])))
        })
    }
}

#[derive(Default, Debug)]
struct ChannelIndex {
    any_event: Refs,
    by_event_id: FxHashMap<u64, Refs>,
}

#[derive(Default, Debug)]
struct Index {
    /// Rules for every Windows event (product windows alone).
    windows_any: Refs,
    /// By lower-cased channel.
    by_channel: FxHashMap<String, ChannelIndex>,
    /// Category rules whose service has no channel: by event ID over every channel.
    any_channel_by_event_id: FxHashMap<u64, Refs>,
    /// By dataset (an event's dataset or its parent).
    by_dataset: FxHashMap<String, Refs>,
}

impl Index {
    fn buckets(&self) -> impl Iterator<Item = &Refs> {
        let channels =
            self.by_channel.values().flat_map(|c| std::iter::once(&c.any_event).chain(c.by_event_id.values()));
        std::iter::once(&self.windows_any)
            .chain(self.any_channel_by_event_id.values())
            .chain(channels)
            .chain(self.by_dataset.values())
    }
}

/// Rules loaded from files, compiled and indexed.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<CompiledRule>,
    pub correlations: Vec<CorrelationRule>,
    /// Rule files or documents that failed, with the reason.
    pub failures: Vec<RuleFileError>,
    /// Rule documents read (detections and correlations, compiled or not).
    pub documents: usize,
    index: Index,
}

static CHANNEL: std::sync::LazyLock<FieldPath> = std::sync::LazyLock::new(|| FieldPath::new("winlog.channel"));
static EVENT_ID: std::sync::LazyLock<FieldPath> = std::sync::LazyLock::new(|| FieldPath::new("winlog.event_id"));
static DATASET: std::sync::LazyLock<FieldPath> = std::sync::LazyLock::new(|| FieldPath::new("event.dataset"));

impl RuleSet {
    /// Loads every `.yml`/`.yaml` file under the paths (directories recursively, in name order).
    pub fn load(paths: &[PathBuf], pipeline: &Pipeline, options: &CompileOptions) -> RuleSet {
        let mut set = RuleSet::default();
        let mut files = Vec::new();
        for p in paths {
            collect_files(p, &mut files, &mut set.failures);
        }
        for f in files {
            match std::fs::read_to_string(&f) {
                Ok(text) => set.add_text(&f, &text, pipeline, options),
                Err(e) => set
                    .failures
                    .push(RuleFileError { path: f, error: CompileError::Invalid(format!("cannot read: {e}")) }),
            }
        }
        set.finish();
        set
    }

    /// Compiles the rules of one file's text (call [`RuleSet::finish`] after the last).
    pub fn add_text(&mut self, path: &Path, text: &str, pipeline: &Pipeline, options: &CompileOptions) {
        for doc in parse_documents(text) {
            self.documents += 1;
            let fail = |error| RuleFileError { path: path.to_path_buf(), error };
            match doc {
                Ok(RuleDoc::Detection { meta, logsource, detection }) => {
                    match CompiledRule::compile(meta, logsource, &detection, pipeline, options) {
                        Ok(rule) => self.push(rule),
                        Err(e) => self.failures.push(fail(e)),
                    }
                }
                Ok(RuleDoc::Correlation { meta, correlation }) => match CorrelationRule::compile(meta, &correlation) {
                    Ok(c) => self.correlations.push(c),
                    Err(e) => self.failures.push(fail(e)),
                },
                Err(e) => self.failures.push(fail(e)),
            }
        }
    }

    fn push(&mut self, rule: CompiledRule) {
        let r = self.rules.len() as u32;
        for (v, variant) in rule.variants.iter().enumerate() {
            let refs = (r, v as u16);
            // The event IDs the rule itself requires narrow the index further.
            let Some(event_ids) = rule.event_ids(v) else { continue };
            let event_ids = &event_ids;
            match &variant.target.scope {
                Scope::Windows { channels, .. } if channels.is_empty() && event_ids.is_empty() => {
                    self.index.windows_any.push(refs)
                }
                Scope::Windows { channels, .. } if channels.is_empty() => {
                    for id in event_ids {
                        self.index.any_channel_by_event_id.entry(*id).or_default().push(refs);
                    }
                }
                Scope::Windows { channels, .. } => {
                    for c in channels {
                        let ci = self.index.by_channel.entry(c.to_lowercase()).or_default();
                        if event_ids.is_empty() {
                            ci.any_event.push(refs);
                        }
                        for id in event_ids {
                            ci.by_event_id.entry(*id).or_default().push(refs);
                        }
                    }
                }
                Scope::Datasets(ds) => {
                    for d in ds {
                        self.index.by_dataset.entry(d.clone()).or_default().push(refs);
                    }
                }
            }
        }
        self.rules.push(rule);
    }

    /// Resolves correlation rules' references (after the last file).
    pub fn finish(&mut self) {
        let rules = &self.rules;
        let mut failures = Vec::new();
        self.correlations.retain_mut(|c| match c.resolve(rules) {
            Ok(()) => true,
            Err(e) => {
                failures.push(RuleFileError { path: PathBuf::from(c.meta.title.clone()), error: e });
                false
            }
        });
        self.failures.extend(failures);
        // The prefilters now rather than on the first event.
        for refs in self.index.buckets() {
            refs.prefilter(&self.rules);
        }
    }

    /// How many rule variants each part of the index holds (for tuning).
    pub fn index_summary(&self) -> String {
        let channel_any: usize = self.index.by_channel.values().map(|c| c.any_event.len()).sum();
        let channel_ids: usize =
            self.index.by_channel.values().flat_map(|c| c.by_event_id.values()).map(Refs::len).sum();
        format!(
            "every Windows event: {}; by event ID over every channel: {}; by channel, any ID: {channel_any}; by channel and ID: {channel_ids}; by dataset: {}",
            self.index.windows_any.len(),
            self.index.any_channel_by_event_id.values().map(Refs::len).sum::<usize>(),
            self.index.by_dataset.values().map(Refs::len).sum::<usize>()
        )
    }

    /// Rules that compiled but have no log source among mamori's events.
    pub fn unmapped(&self) -> impl Iterator<Item = &CompiledRule> {
        self.rules.iter().filter(|r| r.unmapped.is_some())
    }

    /// Calls `on_match` with the index of every rule the event matches.
    pub fn for_each_match(&self, event: &Json, on_match: impl FnMut(usize)) {
        self.for_each_match_with(event, true, on_match)
    }

    /// As [`RuleSet::for_each_match`] evaluating every rule of the event's buckets, without the
    /// prefilter (to check that the prefilter changes no answer).
    pub fn for_each_match_unfiltered(&self, event: &Json, on_match: impl FnMut(usize)) {
        self.for_each_match_with(event, false, on_match)
    }

    fn for_each_match_with(&self, event: &Json, prefilter: bool, mut on_match: impl FnMut(usize)) {
        thread_local! {
            static CANDIDATES: RefCell<Vec<bool>> = const { RefCell::new(Vec::new()) };
        }
        let view = crate::event::EventView::new(event);
        let mut check = |refs: &Refs| {
            if !prefilter {
                for &(r, v) in &refs.refs {
                    if self.rules[r as usize].matches_variant_in(v as usize, &view) {
                        on_match(r as usize);
                    }
                }
                return;
            }
            // Taken, not borrowed: `on_match` may evaluate another event.
            let mut candidates = CANDIDATES.take();
            refs.prefilter(&self.rules).candidates(&view, &mut candidates);
            for (&(r, v), _) in refs.refs.iter().zip(candidates.iter()).filter(|(_, c)| **c) {
                if self.rules[r as usize].matches_variant_in(v as usize, &view) {
                    on_match(r as usize);
                }
            }
            CANDIDATES.set(candidates);
        };
        if let Some(channel) = CHANNEL.lookup(event).and_then(Json::as_str) {
            check(&self.index.windows_any);
            let id = EVENT_ID.lookup(event).and_then(|v| match v {
                Json::Number(n) => n.as_u64(),
                Json::String(s) => s.parse().ok(),
                _ => None,
            });
            if let Some(id) = id
                && let Some(refs) = self.index.any_channel_by_event_id.get(&id)
            {
                check(refs);
            }
            let key = channel.to_lowercase();
            if let Some(ci) = self.index.by_channel.get(&key) {
                check(&ci.any_event);
                if let Some(refs) = id.and_then(|id| ci.by_event_id.get(&id)) {
                    check(refs);
                }
            }
        }
        if let Some(mut dataset) = DATASET.lookup(event).and_then(Json::as_str) {
            loop {
                if let Some(refs) = self.index.by_dataset.get(dataset) {
                    check(refs);
                }
                match dataset.rsplit_once('.') {
                    Some((parent, _)) => dataset = parent,
                    None => break,
                }
            }
        }
    }

    /// The indices of the rules the event matches.
    pub fn matches(&self, event: &Json) -> Vec<usize> {
        let mut out = Vec::new();
        self.for_each_match(event, |r| out.push(r));
        out
    }
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>, failures: &mut Vec<RuleFileError>) {
    if path.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) => {
            failures.push(RuleFileError {
                path: path.to_path_buf(),
                error: CompileError::Invalid(format!("cannot read: {e}")),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect_files(&p, out, failures);
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(p);
        }
    }
}
