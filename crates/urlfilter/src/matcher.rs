//! Every list of a configuration compiled into one index: which lists a target falls in.

use std::collections::HashMap;
use std::net::IpAddr;

use foldhash::fast::RandomState;
use ipnet::IpNet;

use crate::domain_table::DomainTable;
use crate::entry::{Entry, REGEX_SIZE_LIMIT};
use crate::normalize::Target;

/// The number of a list in its matcher.
pub type ListId = u16;

/// Where a key's list ids sit in the shared id arena: most keys are in one list, so a flat
/// arena costs 8 bytes a key instead of an allocation each.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

#[derive(Debug)]
struct UrlRule {
    key: Box<str>,
    exact: bool,
    span: Span,
}

/// Collects lists and their entries; [`MatcherBuilder::build`] compiles them.
#[derive(Debug, Default)]
pub struct MatcherBuilder {
    names: Vec<String>,
    domains: HashMap<String, Vec<ListId>, RandomState>,
    urls: HashMap<(String, bool), Vec<ListId>, RandomState>,
    regexes: Vec<(String, ListId)>,
    nets: HashMap<IpNet, Vec<ListId>, RandomState>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("more than {} lists", ListId::MAX)]
    TooManyLists,
    #[error("the regular expressions do not compile together: {0}")]
    Regex(#[from] regex::Error),
}

impl MatcherBuilder {
    pub fn new() -> MatcherBuilder {
        MatcherBuilder::default()
    }

    /// The id of the list called `name`, created on first use.
    pub fn list(&mut self, name: &str) -> Result<ListId, BuildError> {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return Ok(i as ListId);
        }
        let id = ListId::try_from(self.names.len()).map_err(|_| BuildError::TooManyLists)?;
        self.names.push(name.to_string());
        Ok(id)
    }

    pub fn add(&mut self, list: ListId, entry: Entry) {
        let ids = match entry {
            Entry::Domain(d) => self.domains.entry(d).or_default(),
            Entry::Url { key, exact } => self.urls.entry((key, exact)).or_default(),
            Entry::Net(n) => self.nets.entry(n).or_default(),
            Entry::Regex(r) => {
                self.regexes.push((r, list));
                return;
            }
        };
        if !ids.contains(&list) {
            ids.push(list);
        }
    }

    pub fn build(self) -> Result<Matcher, BuildError> {
        let mut arena = Vec::new();
        let mut span = |ids: Vec<ListId>| {
            let s = Span { start: arena.len() as u32, len: ids.len() as u32 };
            arena.extend(ids);
            s
        };
        let domains: Vec<(String, Span)> = self.domains.into_iter().map(|(k, ids)| (k, span(ids))).collect();
        let domains = DomainTable::new(domains.into_iter());
        let mut urls: HashMap<Box<str>, Vec<UrlRule>, RandomState> = HashMap::default();
        for ((key, exact), ids) in self.urls {
            let host = key[..key.find(['/', '?']).unwrap_or(key.len())].to_string().into_boxed_str();
            urls.entry(host).or_default().push(UrlRule { key: key.into_boxed_str(), exact, span: span(ids) });
        }
        let mut nets = NetIndex::default();
        for (net, ids) in self.nets {
            nets.insert(net, span(ids));
        }
        let regex = if self.regexes.is_empty() {
            None
        } else {
            Some(
                regex::RegexSetBuilder::new(self.regexes.iter().map(|(r, _)| r))
                    .case_insensitive(true)
                    .size_limit(REGEX_SIZE_LIMIT * self.regexes.len().min(64))
                    .build()?,
            )
        };
        let regex_lists = self.regexes.into_iter().map(|(_, l)| l).collect();
        Ok(Matcher {
            names: self.names,
            arena,
            domains,
            urls: urls.into_iter().map(|(k, v)| (k, v.into_boxed_slice())).collect(),
            regex,
            regex_lists,
            nets,
        })
    }
}

/// The compiled lists. Immutable: a change builds a new one and swaps it in.
#[derive(Debug)]
pub struct Matcher {
    names: Vec<String>,
    arena: Vec<ListId>,
    domains: DomainTable,
    urls: HashMap<Box<str>, Box<[UrlRule]>, RandomState>,
    regex: Option<regex::RegexSet>,
    regex_lists: Vec<ListId>,
    nets: NetIndex,
}

