//! Loading and checking `mamori.toml`: every problem is reported with file, line and column,
//! and a file with any problem is refused as a whole.

pub mod detect;
pub mod diagnostic;
pub mod dns;
pub mod edge;
pub mod mail;
pub mod monitor;
pub mod schema;
mod template;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use diagnostic::{ConfigError, Diagnostic, FieldPath, Problem, Seg};
pub use schema::{ApiConfig, CollectConfig, ConfigFile, General, LogsConfig, SyslogConfig};
pub use template::example_config;

use crate::managed::ManagedConfig;

/// A configuration file that passed every check.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub path: PathBuf,
    pub file: ConfigFile,
}

impl LoadedConfig {
    /// The data directory, resolved against the directory of the config file.
    pub fn data_dir(&self) -> PathBuf {
        self.resolve(&self.file.mamori.data_dir)
    }

    /// Resolves a path from the file against the file's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_path_buf() } else { self.path.parent().unwrap_or(Path::new(".")).join(p) }
    }

    pub fn managed(&self) -> ManagedConfig {
        ManagedConfig::from_file(&self.file)
    }
}

/// Reads and checks a configuration file.
pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        diagnostics: vec![Diagnostic {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            path: String::new(),
            message: format!("cannot read the configuration file: {e}"),
        }],
    })?;
    let file = parse_and_check(path, &text)?;
    Ok(LoadedConfig { path: path.to_path_buf(), file })
}

/// Parses and checks configuration text; `path` is used in diagnostics only.
pub fn parse_and_check(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
    let located = Locator::new(path, text)?;
    let mut unknown = Vec::new();
    let deserializer = toml::Deserializer::parse(text).map_err(|e| located.error_at_span(e.span(), e.message()))?;
    let parsed: Result<ConfigFile, _> = serde_ignored::deserialize(deserializer, |p| unknown.push(ignored_path(&p)));
    let file = match parsed {
        Ok(f) => f,
        Err(e) => {
            // A type error stops deserialization; report it together with unknown keys seen so far.
            let mut diags: Vec<Diagnostic> = unknown.iter().map(|p| located.unknown_key(p)).collect();
            diags.push(located.at_span(e.span(), "", e.message()));
            return Err(ConfigError { diagnostics: diags });
        }
    };
    let mut problems: Vec<Problem> = Vec::new();
    let mut diags: Vec<Diagnostic> = unknown.iter().map(|p| located.unknown_key(p)).collect();
    problems.extend(ManagedConfig::from_file(&file).validate());
    problems.extend(check_service_settings(&file));
    diags.extend(problems.iter().map(|p| located.problem(p)));
    if diags.is_empty() {
        Ok(file)
    } else {
        diags.sort_by_key(|d| (d.line, d.column));
        Err(ConfigError { diagnostics: diags })
    }
}

/// Checks of the settings outside the versioned part: listeners, zone, TLS files.
fn check_service_settings(file: &ConfigFile) -> Vec<Problem> {
    let mut problems = Vec::new();
    let root = FieldPath::root();
    if jiff::tz::TimeZone::get(&file.mamori.timezone).is_err() {
        problems.push(Problem::new(
            root.key("mamori").key("timezone"),
            format!("unknown time zone '{}'; use an IANA name such as Asia/Tokyo", file.mamori.timezone),
        ));
    }
    let syslog = &file.collect.syslog;
    let mut tcp: HashMap<SocketAddr, String> = HashMap::new();
    let mut claim = |addr: Option<SocketAddr>, path: FieldPath, problems: &mut Vec<Problem>| {
        if let Some(a) = addr
            && let Some(prev) = tcp.insert(a, path.to_string())
        {
            problems.push(Problem::new(path, format!("{a} is already used by {prev}")));
        }
    };
    if file.api.enabled {
        claim(Some(file.api.listen), root.key("api").key("listen"), &mut problems);
    }
    claim(file.mail.listen, root.key("mail").key("listen"), &mut problems);
    claim(syslog.tcp, root.key("collect").key("syslog").key("tcp"), &mut problems);
    claim(syslog.tls, root.key("collect").key("syslog").key("tls"), &mut problems);
    for (cert, key, path) in [
        (&file.api.tls_cert, &file.api.tls_key, root.key("api")),
        (&syslog.tls_cert, &syslog.tls_key, root.key("collect").key("syslog")),
    ] {
        match (cert, key) {
            (Some(_), None) => problems.push(Problem::new(path.key("tls_cert"), "tls_cert is set but tls_key is not")),
            (None, Some(_)) => problems.push(Problem::new(path.key("tls_key"), "tls_key is set but tls_cert is not")),
            _ => {}
        }
    }
    if !(1024..=16 << 20).contains(&syslog.max_message_bytes) {
        problems.push(Problem::new(
            root.key("collect").key("syslog").key("max_message_bytes"),
            "max_message_bytes must be between 1024 and 16777216",
        ));
    }
    for (i, origin) in file.proxy.h2c_origins.iter().enumerate() {
        if let Err(e) = crate::h2c::H2cOrigin::parse(origin) {
            problems.push(Problem::new(root.key("proxy").key("h2c_origins").index(i), e));
        }
    }
    problems.extend(mail::check(&file.mail, &file.tenants, &root));
    let tenants: Vec<&str> = file.tenants.iter().map(|t| t.id.as_str()).collect();
    problems.extend(edge::check(&file.edge, &tenants, &root));
    problems.extend(dns::check(&file.dns, &tenants, &root));
    problems.extend(detect::check(&file.detect, &tenants, &root));
    // DNS answers over TCP too, so its addresses take part in the TCP port check.
    claim(file.dns.listen, root.key("dns").key("listen"), &mut problems);
    for (i, addr) in file.dns.also_listen.iter().enumerate() {
        claim(Some(*addr), root.key("dns").key("also_listen").index(i), &mut problems);
    }
    if !file.edge.sites.is_empty() {
        claim(file.edge.http, root.key("edge").key("http"), &mut problems);
        claim(file.edge.https, root.key("edge").key("https"), &mut problems);
        claim(file.proxy.listen, root.key("proxy").key("listen"), &mut problems);
    }
    let logs = root.key("logs");
    if !(1..=1024).contains(&file.logs.wal_segment_mb) {
        problems.push(Problem::new(logs.key("wal_segment_mb"), "wal_segment_mb must be between 1 and 1024"));
    }
    if !(50..=60_000).contains(&file.logs.commit_interval_ms) {
        problems.push(Problem::new(logs.key("commit_interval_ms"), "commit_interval_ms must be between 50 and 60000"));
    }
    problems
}

