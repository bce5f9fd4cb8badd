//! ClamAV signature databases: hash (`.hdb`, `.hsb`, `.mdb`, `.msb`), body (`.ndb`) and
//! logical (`.ldb`: hex, PCRE and byte-compare subsignatures) signatures, allow lists
//! (`.fp`, `.sfp`, `.ign`, `.ign2`), loaded from files, directories or `.cvd`/`.cld`
//! containers. Body patterns are found through one Aho-Corasick automaton over each
//! pattern's longest exact run, then verified.

mod bytecmp;
mod hashes;
mod load;
mod logical;
mod offset;
pub mod pattern;
mod pcre;
pub(crate) mod pe;

pub use load::{CvdHeader, LoadStats};

use crate::filetype::FileType;
use aho_corasick::AhoCorasick;
use hashes::HashSignatures;
use logical::{Expr, HexSub, SubSig};
use offset::Offset;
use pattern::Pattern;
use pe::PeInfo;
use rustc_hash::FxHashSet;
use std::collections::BTreeSet;

/// The 68-byte EICAR test file, split so that this source file is not itself detected.
pub const EICAR: &str = concat!(r"X5O!P%@AP[4\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");

struct BodySig {
    name: u32,
    target: u32,
    offset: Offset,
    pattern: Pattern,
}

struct LogicalSig {
    name: u32,
    target: Option<u32>,
    description: logical::TargetDescription,
    expr: Expr,
    subsigs: Vec<SubSig>,
    /// Whether any subsignature is PCRE or byte-compare (evaluated after the hex ones).
    staged: bool,
}

/// Which pattern an anchor belongs to.
#[derive(Clone, Copy)]
enum PatternRef {
    Body(u32),
    /// A subsignature of this logical signature.
    Sub(u32),
}

/// Shortest anchor worth an automaton entry; shorter patterns are checked on every object.
const MIN_ANCHOR: usize = 2;
/// Longest anchor: a few bytes select candidates as well as many (each candidate is verified
/// anyway) and keep the automaton small.
const MAX_ANCHOR: usize = 12;

#[derive(Default)]
pub struct ClamDatabase {
    /// Every signature name, one after another; `name_ends[i]` ends name `i`.
    names: String,
    name_ends: Vec<u32>,
    hashes: HashSignatures,
    allow: HashSignatures,
    ignored_names: FxHashSet<Box<str>>,
    body: Vec<BodySig>,
    logical: Vec<LogicalSig>,
    automaton: Option<AhoCorasick>,
    /// The patterns of each automaton anchor, grouped by anchor: anchor `i`'s end at
    /// `anchor_owner_ends[i]`. Two flat arrays, not a list per anchor: thousands of small
    /// lists, allocated among the temporaries of loading, kept partly used pages resident.
    anchor_owners: Vec<PatternRef>,
    anchor_owner_ends: Vec<u32>,
    always_check: Vec<PatternRef>,
    pub stats: LoadStats,
}

/// What an object looks like to the matcher.
pub struct Object<'a> {
    pub data: &'a [u8],
    pub file_type: FileType,
    pub sha256: &'a [u8; 32],
}

impl ClamDatabase {
    pub fn new() -> Self {
        ClamDatabase::default()
    }

    /// The EICAR test signature, as ClamAV names it.
    pub fn add_eicar(&mut self) {
        let hex = hex::encode(EICAR);
        self.add_line("ndb", &format!("Eicar-Test-Signature:0:0:{hex}")).expect("EICAR signature is valid");
    }

    fn intern(&mut self, name: &str) -> u32 {
        self.names.push_str(name);
        self.name_ends.push(self.names.len() as u32);
        (self.name_ends.len() - 1) as u32
    }

