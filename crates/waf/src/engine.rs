//! One transaction through phases 1-5: rule evaluation, chains, skips, setvar, ctl, and the
//! disruptive outcome. Collections and variables are read in `collect.rs`.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::body::{self, Body};
use crate::macros::Macro;
use crate::request::{Pair, Request, Response, parse_cookies, parse_urlencoded};
use crate::rule::{AllowScope, Ctl, Disruptive, EngineMode, Rule, SetOp};
use crate::ruleset::{Item, LimitAction, Ruleset};
use crate::transforms::Transform;
use crate::variables::Target;

/// A rule (chain) that matched.
#[derive(Debug, Clone)]
pub struct MatchRecord {
    pub id: i64,
    pub phase: u8,
    pub msg: String,
    pub logdata: String,
    pub severity: Option<u8>,
    pub tags: Vec<String>,
    /// False for `nolog` rules (they act but do not appear in the error log).
    pub logged: bool,
    /// The operator of the last link (`Rx`, `Pm`, ...) and its parameter.
    pub operator: String,
    pub param: String,
    /// The last matched variable (`ARGS:id`) and its transformed value.
    pub var_name: String,
    pub var_value: Vec<u8>,
}

/// The transaction was stopped by a disruptive action.
#[derive(Debug, Clone, PartialEq)]
pub struct Interruption {
    pub rule_id: i64,
    pub status: u16,
    pub redirect: Option<String>,
}

enum RemovedTarget {
    ById(i64, i64, Target),
    ByTag(String, Target),
}

pub struct Transaction<'r> {
    pub(crate) rs: &'r Ruleset,
    pub(crate) mode: EngineMode,
    pub(crate) req: Request,
    pub(crate) resp: Option<Response>,
    pub(crate) args_get: Vec<Pair>,
    pub(crate) cookies: Vec<Pair>,
    pub(crate) body: Body,
    pub(crate) body_processor: Option<String>,
    pub(crate) force_body_var: bool,
    pub(crate) request_body_access: bool,
    pub(crate) response_body_access: bool,
    pub(crate) query_urlencoded_error: bool,
    /// A body was over its limit (INBOUND_DATA_ERROR, OUTBOUND_DATA_ERROR).
    pub(crate) inbound_data_error: bool,
    pub(crate) outbound_data_error: bool,
    /// TX, IP, GLOBAL, ... keyed by lower-case name.
    pub(crate) collections: FxHashMap<String, FxHashMap<String, Vec<u8>>>,
    pub(crate) matched_var: Option<(String, Vec<u8>)>,
    pub(crate) matched_vars: Vec<(String, Vec<u8>)>,
    pub(crate) current_rule: Option<Arc<Rule>>,
    removed_ids: Vec<(i64, i64)>,
    removed_tags: Vec<String>,
    removed_targets: Vec<RemovedTarget>,
    pub(crate) unique_id: String,
    matches: Vec<MatchRecord>,
    /// libmodsecurity-style `Target value: "..." (Variable: ...)` lines, when asked for.
    trace: Option<Vec<String>>,
    interruption: Option<Interruption>,
    allowed: Option<AllowScope>,
}

impl Ruleset {
    pub fn transaction(&self, req: Request) -> Transaction<'_> {
        let mut args_get = Vec::new();
        let query_urlencoded_error = parse_urlencoded(req.query().as_bytes(), &mut args_get);
        let mut cookies = Vec::new();
        for (n, v) in &req.headers {
            if n.eq_ignore_ascii_case("cookie") {
                parse_cookies(v, &mut cookies);
            }
        }
        let ct = req.content_type();
        let body_processor = if ct.starts_with("application/x-www-form-urlencoded") {
            Some("URLENCODED".to_string())
        } else if ct.starts_with("multipart/form-data") {
            Some("MULTIPART".to_string())
        } else {
            None
        };
        Transaction {
            rs: self,
            mode: self.settings.engine,
            args_get,
            cookies,
            body: Body::default(),
            body_processor,
            force_body_var: false,
            request_body_access: self.settings.request_body_access,
            response_body_access: self.settings.response_body_access,
            query_urlencoded_error,
            inbound_data_error: false,
            outbound_data_error: false,
            req,
            resp: None,
            collections: FxHashMap::default(),
            matched_var: None,
            matched_vars: Vec::new(),
            current_rule: None,
            removed_ids: Vec::new(),
            removed_tags: Vec::new(),
            removed_targets: Vec::new(),
            unique_id: String::from("mamori0000000000"),
            matches: Vec::new(),
            trace: None,
            interruption: None,
            allowed: None,
        }
    }
}

