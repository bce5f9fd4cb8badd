//! A prefilter for the rules of one index bucket (Sysmon process creation holds ~1,100): for
//! each field the rules read, one Aho-Corasick automaton over every rule's literals, run once
//! per field value. A rule is evaluated only when one of the literals it cannot match without
//! was seen (Hayabusa and Chainsaw do the same).
//!
//! What a rule needs is derived from its compiled searches, conservatively: `not`, keywords,
//! `re`, `cidr`, comparisons, `exists`, `null`, `fieldref`, bare `*` and non-ASCII values under
//! Unicode case folding give no literal, and a rule whose condition can hold through one of
//! them is always evaluated.

use aho_corasick::AhoCorasick;
use rustc_hash::FxHashMap;

use crate::compiled::Variant;
use crate::condition::Expr;
use crate::detection::{FieldMatcher, Search};
use crate::event::{EventView, FieldPath, any_text};

/// A literal that must occur (ASCII case folded) in a value of a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Atom {
    pub field: FieldPath,
    pub needle: String,
}

/// A necessary condition: at least one of the atoms occurs. `None`: no such condition is known,
/// the rule is always evaluated.
pub type Need = Option<Vec<Atom>>;

/// Of several conditions that all hold, the most selective: the longest shortest literal,
/// then the fewest atoms.
fn tightest(options: impl Iterator<Item = Vec<Atom>>) -> Need {
    options
        .max_by_key(|atoms| (atoms.iter().map(|a| a.needle.len()).min().unwrap_or(0), std::cmp::Reverse(atoms.len())))
}

/// Either of several conditions: the union, unknown when one of them is.
fn union(options: impl Iterator<Item = Need>) -> Need {
    let mut all = Vec::new();
    for o in options {
        all.extend(o?);
    }
    Some(all)
}

fn field_need(m: &FieldMatcher) -> Need {
    let field = m.field.as_ref()?;
    let atom = |n: &String| Atom { field: field.clone(), needle: n.clone() };
    if m.all {
        // Every value must match: any one value's literal is required.
        return tightest(m.needles.iter().flatten().map(|n| vec![atom(n)]));
    }
    m.needles.iter().map(|n| n.as_ref().map(atom)).collect()
}

fn search_need(s: &Search) -> Need {
    union(s.alternatives.iter().map(|c| tightest(c.items.iter().filter_map(field_need))))
}

fn expr_need(e: &Expr, searches: &[Need]) -> Need {
    match e {
        Expr::Search(i) => searches.get(*i).cloned().flatten(),
        Expr::Not(_) => None,
        Expr::And(es) => tightest(es.iter().filter_map(|e| expr_need(e, searches))),
        Expr::Or(es) => union(es.iter().map(|e| expr_need(e, searches))),
    }
}

/// What a rule variant cannot match without.
pub fn variant_need(v: &Variant) -> Need {
    let searches: Vec<Need> = v.searches.iter().map(search_need).collect();
    let pre = v.preconditions.iter().filter_map(search_need);
    tightest(pre.chain(expr_need(&v.condition, &searches)))
}

/// The automatons of one bucket.
#[derive(Debug)]
pub struct Prefilter {
    /// By position in the bucket: evaluated whatever the event holds.
    always: Vec<bool>,
    scans: Vec<FieldScan>,
}

#[derive(Debug)]
struct FieldScan {
    path: FieldPath,
    automaton: AhoCorasick,
    /// By pattern: the positions in the bucket that need it.
    targets: Vec<Vec<u32>>,
}

/// The distinct needles of one field while building.
struct Patterns {
    path: FieldPath,
    /// Folded needle → pattern number.
    ids: FxHashMap<String, usize>,
    patterns: Vec<String>,
    targets: Vec<Vec<u32>>,
}

impl Patterns {
    fn new(path: &FieldPath) -> Patterns {
        Patterns { path: path.clone(), ids: FxHashMap::default(), patterns: Vec::new(), targets: Vec::new() }
    }
}