fn ignored_path(p: &serde_ignored::Path<'_>) -> FieldPath {
    use serde_ignored::Path as P;
    let mut segs = Vec::new();
    let mut cur = p;
    loop {
        match cur {
            P::Root => break,
            P::Seq { parent, index } => {
                segs.push(Seg::Index(*index));
                cur = parent;
            }
            P::Map { parent, key } => {
                segs.push(Seg::Key(key.clone()));
                cur = parent;
            }
            P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => cur = parent,
        }
    }
    segs.reverse();
    FieldPath(segs)
}

/// Finds where fields sit in the file text.
struct Locator<'a> {
    path: &'a Path,
    text: &'a str,
    doc: toml_edit::Document<&'a str>,
}

impl<'a> Locator<'a> {
    fn new(path: &'a Path, text: &'a str) -> Result<Self, ConfigError> {
        match toml_edit::Document::parse(text) {
            Ok(doc) => Ok(Locator { path, text, doc }),
            Err(e) => {
                let (line, column) = e.span().map_or((1, 1), |s| diagnostic::line_col(text, s.start));
                Err(ConfigError {
                    diagnostics: vec![Diagnostic {
                        file: path.to_path_buf(),
                        line,
                        column,
                        path: String::new(),
                        message: format!("TOML syntax error: {}", e.message().trim()),
                    }],
                })
            }
        }
    }

    fn error_at_span(&self, span: Option<std::ops::Range<usize>>, message: &str) -> ConfigError {
        ConfigError { diagnostics: vec![self.at_span(span, "", message)] }
    }

    fn at_span(&self, span: Option<std::ops::Range<usize>>, path: &str, message: &str) -> Diagnostic {
        let (line, column) = span.map_or((1, 1), |s| diagnostic::line_col(self.text, s.start));
        Diagnostic {
            file: self.path.to_path_buf(),
            line,
            column,
            path: path.to_string(),
            message: message.trim().to_string(),
        }
    }

    fn unknown_key(&self, path: &FieldPath) -> Diagnostic {
        let known = path.0.last().map_or(String::new(), |s| match s {
            Seg::Key(k) => k.clone(),
            Seg::Index(i) => i.to_string(),
        });
        self.at_span(self.span_of(path), &path.to_string(), &format!("unknown field '{known}'"))
    }

    fn problem(&self, p: &Problem) -> Diagnostic {
        self.at_span(self.span_of(&p.path), &p.path.to_string(), &p.message)
    }

    /// The span of the deepest part of `path` present in the file: a value where the path ends
    /// on one, else the last key found on the way.
    fn span_of(&self, path: &FieldPath) -> Option<Span> {
        span_in_item(self.doc.as_item(), &path.0, None)
    }
}

type Span = std::ops::Range<usize>;

fn span_in_item(item: &toml_edit::Item, segs: &[Seg], best: Option<Span>) -> Option<Span> {
    use toml_edit::Item;
    match item {
        Item::Table(t) => span_in_table(t, segs, best),
        Item::ArrayOfTables(a) => match segs.split_first() {
            Some((Seg::Index(i), rest)) => match a.get(*i) {
                Some(t) => span_in_table(t, rest, t.span().or(best)),
                None => best,
            },
            _ => a.span().or(best),
        },
        Item::Value(v) => span_in_value(v, segs, best),
        Item::None => best,
    }
}

fn span_in_table(table: &toml_edit::Table, segs: &[Seg], best: Option<Span>) -> Option<Span> {
    match segs.split_first() {
        Some((Seg::Key(k), rest)) => match table.get_key_value(k) {
            Some((key, item)) => span_in_item(item, rest, key.span().or(best)),
            None => best,
        },
        _ => best,
    }
}

fn span_in_value(value: &toml_edit::Value, segs: &[Seg], best: Option<Span>) -> Option<Span> {
    use toml_edit::Value;
    match (value, segs.split_first()) {
        (_, None) => value.span().or(best),
        (Value::Array(a), Some((Seg::Index(i), rest))) => match a.get(*i) {
            Some(v) => span_in_value(v, rest, v.span().or(best)),
            None => best,
        },
        (Value::InlineTable(t), Some((Seg::Key(k), rest))) => match t.get_key_value(k) {
            Some((key, item)) => span_in_item(item, rest, key.span().or(best)),
            None => best,
        },
        _ => best,
    }
}

#[cfg(test)]
mod tests;