impl<'r> Transaction<'r> {
    pub fn set_unique_id(&mut self, id: &str) {
        self.unique_id = id.to_string();
    }

    /// Overrides `SecRuleEngine` for this transaction, so that one compiled ruleset serves
    /// sites that block and sites that only detect.
    pub fn set_engine_mode(&mut self, mode: EngineMode) {
        self.mode = mode;
    }

    /// Phases 1 and 2 (the body is parsed between them).
    pub fn process_request(&mut self) -> Option<Interruption> {
        self.run_phase(1);
        if self.interruption.is_none() {
            let (limit, action) = (self.rs.settings.request_body_limit, self.rs.settings.request_body_limit_action);
            self.inbound_data_error = self.over_limit(self.req.body.len(), limit, action);
        }
        if self.interruption.is_none() && self.request_body_access {
            self.parse_body();
        }
        self.run_phase(2);
        self.interruption.clone()
    }

    /// Phases 3 and 4.
    pub fn process_response(&mut self, resp: Response) -> Option<Interruption> {
        let body_len = resp.body.len();
        self.resp = Some(resp);
        self.run_phase(3);
        if self.interruption.is_none() {
            let (limit, action) = (self.rs.settings.response_body_limit, self.rs.settings.response_body_limit_action);
            self.outbound_data_error = self.over_limit(body_len, limit, action);
        }
        self.run_phase(4);
        self.interruption.clone()
    }

    /// Whether a body of `len` bytes is over `limit`; with `Reject` and the engine on, the
    /// transaction is stopped with 403, as libmodsecurity does when the body arrives.
    fn over_limit(&mut self, len: usize, limit: usize, action: LimitAction) -> bool {
        if self.mode == EngineMode::Off || limit == 0 || len <= limit {
            return false;
        }
        if action == LimitAction::Reject && self.mode == EngineMode::On {
            self.interruption = Some(Interruption { rule_id: 0, status: 403, redirect: None });
        }
        true
    }

    /// Phase 5, which runs even after an interruption.
    pub fn process_logging(&mut self) {
        self.run_phase(5);
    }

    /// Records each value an operator inspects, as libmodsecurity's debug log does (for the
    /// conformance runner; off otherwise, it costs a string per value).
    pub fn enable_trace(&mut self) {
        self.trace = Some(Vec::new());
    }

    pub fn trace(&self) -> &[String] {
        self.trace.as_deref().unwrap_or(&[])
    }

    fn trace_value(&mut self, name: &str, value: &[u8]) {
        if let Some(t) = &mut self.trace {
            // The space stands for the log prefix (`[9] Target value: ...`) upstream matches on.
            t.push(format!(" Target value: \"{}\" (Variable: {name})", value.escape_ascii()));
        }
    }

    pub fn matches(&self) -> &[MatchRecord] {
        &self.matches
    }

    pub fn interruption(&self) -> Option<&Interruption> {
        self.interruption.as_ref()
    }

    pub fn tx_var(&self, name: &str) -> Option<&[u8]> {
        self.collections.get("TX").and_then(|c| c.get(&name.to_ascii_lowercase())).map(Vec::as_slice)
    }

    pub(crate) fn response_body_visible(&self) -> bool {
        let Some(resp) = &self.resp else { return false };
        if !self.response_body_access {
            return false;
        }
        let ct =
            resp.header("content-type").map(|v| String::from_utf8_lossy(v).to_ascii_lowercase()).unwrap_or_default();
        let ct = ct.split(';').next().unwrap_or("").trim().to_string();
        self.rs.settings.response_mime_types.contains(&ct)
    }

    fn parse_body(&mut self) {
        let Some(p) = self.body_processor.clone() else { return };
        // The boundary is case-sensitive: pass the header as sent.
        let ct = self.req.header("content-type").map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
        let limit = self.rs.settings.request_body_limit.min(self.req.body.len());
        let limits = body::Limits {
            args_room: self.rs.settings.args_limit.map(|l| l.saturating_sub(self.args_get.len())),
            upload_files: self.rs.settings.upload_file_limit,
            json_depth: self.rs.settings.json_depth_limit,
        };
        self.body = body::process(&p, &ct, &self.req.body[..limit], limits);
        // Files do not count against SecRequestBodyNoFilesLimit.
        let no_files = self.body.multipart_no_files_bytes.unwrap_or(limit);
        if self.body.error.is_none() && no_files > self.rs.settings.request_body_no_files_limit {
            self.body.error = Some("Request body excluding files is bigger than the maximum expected.".into());
            self.inbound_data_error = true;
        }
    }