    /// Adds one line of a database file of type `kind` (its extension). `Ok(false)` for
    /// lines that hold no signature (comments, blank lines).
    pub fn add_line(&mut self, kind: &str, line: &str) -> Result<bool, String> {
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() || line.starts_with('#') {
            return Ok(false);
        }
        match kind {
            "hdb" | "hsb" | "hdu" | "hsu" | "fp" | "sfp" => {
                let mut fields = line.split(':');
                let digest = hashes::parse_digest(fields.next().unwrap_or(""))?;
                let size = hashes::parse_size(fields.next().ok_or("missing size")?)?;
                let name = fields.next().ok_or("missing name")?;
                let name = self.intern(name);
                let table = if matches!(kind, "fp" | "sfp") { &mut self.allow } else { &mut self.hashes };
                table.add(&digest, size, name, false);
            }
            "mdb" | "msb" | "mdu" | "msu" => {
                let mut fields = line.split(':');
                let size = hashes::parse_size(fields.next().unwrap_or(""))?;
                let digest = hashes::parse_digest(fields.next().ok_or("missing hash")?)?;
                let name = self.intern(fields.next().ok_or("missing name")?);
                self.hashes.add(&digest, size, name, true);
            }
            "sha256" => {
                let mut fields = line.split_whitespace();
                let digest = hashes::parse_digest(fields.next().unwrap_or(""))?;
                if digest.len() != 32 {
                    return Err("hash list lines must be SHA-256".into());
                }
                let label = self.stats.current_source.clone();
                let name = self.intern(&format!("HashList.{label}"));
                self.hashes.add(&digest, None, name, false);
            }
            "ndb" | "ndu" => self.add_body(line)?,
            "ldb" | "ldu" => self.add_logical(line)?,
            "ign" | "ign2" => {
                let name = if kind == "ign" { line.rsplit(':').next().unwrap_or(line) } else { line };
                self.ignored_names.insert(name.trim().into());
            }
            other => return Err(format!("signature type .{other} is not supported")),
        }
        Ok(true)
    }

    fn add_body(&mut self, line: &str) -> Result<(), String> {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() < 4 {
            return Err("body signature needs Name:Target:Offset:Hex".into());
        }
        let target = parse_target(fields[1])?;
        let offset = Offset::parse(fields[2])?;
        let pattern = Pattern::parse(fields[3], false, false)?;
        let name = self.intern(fields[0]);
        self.body.push(BodySig { name, target, offset, pattern });
        Ok(())
    }

    fn add_logical(&mut self, line: &str) -> Result<(), String> {
        let fields: Vec<&str> = line.split(';').collect();
        if fields.len() < 4 {
            return Err("logical signature needs Name;Target;Expression;Subsig...".into());
        }
        let description = logical::parse_target_description(fields[1])?;
        if let Some(target) = description.target {
            parse_target(&target.to_string())?;
        }
        let expr = Expr::parse(fields[2])?;
        let subsigs = fields[3..]
            .iter()
            .enumerate()
            .map(|(index, text)| logical::parse_subsig(text, index))
            .collect::<Result<Vec<_>, _>>()?;
        if expr.max_subsig() >= subsigs.len() {
            return Err("logical expression names a missing subsignature".into());
        }
        for sub in &subsigs {
            if let SubSig::ByteCompare(compare) = sub
                && !matches!(subsigs[compare.trigger], SubSig::Hex(_))
            {
                return Err("byte-compare trigger must be a hex subsignature".into());
            }
        }
        let staged = subsigs.iter().any(|s| !matches!(s, SubSig::Hex(_)));
        let name = self.intern(fields[0]);
        let sig = LogicalSig { name, target: description.target, description, expr, subsigs, staged };
        if sig.holds_without_patterns() {
            // No anchor has to be seen for it to hold (e.g. `0=0`): checked on every object.
            self.always_check.push(PatternRef::Sub(self.logical.len() as u32));
        }
        self.logical.push(sig);
        Ok(())
    }

