//! What a tenant's policy decides about the lists a request fell in.

use crate::matcher::{ListId, Matcher, Matches};

/// What a list means to a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Threat intelligence: blocked for everyone, whatever the allow lists say.
    Threat,
    /// Allowed, and not looked at further by block lists or categories.
    Allow,
    Block,
    /// Reading allowed, writing (posting, uploading) blocked: bulletin boards, social networks.
    ReadOnly,
}

/// Whether a request only reads or also writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Read,
    Write,
}

impl Method {
    /// GET, HEAD, OPTIONS and CONNECT read (a tunnel is decided again inside when decrypted);
    /// every other method, known or not, writes.
    pub fn from_http(method: &str) -> Method {
        match method {
            "GET" | "HEAD" | "OPTIONS" | "CONNECT" | "TRACE" => Method::Read,
            _ => Method::Write,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Block,
}

/// Why the decision was taken; the block page and the access log show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// In a threat-intelligence list.
    Threat(ListId),
    /// In an allow list.
    AllowList(ListId),
    /// In a blocked list or category.
    Blocked(ListId),
    /// A write to a read-only list or category.
    WriteRestricted(ListId),
    /// The tenant allows only its allow lists and this is in none.
    NotAllowListed,
    /// Nothing applied.
    Default,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    pub reason: Reason,
}

/// A tenant's meaning for each list of a matcher (common lists and its own).
#[derive(Debug, Clone, Default)]
pub struct Policy {
    actions: Vec<Option<Action>>,
    allow_only: bool,
}

impl Policy {
    pub fn new() -> Policy {
        Policy::default()
    }

    pub fn set(&mut self, list: ListId, action: Action) -> &mut Policy {
        let i = list as usize;
        if self.actions.len() <= i {
            self.actions.resize(i + 1, None);
        }
        self.actions[i] = Some(action);
        self
    }

    /// Only allow-listed destinations pass.
    pub fn allow_only(&mut self, yes: bool) -> &mut Policy {
        self.allow_only = yes;
        self
    }

    pub fn action(&self, list: ListId) -> Option<Action> {
        self.actions.get(list as usize).copied().flatten()
    }

    /// The verdict for a request that fell in `matches`. Precedence: threats, then allow
    /// lists, then blocked lists and categories, then write restrictions, then the default.
    pub fn decide(&self, matches: &Matches, method: Method) -> Verdict {
        let first = |wanted: Action| matches.lists().iter().copied().find(|l| self.action(*l) == Some(wanted));
        let (decision, reason) = if let Some(l) = first(Action::Threat) {
            (Decision::Block, Reason::Threat(l))
        } else if let Some(l) = first(Action::Allow) {
            (Decision::Allow, Reason::AllowList(l))
        } else if let Some(l) = first(Action::Block) {
            (Decision::Block, Reason::Blocked(l))
        } else if let (Method::Write, Some(l)) = (method, first(Action::ReadOnly)) {
            (Decision::Block, Reason::WriteRestricted(l))
        } else if self.allow_only {
            (Decision::Block, Reason::NotAllowListed)
        } else {
            (Decision::Allow, Reason::Default)
        };
        Verdict { decision, reason }
    }

    /// Lookup and decision in one step, for callers without a reusable buffer.
    pub fn check(&self, matcher: &Matcher, target: &crate::Target, method: Method) -> (Verdict, Matches) {
        let mut m = Matches::default();
        matcher.lookup(target, &mut m);
        (self.decide(&m, method), m)
    }
}
