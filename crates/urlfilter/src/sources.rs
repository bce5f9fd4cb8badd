//! Reading lists from files: squidGuard/UT1 category directories, plain lists, hosts files and
//! CSV threat feeds. A line that is not understood is counted and named in the report, never
//! dropped in silence.

use std::io::Read;
use std::path::Path;

use crate::entry::{Entry, EntryError};

/// How the lines of a file are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// squidGuard `domains`: one domain per line, covering its subdomains.
    Domains,
    /// squidGuard `urls`: one URL prefix per line.
    Urls,
    /// squidGuard `expressions`: one regular expression per line.
    Expressions,
    /// Domains, URLs, addresses and networks mixed, one per line; each line says what it is.
    Plain,
    /// A hosts file (`0.0.0.0 bad.example`): the names after the address.
    Hosts,
    /// CSV with a column named url, domain, host, ip or indicator (or, without such a header,
    /// the first field that is one of those).
    Csv,
}

/// What loading a file found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    pub origin: String,
    pub entries: usize,
    pub rejected: usize,
    /// The first few rejected lines: line number and why.
    pub examples: Vec<(usize, String)>,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} entries", self.origin, self.entries)?;
        if self.rejected > 0 {
            write!(f, ", {} lines not understood", self.rejected)?;
            for (line, why) in &self.examples {
                write!(f, "; line {line}: {why}")?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListFile {
    pub entries: Vec<Entry>,
    pub report: LoadReport,
}

const MAX_EXAMPLES: usize = 3;

/// Parses the text of a list. `origin` names it in the report.
pub fn parse_list(text: &str, format: Format, origin: &str) -> ListFile {
    let mut out =
        ListFile { entries: Vec::new(), report: LoadReport { origin: origin.to_string(), ..Default::default() } };
    let mut csv_column = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if format == Format::Csv
            && csv_column.is_none()
            && out.entries.is_empty()
            && let Some(c) = csv_header_column(line)
        {
            csv_column = Some(c);
            continue;
        }
        if line.is_empty() || line.starts_with('#') || (format != Format::Expressions && line.starts_with("//")) {
            continue;
        }
        let mut reject = |e: EntryError| {
            out.report.rejected += 1;
            if out.report.examples.len() < MAX_EXAMPLES {
                out.report.examples.push((n + 1, e.to_string()));
            }
        };
        let parsed = match format {
            Format::Domains => vec![Entry::domain(first_word(line))],
            Format::Urls => vec![Entry::url_prefix(first_word(line))],
            Format::Expressions => vec![Entry::regex(line)],
            Format::Plain => vec![Entry::guess(without_comment(line))],
            Format::Hosts => hosts_line(line),
            Format::Csv => vec![csv_line(line, csv_column)],
        };
        for p in parsed {
            match p {
                Ok(e) => {
                    out.entries.push(e);
                    out.report.entries += 1;
                }
                Err(e) => reject(e),
            }
        }
    }
    out
}

/// Reads a list file; a `.gz` file (UT1 compresses its largest lists) is decompressed.
pub fn load_list_file(path: &Path, format: Format) -> std::io::Result<ListFile> {
    let bytes = std::fs::read(path)?;
    let text = if path.extension().is_some_and(|e| e == "gz") {
        let mut s = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut s)?;
        String::from_utf8_lossy(&s).into_owned()
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Ok(parse_list(&text, format, &path.display().to_string()))
}

/// Reads a squidGuard/UT1 directory: one subdirectory per category holding any of `domains`,
/// `urls` and `expressions` (each possibly `.gz`). Categories come back sorted by name.
pub fn load_category_dir(dir: &Path) -> std::io::Result<Vec<(String, ListFile)>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        if let Some(list) = load_category(dir, &name)? {
            out.push((name, list));
        }
    }
    Ok(out)
}

