//! What a scan found: findings located by their path inside containers, and the overall verdict.

use serde::Serialize;

/// Where an object sits: the scanned name first, then one element per container level,
/// e.g. `["mail.eml", "part 2: invoice.zip", "invoice.pdf.exe"]`.
pub type ObjectPath = Vec<String>;

/// Display form of a path: elements joined with ` > `.
pub fn display_path(path: &[String]) -> String {
    path.join(" > ")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FindingKind {
    /// A signature matched: the object is malware (or a test file).
    Infected { name: String, engine: String },
    /// Not a known threat, but something a mail relay or proxy should not pass silently.
    Suspicious { reason: String },
    /// The object could not be scanned completely (malformed container, I/O error).
    Error { message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub path: ObjectPath,
    #[serde(flatten)]
    pub kind: FindingKind,
}

impl Finding {
    pub fn infected(path: &[String], name: impl Into<String>, engine: &str) -> Self {
        let kind = FindingKind::Infected { name: name.into(), engine: engine.to_string() };
        Finding { path: path.to_vec(), kind }
    }

    pub fn suspicious(path: &[String], reason: impl Into<String>) -> Self {
        Finding { path: path.to_vec(), kind: FindingKind::Suspicious { reason: reason.into() } }
    }

    pub fn error(path: &[String], message: impl Into<String>) -> Self {
        Finding { path: path.to_vec(), kind: FindingKind::Error { message: message.into() } }
    }

    /// One line for humans: `path: NAME FOUND` in the style of clamscan.
    pub fn describe(&self) -> String {
        let at = display_path(&self.path);
        match &self.kind {
            FindingKind::Infected { name, .. } => format!("{at}: {name} FOUND"),
            FindingKind::Suspicious { reason } => format!("{at}: suspicious: {reason}"),
            FindingKind::Error { message } => format!("{at}: error: {message}"),
        }
    }
}

/// The overall answer for one scanned object; the worst finding decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    Clean,
    Infected { names: Vec<String> },
    Suspicious { reasons: Vec<String> },
    Error { messages: Vec<String> },
}

impl Verdict {
    /// Infected beats suspicious beats error beats clean: a file with a known threat is
    /// infected even if part of it could not be read.
    pub fn from_findings(findings: &[Finding]) -> Verdict {
        let mut names = Vec::new();
        let mut reasons = Vec::new();
        let mut messages = Vec::new();
        for finding in findings {
            match &finding.kind {
                FindingKind::Infected { name, .. } => push_unique(&mut names, name),
                FindingKind::Suspicious { reason } => push_unique(&mut reasons, reason),
                FindingKind::Error { message } => push_unique(&mut messages, message),
            }
        }
        if !names.is_empty() {
            Verdict::Infected { names }
        } else if !reasons.is_empty() {
            Verdict::Suspicious { reasons }
        } else if !messages.is_empty() {
            Verdict::Error { messages }
        } else {
            Verdict::Clean
        }
    }

    pub fn is_clean(&self) -> bool {
        matches!(self, Verdict::Clean)
    }

    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Infected { .. } => "infected",
            Verdict::Suspicious { .. } => "suspicious",
            Verdict::Error { .. } => "error",
        }
    }
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|existing| existing == item) {
        list.push(item.to_string());
    }
}

/// The result of scanning one object (a file, a mail, an HTTP body).
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    pub name: String,
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    /// Content type of the outer object, by content.
    pub file_type: String,
    pub size: u64,
    pub sha256: String,
    /// Objects looked at, the outer one included.
    pub objects_scanned: u64,
    /// Bytes looked at, expanded content of containers included.
    pub bytes_scanned: u64,
    /// Snapshot of the signature set that was used.
    pub signatures_version: u64,
}