impl Prefilter {
    /// From the needs of a bucket's variants, in the bucket's order.
    pub fn build(needs: impl Iterator<Item = Need>) -> Prefilter {
        let mut always = Vec::new();
        let mut fields: FxHashMap<String, Patterns> = FxHashMap::default();
        for (pos, need) in needs.enumerate() {
            let Some(atoms) = need.filter(|a| !a.is_empty()) else {
                always.push(true);
                continue;
            };
            always.push(false);
            for a in atoms {
                let Patterns { ids, patterns, targets, .. } =
                    fields.entry(a.field.as_str().to_string()).or_insert_with(|| Patterns::new(&a.field));
                let folded = a.needle.to_ascii_lowercase();
                let id = *ids.entry(folded.clone()).or_insert_with(|| {
                    patterns.push(folded);
                    targets.push(Vec::new());
                    patterns.len() - 1
                });
                if targets[id].last() != Some(&(pos as u32)) {
                    targets[id].push(pos as u32);
                }
            }
        }
        let mut scans = Vec::new();
        for Patterns { path, patterns, targets, .. } in fields.into_values() {
            match AhoCorasick::builder().ascii_case_insensitive(true).build(&patterns) {
                Ok(automaton) => scans.push(FieldScan { path, automaton, targets }),
                // Too large for the automaton (never seen): its rules are always evaluated.
                Err(_) => targets.iter().flatten().for_each(|p| always[*p as usize] = true),
            }
        }
        Prefilter { always, scans }
    }

    /// Sets `out[position]` for every variant of the bucket worth evaluating on the event.
    pub fn candidates(&self, event: &EventView, out: &mut Vec<bool>) {
        out.clear();
        out.extend_from_slice(&self.always);
        for scan in &self.scans {
            let Some(value) = event.get(&scan.path) else { continue };
            any_text(value, &mut |text| {
                for m in scan.automaton.find_overlapping_iter(text) {
                    for p in &scan.targets[m.pattern().as_usize()] {
                        out[*p as usize] = true;
                    }
                }
                false
            });
        }
    }

    /// How many of the bucket's variants are always evaluated (for tuning).
    pub fn always_count(&self) -> usize {
        self.always.iter().filter(|a| **a).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CompileOptions, Pipeline, RuleSet};

    fn need_of(detection: &str) -> Need {
        let text = format!("title: t\nlogsource: {{category: proxy}}\ndetection:\n{detection}");
        let mut set = RuleSet::default();
        set.add_text(std::path::Path::new("t.yml"), &text, &Pipeline::default(), &CompileOptions::default());
        assert!(set.failures.is_empty(), "{:?}", set.failures);
        variant_need(&set.rules[0].variants[0])
    }

    fn needles(n: &Need) -> Vec<&str> {
        n.as_ref().map(|a| a.iter().map(|a| a.needle.as_str()).collect()).unwrap_or_default()
    }

    #[test]
    fn literals_of_selections() {
        let n = need_of("  s:\n    a|contains: [evil, bad]\n    b: x*y*zz\n  condition: s\n");
        assert_eq!(needles(&n), ["evil", "bad"]);
        let n = need_of("  s:\n    a|contains|all: [evil, worse]\n  f:\n    b: q\n  condition: s and not f\n");
        assert_eq!(needles(&n), ["worse"]);
        let n = need_of("  s1:\n    a: one\n  s2:\n    b|endswith: two\n  condition: 1 of s*\n");
        assert_eq!(needles(&n), ["one", "two"]);
    }

    #[test]
    fn conditions_without_literals_are_always_evaluated() {
        assert_eq!(need_of("  s:\n    a|contains: evil\n  f:\n    b: q\n  condition: s or not f\n"), None);
        assert_eq!(need_of("  k:\n    - evil\n  condition: k\n"), None);
        assert_eq!(need_of("  s:\n    a|re: ev.l\n  condition: s\n"), None);
        assert_eq!(need_of("  s:\n    a: [evil, null]\n  condition: s\n"), None);
        assert_eq!(need_of("  s:\n    a: '*'\n  condition: s\n"), None);
        assert_eq!(need_of("  s:\n    a|contains: ÄRGER\n  condition: s\n"), None);
    }

    #[test]
    fn candidates_follow_the_literals() {
        let a = |n: &str| Atom { field: FieldPath::new("p.a"), needle: n.to_string() };
        let f = Prefilter::build([Some(vec![a("Evil")]), None, Some(vec![a("bad"), a("worse")])].into_iter());
        let mut out = Vec::new();
        let e = serde_json::json!({"p": {"a": ["x", "a WORSE one"]}});
        f.candidates(&EventView::new(&e), &mut out);
        assert_eq!(out, [false, true, true]);
        let e = serde_json::json!({"p": {"a": "EVIL"}});
        f.candidates(&EventView::new(&e), &mut out);
        assert_eq!(out, [true, true, false]);
    }
}