    /// Builds the anchor automaton; call once after loading.
    pub fn finish(&mut self) -> Result<(), String> {
        let mut anchors: Vec<Vec<u8>> = Vec::new();
        let mut index_of: std::collections::HashMap<Vec<u8>, usize> = Default::default();
        // (anchor slot, pattern), in the order the patterns come.
        let mut owners: Vec<(u32, PatternRef)> = Vec::new();
        // Logical signatures that hold without any pattern stay; the rest is rebuilt.
        self.always_check.retain(|owner| matches!(owner, PatternRef::Sub(_)));
        self.always_check.dedup_by_key(|owner| match owner {
            PatternRef::Sub(index) | PatternRef::Body(index) => *index,
        });
        let mut add = |mut anchor: Vec<u8>, owner: PatternRef, always: &mut Vec<PatternRef>| {
            anchor.truncate(MAX_ANCHOR);
            if anchor.len() < MIN_ANCHOR {
                always.push(owner);
                return;
            }
            let slot = *index_of.entry(anchor.clone()).or_insert_with(|| {
                anchors.push(anchor);
                anchors.len() - 1
            });
            owners.push((slot as u32, owner));
        };
        for (index, sig) in self.body.iter().enumerate() {
            add(sig.pattern.anchor(), PatternRef::Body(index as u32), &mut self.always_check);
        }
        for (index, sig) in self.logical.iter().enumerate() {
            for subsig in &sig.subsigs {
                for pattern in subsig.patterns() {
                    // Case-insensitive anchors are lowercased; the automaton folds ASCII case
                    // for all of them, which only costs a few extra verifications.
                    add(pattern.anchor(), PatternRef::Sub(index as u32), &mut self.always_check);
                }
            }
        }
        self.automaton = if anchors.is_empty() {
            None
        } else {
            let nocase =
                self.logical.iter().any(|s| s.subsigs.iter().any(|ss| ss.patterns().iter().any(|p| p.is_nocase())));
            Some(
                AhoCorasick::builder()
                    .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                    .dense_depth(1)
                    .ascii_case_insensitive(nocase)
                    .build(&anchors)
                    .map_err(|e| format!("cannot build the pattern automaton: {e}"))?,
            )
        };
        // A stable sort keeps each anchor's patterns in their loading order.
        owners.sort_by_key(|&(slot, _)| slot);
        let mut ends = vec![0u32; anchors.len()];
        for &(slot, _) in &owners {
            ends[slot as usize] += 1;
        }
        let mut total = 0;
        for end in &mut ends {
            total += *end;
            *end = total;
        }
        self.anchor_owners = owners.into_iter().map(|(_, owner)| owner).collect();
        self.anchor_owner_ends = ends;
        self.names.shrink_to_fit();
        self.name_ends.shrink_to_fit();
        self.body.shrink_to_fit();
        self.logical.shrink_to_fit();
        self.hashes.finish();
        self.allow.finish();
        Ok(())
    }

    fn name(&self, index: u32) -> &str {
        let index = index as usize;
        let start = if index == 0 { 0 } else { self.name_ends[index - 1] as usize };
        &self.names[start..self.name_ends[index] as usize]
    }