/// The lists a target fell in; reused between lookups so that a lookup allocates nothing.
#[derive(Debug, Default, Clone)]
pub struct Matches {
    lists: Vec<ListId>,
}

impl Matches {
    pub fn lists(&self) -> &[ListId] {
        &self.lists
    }

    pub fn contains(&self, list: ListId) -> bool {
        self.lists.contains(&list)
    }

    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }
}

impl Matcher {
    pub fn list_names(&self) -> &[String] {
        &self.names
    }

    pub fn list_id(&self, name: &str) -> Option<ListId> {
        self.names.iter().position(|n| n == name).map(|i| i as ListId)
    }

    pub fn list_name(&self, id: ListId) -> &str {
        self.names.get(id as usize).map_or("?", |s| s.as_str())
    }

    /// Entries held (domains, URLs, networks and expressions).
    pub fn len(&self) -> usize {
        self.domains.len()
            + self.urls.values().map(|v| v.len()).sum::<usize>()
            + self.nets.len()
            + self.regex_lists.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills `out` with every list `target` falls in, in ascending order.
    pub fn lookup(&self, target: &Target, out: &mut Matches) {
        out.lists.clear();
        let mut rest = target.host();
        loop {
            if let Some(s) = self.domains.get(rest) {
                self.push(s, out);
            }
            match rest.find('.') {
                Some(i) => rest = &rest[i + 1..],
                None => break,
            }
        }
        if let Some(rules) = self.urls.get(target.key_host()) {
            let key = target.url_key();
            for r in rules.iter() {
                if if r.exact { key == &*r.key } else { key.starts_with(&*r.key) } {
                    self.push(r.span, out);
                }
            }
        }
        // Most URLs match no expression; `is_match` can stop early, `matches` cannot.
        if let Some(set) = self.regex.as_ref().filter(|s| s.is_match(target.url_key())) {
            for i in set.matches(target.url_key()).iter() {
                out.lists.push(self.regex_lists[i]);
            }
        }
        if let Some(ip) = target.ip() {
            self.nets.lookup(ip, &mut |s| self.push(s, out));
        }
        if out.lists.len() > 1 {
            out.lists.sort_unstable();
            out.lists.dedup();
        }
    }

    fn push(&self, s: Span, out: &mut Matches) {
        out.lists.extend_from_slice(&self.arena[s.start as usize..(s.start + s.len) as usize]);
    }
}

/// Networks grouped by prefix length: a lookup masks the address once per length present
/// (a handful in practice) and probes a hash map, however many networks there are.
#[derive(Debug, Default)]
struct NetIndex {
    v4: Vec<(u8, HashMap<u32, Span, RandomState>)>,
    v6: Vec<(u8, HashMap<u128, Span, RandomState>)>,
}

impl NetIndex {
    fn insert(&mut self, net: IpNet, span: Span) {
        match net {
            IpNet::V4(n) => group(&mut self.v4, n.prefix_len()).insert(u32::from(n.network()), span),
            IpNet::V6(n) => group(&mut self.v6, n.prefix_len()).insert(u128::from(n.network()), span),
        };
    }

    fn len(&self) -> usize {
        self.v4.iter().map(|(_, m)| m.len()).sum::<usize>() + self.v6.iter().map(|(_, m)| m.len()).sum::<usize>()
    }

    fn lookup(&self, ip: IpAddr, found: &mut impl FnMut(Span)) {
        match ip.to_canonical() {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                for (len, map) in &self.v4 {
                    let mask = if *len == 0 { 0 } else { u32::MAX << (32 - len) };
                    if let Some(s) = map.get(&(a & mask)) {
                        found(*s);
                    }
                }
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                for (len, map) in &self.v6 {
                    let mask = if *len == 0 { 0 } else { u128::MAX << (128 - len) };
                    if let Some(s) = map.get(&(a & mask)) {
                        found(*s);
                    }
                }
            }
        }
    }
}

fn group<K>(groups: &mut Vec<(u8, HashMap<K, Span, RandomState>)>, len: u8) -> &mut HashMap<K, Span, RandomState> {
    let i = match groups.iter().position(|(l, _)| *l == len) {
        Some(i) => i,
        None => {
            groups.push((len, HashMap::default()));
            groups.len() - 1
        }
    };
    &mut groups[i].1
}