/// Reads one category of a squidGuard/UT1 directory; `None` when it has no list files.
pub fn load_category(dir: &Path, name: &str) -> std::io::Result<Option<ListFile>> {
    let path = dir.join(name);
    let mut list =
        ListFile { report: LoadReport { origin: name.to_string(), ..Default::default() }, ..Default::default() };
    let mut found = false;
    for (file, format) in [("domains", Format::Domains), ("urls", Format::Urls), ("expressions", Format::Expressions)] {
        for candidate in [path.join(file), path.join(format!("{file}.gz"))] {
            if candidate.is_file() {
                found = true;
                let part = load_list_file(&candidate, format)?;
                list.entries.extend(part.entries);
                list.report.entries += part.report.entries;
                list.report.rejected += part.report.rejected;
                let room = MAX_EXAMPLES.saturating_sub(list.report.examples.len());
                list.report
                    .examples
                    .extend(part.report.examples.into_iter().take(room).map(|(l, why)| (l, format!("{file}: {why}"))));
                break;
            }
        }
    }
    Ok(found.then_some(list))
}

/// A line without a trailing ` # comment`.
fn without_comment(line: &str) -> &str {
    line.split_once(" #").or_else(|| line.split_once("\t#")).map_or(line, |(l, _)| l).trim()
}

fn first_word(line: &str) -> &str {
    line.split_whitespace().next().unwrap_or("")
}

fn hosts_line(line: &str) -> Vec<Result<Entry, EntryError>> {
    let mut words = line.split('#').next().unwrap_or("").split_whitespace();
    let Some(first) = words.next() else { return Vec::new() };
    if first.parse::<std::net::IpAddr>().is_err() {
        // Some feeds call themselves hosts files but list bare names.
        return vec![Entry::domain(first)];
    }
    words
        .filter(|w| !matches!(*w, "localhost" | "localhost.localdomain" | "local" | "broadcasthost" | "0.0.0.0"))
        .map(Entry::domain)
        .collect()
}

const CSV_COLUMNS: [&str; 6] = ["url", "domain", "host", "hostname", "ip", "indicator"];

fn csv_fields(line: &str) -> impl Iterator<Item = &str> {
    line.split(',').map(|f| f.trim().trim_matches('"').trim())
}

fn csv_header_column(line: &str) -> Option<usize> {
    let line = line.trim_start_matches('#').trim();
    csv_fields(line).position(|f| CSV_COLUMNS.contains(&f.to_ascii_lowercase().as_str()))
}

fn csv_line(line: &str, column: Option<usize>) -> Result<Entry, EntryError> {
    match column {
        Some(c) => Entry::guess(csv_fields(line).nth(c).unwrap_or("")),
        None => csv_fields(line)
            .find_map(|f| Entry::guess(f).ok())
            .ok_or_else(|| EntryError::BadDomain(line.chars().take(80).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lists_report_what_they_reject() {
        let l = parse_list("# c\nbad.example\n10.0.0.0/8\nexample.jp/path\nnot a domain!\n\n", Format::Plain, "t");
        assert_eq!(l.entries.len(), 3);
        assert_eq!(l.report.rejected, 1);
        assert_eq!(l.report.examples[0].0, 5);
        assert!(l.report.to_string().contains("line 5"), "{}", l.report);
    }

    #[test]
    fn hosts_files() {
        let l = parse_list(
            "127.0.0.1 localhost\n0.0.0.0 ads.example tracker.example # x\nbare.example\n",
            Format::Hosts,
            "h",
        );
        let names: Vec<_> = l.entries.iter().map(|e| format!("{e:?}")).collect();
        assert_eq!(l.entries.len(), 3, "{names:?}");
    }

    #[test]
    fn csv_with_a_commented_header() {
        let text = "# id,dateadded,url,url_status\n\"1\",\"2026-11-01\",\"http://evil.example/x.exe\",\"online\"\n";
        let l = parse_list(text, Format::Csv, "c");
        assert_eq!(l.entries, vec![Entry::Url { key: "evil.example/x.exe".into(), exact: false }]);
    }
}