    /// Number of signatures loaded.
    pub fn len(&self) -> usize {
        self.hashes.len() + self.body.len() + self.logical.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Names of the signatures that match one object (not its members).
    /// Whether matching needs an object's SHA-256 (a hash or allow-list entry uses it).
    pub fn needs_sha256(&self) -> bool {
        !(self.hashes.sha256.is_empty() && self.allow.sha256.is_empty())
    }

    pub fn scan(&self, object: &Object) -> Vec<String> {
        let mut hits: Vec<u32> = Vec::new();
        let data = object.data;
        let mut allowed = Vec::new();
        self.allow.match_file(data, object.sha256, &mut allowed);
        if !allowed.is_empty() {
            return Vec::new();
        }
        self.hashes.match_file(data, object.sha256, &mut hits);
        let pe = if object.file_type == FileType::Pe { PeInfo::parse(data) } else { None };
        if let Some(pe) = &pe
            && self.hashes.has_sections()
        {
            for section in &pe.sections {
                self.hashes.match_section(pe.section_bytes(data, section), &mut hits);
            }
        }
        self.match_patterns(object, pe.as_ref(), &mut hits);
        let names: BTreeSet<&str> = hits.iter().map(|&i| self.name(i)).collect();
        names.into_iter().filter(|name| !self.ignored_names.contains(*name)).map(str::to_string).collect()
    }

    fn match_patterns(&self, object: &Object, pe: Option<&PeInfo>, hits: &mut Vec<u32>) {
        let data = object.data;
        let mut body_candidates: BTreeSet<u32> = BTreeSet::new();
        let mut logical_candidates: BTreeSet<u32> = BTreeSet::new();
        let mut note = |owner: &PatternRef| match *owner {
            PatternRef::Body(index) => {
                body_candidates.insert(index);
            }
            PatternRef::Sub(index) => {
                logical_candidates.insert(index);
            }
        };
        self.always_check.iter().for_each(&mut note);
        if let Some(automaton) = &self.automaton {
            let mut seen = vec![false; self.anchor_owner_ends.len()];
            for found in automaton.find_overlapping_iter(data) {
                let slot = found.pattern().as_usize();
                if !std::mem::replace(&mut seen[slot], true) {
                    let start = if slot == 0 { 0 } else { self.anchor_owner_ends[slot - 1] as usize };
                    let end = self.anchor_owner_ends[slot] as usize;
                    self.anchor_owners[start..end].iter().for_each(&mut note);
                }
            }
        }
        for index in body_candidates {
            let sig = &self.body[index as usize];
            if target_matches(sig.target, object.file_type) && find_at(&sig.pattern, sig.offset, data, pe) {
                hits.push(sig.name);
            }
        }
        for index in logical_candidates {
            let sig = &self.logical[index as usize];
            if sig.target.is_some_and(|t| !target_matches(t, object.file_type)) || !sig.fits(data.len(), pe) {
                continue;
            }
            if sig.evaluate(data, pe) {
                hits.push(sig.name);
            }
        }
    }
}

impl LogicalSig {
    /// Whether the object's size and PE structure are within the target description's ranges.
    fn fits(&self, size: usize, pe: Option<&PeInfo>) -> bool {
        let within = |range: Option<(u64, u64)>, value: Option<u64>| match (range, value) {
            (None, _) => true,
            (Some((min, max)), Some(value)) => (min..=max).contains(&value),
            (Some(_), None) => false,
        };
        let description = &self.description;
        within(description.file_size, Some(size as u64))
            && within(description.entry_point, pe.and_then(|pe| pe.entry_point).map(|e| e as u64))
            && within(description.sections, pe.map(|pe| pe.sections.len() as u64))
    }

    /// Counts each subsignature's matches, in ClamAV's order: hex patterns, then byte
    /// comparisons (on their trigger's last match), then PCRE (each when its trigger holds
    /// over the counts so far), and evaluates the expression.
    fn evaluate(&self, data: &[u8], pe: Option<&PeInfo>) -> bool {
        let counting = self.expr.uses_counts()
            || self.subsigs.iter().any(|s| matches!(s, SubSig::Pcre(p) if p.trigger.uses_counts()));
        let mut counts = vec![0usize; self.subsigs.len()];
        let mut last_starts: Vec<Option<usize>> = Vec::new();
        if self.staged {
            last_starts = vec![None; self.subsigs.len()];
        }
        for (index, sub) in self.subsigs.iter().enumerate() {
            if let SubSig::Hex(hex) = sub {
                let wants_last = self.staged
                    && self.subsigs.iter().any(|s| matches!(s, SubSig::ByteCompare(c) if c.trigger == index));
                let (count, last) = count_hex(hex, data, pe, counting, wants_last);
                counts[index] = count;
                if wants_last {
                    last_starts[index] = last;
                }
            }
        }
        if !self.staged {
            return self.expr.eval(&counts).holds;
        }
        for (index, sub) in self.subsigs.iter().enumerate() {
            if let SubSig::ByteCompare(compare) = sub
                && let Some(start) = last_starts[compare.trigger]
                && compare.holds(data, start)
            {
                counts[index] = 1;
            }
        }
        for (index, sub) in self.subsigs.iter().enumerate() {
            if let SubSig::Pcre(pcre) = sub
                && pcre.trigger.eval(&counts).holds
            {
                counts[index] = pcre.count(data, pe);
            }
        }
        self.expr.eval(&counts).holds
    }

