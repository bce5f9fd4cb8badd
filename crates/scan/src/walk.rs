//! The recursive walk over one object and everything inside it: file type, name checks,
//! signatures, then members, within the limits.

use crate::clamav::Object;
use crate::containers::{self, Flow, Member, Visitor};
use crate::filetype::{self, FileType};
use crate::limits::{Limits, ReadCap, ReadError};
use crate::names;
use crate::signatures::SignatureSet;
use crate::verdict::{Finding, FindingKind};
use sha2::Digest;

pub(crate) struct Walk<'s> {
    set: &'s SignatureSet,
    limits: &'s Limits,
    /// Owned: the session's scanner outlives the owner of any one object.
    owner: String,
    /// Lent by the session for the walk, so that it is built once per session.
    #[cfg(feature = "yara")]
    pub yara: Option<crate::yara::YaraScanner<'s>>,
    pub findings: Vec<Finding>,
    pub objects: u64,
    pub bytes: u64,
    expanded: u64,
    /// Set when a scan-wide limit is reached: no more members are opened.
    exhausted: bool,
}

impl<'s> Walk<'s> {
    pub fn new(set: &'s SignatureSet, limits: &'s Limits, owner: &str) -> Self {
        Walk {
            set,
            limits,
            owner: owner.to_string(),
            #[cfg(feature = "yara")]
            yara: None,
            findings: Vec::new(),
            objects: 0,
            bytes: 0,
            expanded: 0,
            exhausted: false,
        }
    }

    /// Scans `data`, found at `path` (whose last element names it); `file_name` is the name
    /// its container gave it as a file, if any. Returns the object's type and SHA-256 (zeros
    /// for a member when no signature needs it).
    pub fn object(
        &mut self,
        path: &mut Vec<String>,
        file_name: Option<&str>,
        data: &[u8],
        depth: u32,
    ) -> (FileType, [u8; 32]) {
        self.objects += 1;
        self.bytes += data.len() as u64;
        let file_type = filetype::detect(data);
        // The report gives the file's SHA-256; a member's is only worth computing for the
        // signatures that look it up.
        let sha256: [u8; 32] =
            if depth == 0 || self.set.clamav.needs_sha256() { sha2::Sha256::digest(data).into() } else { [0; 32] };
        if let Some(file_name) = file_name {
            for reason in names::check_name(file_name, file_type) {
                self.findings.push(Finding::suspicious(path, reason));
            }
        }
        for name in self.set.clamav.scan(&Object { data, file_type, sha256: &sha256 }) {
            self.findings.push(Finding::infected(path, name, "clamav"));
        }
        // A tar found inside a container (the content of a .tar.gz) is its members' bytes
        // with headers between them: the rules run on every member, and on the whole tar
        // only when something in it is not a member or its members could not all be read.
        let rules_through_members = file_type == FileType::Tar
            && depth > 0
            && depth < self.limits.max_depth
            && containers::tar::members_hold_everything(data);
        if !rules_through_members {
            self.yara(path, file_name, file_type, data);
        }
        if depth >= self.limits.max_depth {
            if is_container(file_type) {
                let reason = format!("limit exceeded: containers nested deeper than {}", self.limits.max_depth);
                self.findings.push(Finding::suspicious(path, reason));
            }
            return (file_type, sha256);
        }
        let findings_before = self.findings.len();
        let mut visitor = MemberVisitor { walk: self, path, depth };
        let opened = containers::extract(file_type, data, &mut visitor);
        let members_all_read = matches!(opened, Some(Ok(()))) && !self.exhausted;
        match opened {
            None | Some(Ok(())) => {}
            Some(Err(ReadError::Limit(reason))) => {
                self.findings.push(Finding::suspicious(path, format!("limit exceeded: {reason}")));
            }
            Some(Err(ReadError::Malformed(message))) => self.findings.push(Finding::error(path, message)),
        }
        let member_failed =
            self.findings[findings_before..].iter().any(|f| !matches!(f.kind, FindingKind::Infected { .. }));
        if rules_through_members && (!members_all_read || member_failed) {
            self.yara(path, file_name, file_type, data);
        }
        (file_type, sha256)
    }

