//! The versioned configuration: every change to tenants, log senders or retention, whether it
//! comes from the file, the API, the CLI or a rollback, is validated as a whole and then kept
//! as a numbered revision with author, time, reason and diff. A change that fails validation is
//! refused and nothing is recorded, so the running configuration stays.

use std::sync::Arc;

use mamori_core::config::Problem;
use mamori_core::managed::ManagedConfig;
use mamori_store::{ControlStore, NewRevision, Revision, RevisionSummary, StoreError};

/// Why a change was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("the configuration is invalid:\n{}", list(.0))]
    Invalid(Vec<Problem>),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("control-plane store: {0}")]
    Store(String),
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
}

impl From<StoreError> for ChangeError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => ChangeError::Conflict(m),
            StoreError::NotFound(m) => ChangeError::NotFound(m),
            other => ChangeError::Store(other.to_string()),
        }
    }
}

/// The outcome of offering the file's configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum FileOutcome {
    /// The first revision was created from the file.
    Initialized(Revision),
    /// The file changed since it was last applied; it became a new revision.
    Applied(Revision),
    /// The file is as it was last applied; the latest revision (which may include changes made
    /// through the API) stays in force.
    Unchanged(Revision),
}

impl FileOutcome {
    pub fn revision(&self) -> &Revision {
        match self {
            FileOutcome::Initialized(r) | FileOutcome::Applied(r) | FileOutcome::Unchanged(r) => r,
        }
    }
}

/// Revisions of the managed configuration over a control-plane store.
#[derive(Clone)]
pub struct ConfigService {
    store: Arc<dyn ControlStore>,
}

impl ConfigService {
    pub fn new(store: Arc<dyn ControlStore>) -> Self {
        ConfigService { store }
    }

    pub fn store(&self) -> &Arc<dyn ControlStore> {
        &self.store
    }

    /// The configuration in force and its revision number.
    pub fn current(&self) -> Result<Option<(Revision, ManagedConfig)>, ChangeError> {
        match self.store.latest_revision()? {
            None => Ok(None),
            Some(r) => {
                let c = ManagedConfig::from_json(&r.config_json).map_err(ChangeError::Store)?;
                Ok(Some((r, c)))
            }
        }
    }

    /// Offers the configuration read from the file (at start and on reload). The file wins only
    /// when it changed since it was last applied, so edits made through the API survive a
    /// reload of an unchanged file; when it did change, the diff shows what it replaced.
    pub fn offer_file(&self, file: &ManagedConfig, author: &str, reason: &str) -> Result<FileOutcome, ChangeError> {
        let problems = file.validate();
        if !problems.is_empty() {
            return Err(ChangeError::Invalid(problems));
        }
        let Some((latest, _)) = self.current()? else {
            let r = self.record(file, None, author, "init", reason, Some(None))?;
            return Ok(FileOutcome::Initialized(r));
        };
        let last_file = self.last_from_file()?;
        let file_json = file.to_canonical_json();
        if last_file.as_ref().is_some_and(|r| r.config_json == file_json) {
            return Ok(FileOutcome::Unchanged(latest));
        }
        // Recorded even when the content equals what is in force (the API made the same
        // change), so that the history shows the file now says so.
        let old = ManagedConfig::from_json(&latest.config_json).map_err(ChangeError::Store)?;
        let r = self.record(file, Some(&old), author, "file", reason, Some(Some(latest.number)))?;
        Ok(FileOutcome::Applied(r))
    }

    /// Validates and records a change made through the API or the CLI. `expected_parent` is
    /// the revision the editor started from; if another change came first, this one is refused
    /// with a conflict rather than silently overwriting it.
    pub fn change(
        &self,
        new: &ManagedConfig,
        author: &str,
        source: &str,
        reason: &str,
        expected_parent: Option<i64>,
    ) -> Result<Revision, ChangeError> {
        if reason.trim().is_empty() {
            return Err(ChangeError::Invalid(vec![Problem::new(Default::default(), "a change needs a reason")]));
        }
        let problems = new.validate();
        if !problems.is_empty() {
            return Err(ChangeError::Invalid(problems));
        }
        let current = self.current()?;
        let old = current.as_ref().map(|(_, c)| c);
        let expected = match expected_parent {
            Some(p) => Some(Some(p)),
            None => Some(current.as_ref().map(|(r, _)| r.number)),
        };
        self.record(new, old, author, source, reason, expected)
    }

    /// Makes revision `number`'s configuration current again, as a new revision.
    pub fn rollback(&self, number: i64, author: &str, reason: &str) -> Result<Revision, ChangeError> {
        let target = self
            .store
            .revision(number)?
            .ok_or_else(|| ChangeError::NotFound(format!("there is no revision {number}")))?;
        let config = ManagedConfig::from_json(&target.config_json).map_err(ChangeError::Store)?;
        let reason = if reason.trim().is_empty() {
            return Err(ChangeError::Invalid(vec![Problem::new(Default::default(), "a rollback needs a reason")]));
        } else {
            format!("rollback to revision {number}: {reason}")
        };
        let problems = config.validate();
        if !problems.is_empty() {
            return Err(ChangeError::Invalid(problems));
        }
        let current = self.current()?;
        let parent = current.as_ref().map(|(r, _)| r.number);
        self.record(&config, current.as_ref().map(|(_, c)| c), author, "rollback", &reason, Some(parent))
    }

    pub fn history(&self, limit: usize, before: Option<i64>) -> Result<Vec<RevisionSummary>, ChangeError> {
        Ok(self.store.revisions(limit, before)?)
    }

    pub fn revision(&self, number: i64) -> Result<Revision, ChangeError> {
        self.store.revision(number)?.ok_or_else(|| ChangeError::NotFound(format!("there is no revision {number}")))
    }

    /// What changed from revision `a` to revision `b`.
    pub fn diff(&self, a: i64, b: i64) -> Result<String, ChangeError> {
        let load = |n| -> Result<ManagedConfig, ChangeError> {
            ManagedConfig::from_json(&self.revision(n)?.config_json).map_err(ChangeError::Store)
        };
        Ok(load(b)?.diff_from(&load(a)?))
    }

    fn record(
        &self,
        new: &ManagedConfig,
        old: Option<&ManagedConfig>,
        author: &str,
        source: &str,
        reason: &str,
        expected_parent: Option<Option<i64>>,
    ) -> Result<Revision, ChangeError> {
        let diff = new.diff_from(old.unwrap_or(&ManagedConfig::default()));
        Ok(self.store.append_revision(
            NewRevision {
                author: author.to_string(),
                source: source.to_string(),
                reason: reason.to_string(),
                config_json: new.to_canonical_json(),
                diff,
            },
            expected_parent,
        )?)
    }

    /// The newest revision that came from the file.
    fn last_from_file(&self) -> Result<Option<Revision>, ChangeError> {
        let mut before = None;
        loop {
            let page = self.store.revisions(200, before)?;
            if let Some(s) = page.iter().find(|s| s.source == "file" || s.source == "init") {
                return Ok(self.store.revision(s.number)?);
            }
            match page.last() {
                Some(last) => before = Some(last.number),
                None => return Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests;