    /// Whether the expression can hold when no hex pattern matches (byte comparisons need
    /// one; a PCRE may run when its trigger holds on such counts).
    fn holds_without_patterns(&self) -> bool {
        let mut counts = vec![0usize; self.subsigs.len()];
        for (index, sub) in self.subsigs.iter().enumerate() {
            if let SubSig::Pcre(pcre) = sub
                && pcre.trigger.eval(&counts).holds
            {
                counts[index] = 1;
            }
        }
        self.expr.eval(&counts).holds
    }
}

/// Matches of one hex subsignature: how many (one at most unless `counting` and the
/// subsignature may sit anywhere) and where the last one starts (when `wants_last`).
fn count_hex(
    sub: &HexSub,
    data: &[u8],
    pe: Option<&PeInfo>,
    counting: bool,
    wants_last: bool,
) -> (usize, Option<usize>) {
    let Some((first, last)) = sub.offset.starts(data.len(), pe) else { return (0, None) };
    let every = (counting && sub.offset == Offset::Anywhere) || wants_last;
    let limit = if every { MAX_COUNTED_MATCHES } else { 1 };
    let mut total = 0;
    let mut last_start = None;
    for pattern in &sub.patterns {
        let mut found = 0;
        let mut from = first;
        while found < limit {
            let Some((start, end)) = pattern.find(data, from, last) else { break };
            if !sub.fullword || is_full_word(data, start, end) {
                found += 1;
                last_start = last_start.max(Some(start));
            }
            from = start + 1;
        }
        total += if counting && sub.offset == Offset::Anywhere { found } else { found.min(1) };
    }
    (total, last_start)
}

/// Most matches of one subsignature counted (for `A>n`-style expressions).
const MAX_COUNTED_MATCHES: usize = 256;

/// `::f`: the bytes around a match are not letters or digits.
fn is_full_word(data: &[u8], start: usize, end: usize) -> bool {
    let word = |at: Option<&u8>| at.is_some_and(u8::is_ascii_alphanumeric);
    !word(start.checked_sub(1).and_then(|at| data.get(at))) && !word(data.get(end))
}

fn find_at(pattern: &Pattern, offset: Offset, data: &[u8], pe: Option<&PeInfo>) -> bool {
    match offset.starts(data.len(), pe) {
        Some((first, last)) => pattern.find(data, first, last).is_some(),
        None => false,
    }
}

/// ClamAV target types this engine knows how to honour.
fn parse_target(text: &str) -> Result<u32, String> {
    let target: u32 = text.trim().parse().map_err(|_| format!("bad target type '{text}'"))?;
    match target {
        0..=7 | 9..=12 => Ok(target),
        other => Err(format!("target type {other} is not supported")),
    }
}

/// Whether an object of `file_type` is one the signature targets. ClamAV normalises HTML
/// and text (targets 3 and 7) before matching; here they match the raw bytes.
fn target_matches(target: u32, file_type: FileType) -> bool {
    use FileType::*;
    match target {
        0 => true,
        1 => file_type == Pe,
        2 => file_type == Ole2,
        3 => matches!(file_type, Html | Text),
        4 => matches!(file_type, Mail | Mbox),
        5 => matches!(file_type, Png | Jpeg | Gif | Bmp | Tiff),
        6 => file_type == Elf,
        7 => matches!(file_type, Text | Html | Script | Mail | Mbox | Rtf),
        9 => file_type == MachO,
        10 => file_type == Pdf,
        11 => file_type == Swf,
        12 => matches!(file_type, JavaClass | Jar),
        _ => false,
    }
}
