//! ClamAV signature databases: hash (`.hdb`, `.hsb`, `.mdb`, `.msb`), body (`.ndb`) and
//! logical (`.ldb`) signatures, allow lists (`.fp`, `.sfp`, `.ign`, `.ign2`), loaded from
//! files, directories or `.cvd`/`.cld` containers. Body patterns are found through one
//! Aho-Corasick automaton over each pattern's longest exact run, then verified.

mod hashes;
mod load;
mod logical;
mod offset;
pub mod pattern;
pub(crate) mod pe;

pub use load::{CvdHeader, LoadStats};

use crate::filetype::FileType;
use aho_corasick::AhoCorasick;
use hashes::HashSignatures;
use logical::{Expr, SubSig};
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
    file_size: Option<(u64, u64)>,
    expr: Expr,
    subsigs: Vec<SubSig>,
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

#[derive(Default)]
pub struct ClamDatabase {
    names: Vec<Box<str>>,
    hashes: HashSignatures,
    allow: HashSignatures,
    ignored_names: FxHashSet<Box<str>>,
    body: Vec<BodySig>,
    logical: Vec<LogicalSig>,
    automaton: Option<AhoCorasick>,
    anchor_owners: Vec<Vec<PatternRef>>,
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
        self.names.push(name.into());
        (self.names.len() - 1) as u32
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
        let subsigs = fields[3..].iter().map(|s| logical::parse_subsig(s)).collect::<Result<Vec<_>, _>>()?;
        if expr.max_subsig() >= subsigs.len() {
            return Err("logical expression names a missing subsignature".into());
        }
        let name = self.intern(fields[0]);
        let target = description.target;
        self.logical.push(LogicalSig { name, target, file_size: description.file_size, expr, subsigs });
        Ok(())
    }

    /// Builds the anchor automaton; call once after loading.
    pub fn finish(&mut self) -> Result<(), String> {
        let mut anchors: Vec<Vec<u8>> = Vec::new();
        let mut index_of: std::collections::HashMap<Vec<u8>, usize> = Default::default();
        let mut owners: Vec<Vec<PatternRef>> = Vec::new();
        self.always_check.clear();
        let mut add = |anchor: Vec<u8>, owner: PatternRef, always: &mut Vec<PatternRef>| {
            if anchor.len() < MIN_ANCHOR {
                always.push(owner);
                return;
            }
            let slot = *index_of.entry(anchor.clone()).or_insert_with(|| {
                anchors.push(anchor);
                owners.push(Vec::new());
                owners.len() - 1
            });
            owners[slot].push(owner);
        };
        for (index, sig) in self.body.iter().enumerate() {
            add(sig.pattern.anchor(), PatternRef::Body(index as u32), &mut self.always_check);
        }
        for (index, sig) in self.logical.iter().enumerate() {
            for subsig in &sig.subsigs {
                for pattern in &subsig.patterns {
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
                self.logical.iter().any(|s| s.subsigs.iter().any(|ss| ss.patterns.iter().any(|p| p.is_nocase())));
            Some(
                AhoCorasick::builder()
                    .ascii_case_insensitive(nocase)
                    .build(&anchors)
                    .map_err(|e| format!("cannot build the pattern automaton: {e}"))?,
            )
        };
        self.anchor_owners = owners;
        Ok(())
    }

    /// Number of signatures loaded.
    pub fn len(&self) -> usize {
        self.hashes.len() + self.body.len() + self.logical.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Names of the signatures that match one object (not its members).
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
        let names: BTreeSet<&str> = hits.iter().map(|&i| &*self.names[i as usize]).collect();
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
            let mut seen = vec![false; self.anchor_owners.len()];
            for found in automaton.find_overlapping_iter(data) {
                let slot = found.pattern().as_usize();
                if !std::mem::replace(&mut seen[slot], true) {
                    self.anchor_owners[slot].iter().for_each(&mut note);
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
            if sig.target.is_some_and(|t| !target_matches(t, object.file_type))
                || sig.file_size.is_some_and(|(min, max)| !(min..=max).contains(&(data.len() as u64)))
            {
                continue;
            }
            let counting = sig.expr.uses_counts();
            let counts: Vec<usize> = sig.subsigs.iter().map(|sub| count_subsig(sub, data, pe, counting)).collect();
            if sig.expr.eval(&counts).holds {
                hits.push(sig.name);
            }
        }
    }
}

fn count_subsig(sub: &SubSig, data: &[u8], pe: Option<&PeInfo>, counting: bool) -> usize {
    let mut total = 0;
    for pattern in &sub.patterns {
        total += if counting && sub.offset == Offset::Anywhere {
            pattern.count(data, 256)
        } else {
            usize::from(find_at(pattern, sub.offset, data, pe))
        };
    }
    total
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