    fn run_phase(&mut self, phase: u8) {
        if self.mode == EngineMode::Off {
            return;
        }
        if phase < 5 && (self.interruption.is_some() || self.allowed == Some(AllowScope::All)) {
            return;
        }
        if phase <= 2 && self.allowed == Some(AllowScope::Request) {
            return;
        }
        if self.allowed == Some(AllowScope::Phase) {
            self.allowed = None;
        }
        let rs = self.rs;
        let items = &rs.phases[(phase - 1) as usize];
        let mut skip_after: Option<String> = None;
        let mut skip = 0u32;
        let mut i = 0;
        while i < items.len() {
            let item = &items[i];
            i += 1;
            let rule = match item {
                Item::Marker(m) => {
                    if skip_after.as_deref() == Some(&**m) {
                        skip_after = None;
                    }
                    continue;
                }
                Item::Rule(r) => r,
            };
            if let Some(target) = &skip_after {
                if rule.id.to_string() == *target {
                    skip_after = None;
                }
                continue;
            }
            if skip > 0 {
                skip -= 1;
                continue;
            }
            if self.is_removed(rule) {
                continue;
            }
            if !self.eval_chain(rule) {
                continue;
            }
            if rule.skip > 0 {
                skip = rule.skip;
            }
            if let Some(s) = &rule.skip_after {
                skip_after = Some(s.clone());
            }
            if self.mode == EngineMode::On {
                self.disrupt(rule, phase);
            }
            if self.interruption.is_some() && phase < 5 {
                return;
            }
            if self.allowed.is_some() {
                return;
            }
            if self.mode == EngineMode::Off {
                return;
            }
        }
    }

    fn disrupt(&mut self, rule: &Rule, phase: u8) {
        // A `status` may sit on any link of the chain.
        let mut status = rule.status;
        let mut link = rule;
        while let Some(next) = &link.chain {
            link = next;
            status = status.or(link.status);
        }
        let status = status.unwrap_or(403);
        match &rule.disruptive {
            Some(Disruptive::Deny) | Some(Disruptive::Drop) | Some(Disruptive::Block) if phase < 5 => {
                self.interruption = Some(Interruption { rule_id: rule.id, status, redirect: None });
            }
            Some(Disruptive::Redirect(m)) if phase < 5 => {
                let to = String::from_utf8_lossy(&m.expand(self)).into_owned();
                // A status that is not a redirection (the default's 403, say) becomes 302.
                let status = if (300..=308).contains(&status) { status } else { 302 };
                self.interruption = Some(Interruption { rule_id: rule.id, status, redirect: Some(to) });
            }
            Some(Disruptive::Allow(scope)) => self.allowed = Some(*scope),
            _ => {}
        }
    }

    fn is_removed(&self, rule: &Rule) -> bool {
        self.removed_ids.iter().any(|&(a, b)| rule.id >= a && rule.id <= b)
            || rule.tags.iter().any(|t| self.removed_tags.iter().any(|r| r == t))
    }

    /// Evaluates a rule and its chain; records a match when every link matched.
    fn eval_chain(&mut self, rule: &Arc<Rule>) -> bool {
        self.current_rule = Some(rule.clone());
        self.matched_vars.clear();
        let mut link: &Rule = rule;
        loop {
            if !self.eval_link(rule, link) {
                return false;
            }
            match &link.chain {
                Some(next) => link = next,
                // A chain that was asked for but never written never completes.
                None if link.wants_chain => return false,
                None => break,
            }
        }
        let expand = |m: &Option<Macro>, t: &Self| {
            m.as_ref().map(|m| String::from_utf8_lossy(&m.expand(t)).into_owned()).unwrap_or_default()
        };
        let mut last: &Rule = rule;
        while let Some(next) = &last.chain {
            last = next;
        }
        let (operator, param) = match &last.op {
            Some(op) => {
                let mut n = op.name.clone();
                if let Some(f) = n.get_mut(..1) {
                    f.make_ascii_uppercase();
                }
                (n, String::from_utf8_lossy(&op.param_expanded(self)).into_owned())
            }
            None => ("UnconditionalMatch".to_string(), String::new()),
        };
        let (var_name, var_value) = self.matched_var.clone().unwrap_or_default();
        let record = MatchRecord {
            operator,
            param,
            var_name,
            var_value,
            id: rule.id,
            phase: rule.phase,
            msg: expand(&rule.msg, self),
            logdata: expand(&rule.logdata, self),
            severity: rule.severity,
            tags: rule.tags.clone(),
            logged: rule.log,
        };
        self.matches.push(record);
        true
    }

