//! YARA rules through yara-x, with the externals signature-base and similar rule sets expect:
//! `filename`, `filepath`, `extension`, `filetype` and `owner`.

use std::path::{Path, PathBuf};

pub const EXTERNALS: [&str; 5] = ["filename", "filepath", "extension", "filetype", "owner"];

pub use crate::signatures::RuleFailure;

pub struct YaraRules {
    rules: yara_x::Rules,
    /// Rule files compiled into the set.
    pub files: usize,
    pub failures: Vec<RuleFailure>,
}

/// Rule files under `dir`, recursively, in a stable order.
pub fn rule_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "yar" || e == "yara") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

impl YaraRules {
    /// Compiles every rule file in `files`, each in its own namespace (its file stem), so
    /// that equal rule names in different files do not clash. Files that fail are listed,
    /// the others still compiled.
    pub fn compile(files: &[PathBuf]) -> YaraRules {
        let mut compiler = yara_x::Compiler::new();
        for external in EXTERNALS {
            compiler.define_global(external, "").expect("externals are defined once");
        }
        let mut failures = Vec::new();
        let mut compiled = 0;
        for file in files {
            let shown = file.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let source = match std::fs::read(file) {
                Ok(source) => source,
                Err(e) => {
                    failures.push(RuleFailure { file: shown, reason: format!("cannot read: {e}") });
                    continue;
                }
            };
            let namespace = file.file_stem().map_or_else(String::new, |s| s.to_string_lossy().replace(['-', '.'], "_"));
            compiler.new_namespace(&namespace);
            let unit = yara_x::SourceCode::from(source.as_slice()).with_origin(shown.as_str());
            match compiler.add_source(unit) {
                Ok(_) => compiled += 1,
                Err(error) => {
                    let reason = error.to_string().lines().next().unwrap_or("compile error").to_string();
                    failures.push(RuleFailure { file: shown, reason });
                }
            }
        }
        YaraRules { rules: compiler.build(), files: compiled, failures }
    }

    pub fn rule_count(&self) -> usize {
        self.rules.iter().len()
    }

    /// A scanner for one scan; it is reused for every object of that scan.
    pub fn scanner(&self) -> YaraScanner<'_> {
        let mut scanner = yara_x::Scanner::new(&self.rules);
        scanner.set_timeout(std::time::Duration::from_secs(30));
        // Only which rules match is reported, never where: a pattern that is only tested for
        // being there stops being searched after its first match (what `yara -f` does).
        scanner.fast_scan(true);
        YaraScanner { scanner }
    }
}

pub struct YaraScanner<'r> {
    scanner: yara_x::Scanner<'r>,
}

/// What the externals describe about the object being scanned.
pub struct ObjectFacts<'a> {
    pub file_name: &'a str,
    pub file_path: &'a str,
    pub extension: &'a str,
    pub file_type: &'a str,
    pub owner: &'a str,
}

impl YaraScanner<'_> {
    /// Names (`namespace.rule`) of the rules matching `data`.
    pub fn scan(&mut self, data: &[u8], facts: &ObjectFacts) -> Result<Vec<String>, String> {
        let values =
            [facts.file_name, facts.file_path, facts.extension, facts.file_type, facts.owner].map(str::to_string);
        for (external, value) in EXTERNALS.iter().zip(values) {
            self.scanner.set_global(external, value).map_err(|e| format!("yara external {external}: {e}"))?;
        }
        let results = self.scanner.scan(data).map_err(|e| format!("yara scan failed: {e}"))?;
        Ok(results.matching_rules().map(|rule| format!("{}.{}", rule.namespace(), rule.identifier())).collect())
    }
}