    #[cfg(feature = "yara")]
    fn yara(&mut self, path: &[String], file_name: Option<&str>, file_type: FileType, data: &[u8]) {
        let Some(scanner) = self.yara.as_mut() else { return };
        let file_path = file_name.unwrap_or_else(|| path.last().map_or("", String::as_str));
        let base = names::base_name(file_path);
        let extension = names::extension(base).unwrap_or_default();
        let facts = crate::yara::ObjectFacts {
            file_name: base,
            file_path,
            extension: &extension,
            file_type: file_type.name(),
            owner: &self.owner,
        };
        match scanner.scan(data, &facts) {
            Ok(rules) => {
                for rule in rules {
                    self.findings.push(Finding::infected(path, rule, "yara"));
                }
            }
            Err(message) => self.findings.push(Finding::error(path, message)),
        }
    }

    #[cfg(not(feature = "yara"))]
    fn yara(&mut self, _: &[String], _: Option<&str>, _: FileType, _: &[u8]) {
        let _ = self.owner;
    }
}

fn is_container(file_type: FileType) -> bool {
    use FileType::*;
    matches!(
        file_type,
        Zip | Ooxml
            | Jar
            | Gzip
            | Bzip2
            | Xz
            | Lzma
            | Tar
            | Cab
            | Arj
            | Chm
            | SevenZip
            | Sis
            | Cpio
            | Tnef
            | Szdd
            | BinHex
            | Mail
            | Mbox
            | Ole2
            | Pdf
            | Rtf
            | Html
    )
}

/// Hands each member of a container back to the walk, one level deeper.
struct MemberVisitor<'w, 's> {
    walk: &'w mut Walk<'s>,
    path: &'w mut Vec<String>,
    depth: u32,
}

impl Visitor for MemberVisitor<'_, '_> {
    fn cap(&self) -> ReadCap {
        let limits = self.walk.limits;
        let left = limits.max_expanded_size.saturating_sub(self.walk.expanded);
        ReadCap { max_bytes: limits.max_object_size.min(left), max_ratio: limits.max_ratio }
    }

    fn max_members(&self) -> u64 {
        self.walk.limits.max_files
    }

    fn container_name(&self) -> &str {
        self.path.last().map_or("", |name| crate::names::base_name(name))
    }

    fn member(&mut self, member: Member) -> Flow {
        if self.walk.exhausted {
            return Flow::Stop;
        }
        let walk = &mut *self.walk;
        match member {
            Member::Data { name, file_name, data } => {
                if walk.objects >= walk.limits.max_files {
                    let reason = format!("limit exceeded: more than {} files", walk.limits.max_files);
                    walk.findings.push(Finding::suspicious(self.path, reason));
                    walk.exhausted = true;
                    return Flow::Stop;
                }
                walk.expanded += data.len() as u64;
                self.path.push(name);
                walk.object(self.path, file_name.as_deref(), &data, self.depth + 1);
                self.path.pop();
            }
            Member::Unscannable { name, reason } => {
                self.path.push(name);
                walk.findings.push(Finding::suspicious(self.path, reason));
                self.path.pop();
            }
            Member::Failed { name, error: ReadError::Limit(reason) } => {
                self.path.push(name);
                walk.findings.push(Finding::suspicious(self.path, format!("limit exceeded: {reason}")));
                self.path.pop();
                if walk.expanded >= walk.limits.max_expanded_size {
                    walk.exhausted = true;
                }
                return Flow::Stop;
            }
            Member::Failed { name, error: ReadError::Malformed(message) } => {
                self.path.push(name);
                walk.findings.push(Finding::error(self.path, message));
                self.path.pop();
            }
        }
        if walk.exhausted { Flow::Stop } else { Flow::Continue }
    }
}