    /// Like ModSecurity, a link's non-disruptive actions run for each matching value, as
    /// soon as it matches: a chained rule may read what its parent set (CRS 920420, 920450).
    fn eval_link(&mut self, top: &Rule, link: &Rule) -> bool {
        let Some(op) = &link.op else {
            self.run_actions(link);
            return true;
        };
        // MATCHED_VARS gathers the matches of every link of the chain so far (libmodsecurity).
        let values = self.collect(top, link);
        let mut any = false;
        for (name, value) in values {
            // With multiMatch the actions run once per stage that matched, as upstream does.
            let hits = if link.multi_match {
                self.check_multi(link, &name, &value)
            } else {
                let v = crate::transforms::apply_all(&link.transforms, &value);
                self.trace_value(&name, &v);
                usize::from(self.check(link, op, &name, &v))
            };
            for _ in 0..hits {
                self.run_actions(link);
            }
            any |= hits > 0;
        }
        any
    }

    /// How many of the value's transformation stages matched.
    fn check_multi(&mut self, link: &Rule, name: &str, value: &[u8]) -> usize {
        let Some(op) = &link.op else { return 0 };
        self.trace_value(name, value);
        let mut hit = usize::from(self.check(link, op, name, value));
        let mut cur = value.to_vec();
        for t in &link.transforms {
            let next = t.apply(&cur).into_owned();
            if next != cur {
                self.trace_value(name, &next);
                hit += usize::from(self.check(link, op, name, &next));
                cur = next;
            }
        }
        hit
    }

    fn check(&mut self, link: &Rule, op: &crate::operators::Operator, name: &str, v: &[u8]) -> bool {
        let (hit, caps) = op.matches(v, self, link.capture);
        if !hit {
            return false;
        }
        if link.capture
            && let Some(caps) = caps
        {
            let tx = self.collections.entry("TX".into()).or_default();
            for i in 0..10 {
                tx.remove(&i.to_string());
            }
            for (i, c) in caps.into_iter().enumerate() {
                tx.insert(i.to_string(), c);
            }
        }
        self.matched_var = Some((name.to_string(), v.to_vec()));
        self.matched_vars.push((name.to_string(), v.to_vec()));
        true
    }

    /// Whether a target of `top` was removed at run time (`ctl:ruleRemoveTarget...`).
    pub(crate) fn runtime_exclusions(&self, top: &Rule) -> Vec<&Target> {
        self.removed_targets
            .iter()
            .filter_map(|r| match r {
                RemovedTarget::ById(a, b, t) if top.id >= *a && top.id <= *b => Some(t),
                RemovedTarget::ByTag(tag, t) if top.tags.iter().any(|x| x == tag) => Some(t),
                _ => None,
            })
            .collect()
    }

    fn run_actions(&mut self, rule: &Rule) {
        for sv in &rule.setvars {
            let key = String::from_utf8_lossy(&sv.key.expand(self)).to_ascii_lowercase();
            let value = sv.value.expand(self);
            let coll = self.collections.entry(sv.collection.clone()).or_default();
            match sv.op {
                SetOp::Set => {
                    coll.insert(key, value);
                }
                SetOp::Delete => {
                    coll.remove(&key);
                }
                SetOp::Add | SetOp::Sub => {
                    let cur = coll.get(&key).map(|v| crate::operators::atoi(&String::from_utf8_lossy(v))).unwrap_or(0);
                    let d = crate::operators::atoi(&String::from_utf8_lossy(&value));
                    let n = if sv.op == SetOp::Add { cur.saturating_add(d) } else { cur.saturating_sub(d) };
                    coll.insert(key, n.to_string().into_bytes());
                }
            }
        }
        for c in &rule.ctls {
            match c {
                Ctl::RuleEngine(m) => self.mode = *m,
                Ctl::RemoveById(a, b) => self.removed_ids.push((*a, *b)),
                Ctl::RemoveByTag(t) => self.removed_tags.push(t.clone()),
                Ctl::RemoveTargetById(a, b, t) => self.removed_targets.push(RemovedTarget::ById(*a, *b, t.clone())),
                Ctl::RemoveTargetByTag(tag, t) => {
                    self.removed_targets.push(RemovedTarget::ByTag(tag.clone(), t.clone()))
                }
                Ctl::RequestBodyProcessor(p) => self.body_processor = Some(p.clone()),
                Ctl::ForceRequestBodyVariable(on) => self.force_body_var = *on,
                Ctl::RequestBodyAccess(on) => self.request_body_access = *on,
                Ctl::ResponseBodyAccess(on) => self.response_body_access = *on,
                Ctl::Ignored => {}
            }
        }
    }

    /// The transformed value used by operators, exposed for the conformance runner.
    pub fn transform(chain: &[Transform], v: &[u8]) -> Vec<u8> {
        crate::transforms::apply_all(chain, v).into_owned()
    }
}
