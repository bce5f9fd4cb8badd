//! Directives → ruleset. Rules are kept mutable while loading so that later directives
//! (`SecRuleRemoveById`, `SecRuleUpdateTargetById`, ...) can change earlier rules.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::ParseError;
use super::actions::{RawAction, split_actions};
use super::include;
use super::lexer::{Directive, lex};
use crate::operators::Operator;
use crate::rule::{Disruptive, EngineMode, Rule, id_range};
use crate::ruleset::{Item, LimitAction, Ruleset, Settings};
use crate::variables::parse_targets;

enum Entry {
    Rule(Box<Rule>),
    Marker(String),
}

/// Which rules a `SecRuleUpdate...` directive changes.
enum RuleSel {
    Id(i64, i64),
    Tag(String),
    Msg(String),
}

impl RuleSel {
    fn matches(&self, r: &Rule) -> bool {
        match self {
            RuleSel::Id(a, b) => r.id >= *a && r.id <= *b,
            RuleSel::Tag(t) => r.tags.iter().any(|x| x == t),
            RuleSel::Msg(m) => r.msg.as_ref().and_then(|x| x.literal()) == Some(m.as_bytes()),
        }
    }
}

/// Updates apply to the rules loaded before and after them, as in libmodsecurity.
enum Update {
    Targets(RuleSel, Vec<crate::variables::Target>),
    Actions(RuleSel, Vec<RawAction>),
}

#[derive(Default)]
pub struct Loader {
    entries: Vec<Entry>,
    updates: Vec<Update>,
    defaults: HashMap<u8, Vec<RawAction>>,
    settings: Settings,
    depth: usize,
}

const MAX_INCLUDE_DEPTH: usize = 16;

impl Loader {
    pub fn new() -> Loader {
        Loader::default()
    }

    pub fn load_file(&mut self, path: &Path) -> Result<(), ParseError> {
        let name = path.display().to_string();
        let text = std::fs::read(path).map_err(|e| ParseError::at(&name, 0, format!("cannot read: {e}")))?;
        let text = String::from_utf8_lossy(&text);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        self.load_str(&text, &name, &dir)
    }

    /// Loads SecLang text; `name` labels errors and `dir` resolves `Include` and data files.
    pub fn load_str(&mut self, text: &str, name: &str, dir: &Path) -> Result<(), ParseError> {
        for d in lex(text) {
            self.directive(&d, name, dir).map_err(|reason| ParseError::at(name, d.line, reason))?;
        }
        Ok(())
    }

    fn directive(&mut self, d: &Directive, file: &str, dir: &Path) -> Result<(), String> {
        let arg = |i: usize| d.args.get(i).map(String::as_str).ok_or_else(|| format!("{} needs an argument", d.name));
        let on = |i: usize| -> Result<bool, String> {
            match arg(i)?.to_ascii_lowercase().as_str() {
                "on" => Ok(true),
                "off" => Ok(false),
                o => Err(format!("{}: expected On or Off, got '{o}'", d.name)),
            }
        };
        let size = |i: usize| -> Result<usize, String> {
            arg(i)?.parse().map_err(|_| format!("{}: invalid size '{}'", d.name, arg(i).unwrap_or("")))
        };
        match d.name.to_ascii_lowercase().as_str() {
            "secrule" => {
                if d.args.len() < 2 || d.args.len() > 3 {
                    return Err(format!(
                        "SecRule needs variables, an operator and actions, got {} arguments",
                        d.args.len()
                    ));
                }
                let targets = parse_targets(&d.args[0])?;
                let op = Operator::parse(&d.args[1], dir)?;
                let actions = split_actions(d.args.get(2).map(String::as_str).unwrap_or(""))?;
                self.add_rule(targets, Some(op), actions, file, d.line)?;
            }
            "secaction" => {
                let actions = split_actions(arg(0)?)?;
                self.add_rule(Vec::new(), None, actions, file, d.line)?;
            }
            "secmarker" => {
                self.close_chain_check()?;
                self.entries.push(Entry::Marker(arg(0)?.to_string()));
            }
            "secdefaultaction" => {
                let actions = split_actions(arg(0)?)?;
                let phase = phase_of(&actions)?.ok_or("SecDefaultAction needs a phase")?;
                // `block` defers to the default action, so it cannot be one.
                if !actions.iter().any(|a| matches!(a.name.as_str(), "pass" | "deny" | "drop" | "allow" | "redirect")) {
                    return Err("SecDefaultAction must specify a disruptive action".into());
                }
                if let Some(a) =
                    actions.iter().find(|a| matches!(a.name.as_str(), "id" | "chain" | "skip" | "skipafter"))
                {
                    return Err(format!("the action '{}' is not suitable to be part of SecDefaultAction", a.name));
                }
                if self.defaults.contains_key(&phase) {
                    return Err(format!("SecDefaultAction can be given once per phase; phase {phase} has one already"));
                }
                self.defaults.insert(phase, actions);
            }
            "secruleengine" => self.settings.engine = EngineMode::parse(arg(0)?)?,
            "secrequestbodyaccess" => self.settings.request_body_access = on(0)?,
            "secresponsebodyaccess" => self.settings.response_body_access = on(0)?,
            "secrequestbodylimit" => self.settings.request_body_limit = size(0)?,
            "secrequestbodynofileslimit" => self.settings.request_body_no_files_limit = size(0)?,
            "secresponsebodylimit" => self.settings.response_body_limit = size(0)?,
            "secargumentslimit" => self.settings.args_limit = Some(size(0)?),
            "secuploadfilelimit" => self.settings.upload_file_limit = size(0)?,
            "secrequestbodyjsondepthlimit" => self.settings.json_depth_limit = size(0)?,
            "secunicodemapfile" => unicode_map_file(&d.args, dir)?,
            "secrequestbodylimitaction" => self.settings.request_body_limit_action = limit_action(arg(0)?)?,
            "secresponsebodylimitaction" => self.settings.response_body_limit_action = limit_action(arg(0)?)?,
            "secresponsebodymimetype" => self
                .settings
                .response_mime_types
                .extend(d.args.iter().flat_map(|a| a.split_whitespace()).map(|s| s.to_ascii_lowercase())),
            "secresponsebodymimetypesclear" => self.settings.response_mime_types.clear(),
            "secruleremovebyid" => {
                let mut ranges = Vec::new();
                for a in d.args.iter().flat_map(|a| a.split([' ', ','])).filter(|s| !s.is_empty()) {
                    ranges.push(id_range(a)?);
                }
                self.entries
                    .retain(|e| !matches!(e, Entry::Rule(r) if ranges.iter().any(|&(a, b)| r.id >= a && r.id <= b)));
            }
            "secruleremovebytag" => {
                let tag = arg(0)?;
                self.entries.retain(|e| !matches!(e, Entry::Rule(r) if r.tags.iter().any(|t| t == tag)));
            }
            "secruleremovebymsg" => {
                let msg = arg(0)?.as_bytes();
                self.entries
                    .retain(|e| !matches!(e, Entry::Rule(r) if r.msg.as_ref().and_then(|m| m.literal()) == Some(msg)));
            }
            "secruleupdatetargetbyid" | "secruleupdatetargetbytag" | "secruleupdatetargetbymsg" => {
                let key = arg(0)?.to_string();
                let targets = parse_targets(arg(1)?)?;
                let sel = match d.name.to_ascii_lowercase().as_str() {
                    "secruleupdatetargetbyid" => {
                        let (a, b) = id_range(&key)?;
                        RuleSel::Id(a, b)
                    }
                    "secruleupdatetargetbytag" => RuleSel::Tag(key),
                    _ => RuleSel::Msg(key),
                };
                self.updates.push(Update::Targets(sel, targets));
            }
            "secruleupdateactionbyid" => {
                let (a, b) = id_range(arg(0)?)?;
                let actions = split_actions(arg(1)?)?;
                // Checked now so that a bad action is reported on this line.
                Rule::new(file, d.line).apply_actions(&actions)?;
                self.updates.push(Update::Actions(RuleSel::Id(a, b), actions));
            }
            "include" => {
                if self.depth >= MAX_INCLUDE_DEPTH {
                    return Err("Include nested too deeply".into());
                }
                let files = include::expand(arg(0)?, dir)?;
                if files.is_empty() {
                    return Err(format!("Include '{}' matches no file", arg(0)?));
                }
                for f in files {
                    self.depth += 1;
                    let r = self.load_file(&f);
                    self.depth -= 1;
                    r.map_err(|e| format!("in Include: {e}"))?;
                }
            }
            "seccomponentsignature"
            | "seccollectiontimeout"
            | "secargumentseparator"
            | "seccookieformat"
            | "secunicodecodepage"
            | "secstatusengine"
            | "sectmpdir"
            | "secdatadir"
            | "secauditengine"
            | "secauditlog"
            | "secauditlogparts"
            | "secauditlogtype"
            | "secauditlogformat"
            | "secauditlogstoragedir"
            | "secauditlogrelevantstatus"
            | "secauditlogdirmode"
            | "secauditlogfilemode"
            | "secdebuglog"
            | "secdebugloglevel"
            | "secpcrematchlimit"
            | "secpcrematchlimitrecursion"
            | "secrequestbodyinmemorylimit"
            | "secserversignature"
            | "secuploaddir"
            | "secuploadkeepfiles"
            | "sectmpsaveuploadedfiles"
            | "secuploadfilemode"
            | "secxmlexternalentity"
            | "secwebappid"
            | "sechashengine"
            | "sechashkey"
            | "sechashparam"
            | "sechashmethodrx"
            | "sechashmethodpm"
            | "secgeolookupdb"
            | "secsensorid"
            | "secconnengine"
            | "secremoterulesfailaction"
            | "sechttpblkey"
            | "secinterceptonerror"
            | "secruleperftime"
            | "secstreaminbodyinspection"
            | "secstreamoutbodyinspection"
            | "secdisablebackendcompression"
            | "seccontentinjection"
            | "secgsblookupdb"
            | "secguardianlog"
            | "secchrootdir"
            | "secreadstatechrootdir" => {}
            "secremoterules" => {
                return Err("SecRemoteRules is not supported: mamori never downloads rules at run time".into());
            }
            other => return Err(format!("unknown directive '{other}'")),
        }
        Ok(())
    }

    fn close_chain_check(&self) -> Result<(), String> {
        if let Some(Entry::Rule(r)) = self.entries.last()
            && last_link(r).wants_chain
        {
            return Err(format!("rule {} ends its chain without a chained rule", r.id));
        }
        Ok(())
    }

    fn add_rule(
        &mut self,
        targets: Vec<crate::variables::Target>,
        op: Option<Operator>,
        actions: Vec<RawAction>,
        file: &str,
        line: usize,
    ) -> Result<(), String> {
        let mut rule = Rule::new(file, line);
        rule.targets = targets;
        rule.op = op;
        // A chained rule continues the previous one and takes no defaults.
        if let Some(Entry::Rule(parent)) = self.entries.last_mut()
            && last_link(parent).wants_chain
        {
            let phase = parent.phase;
            // libmodsecurity accepts (and ignores) an id or phase on a chained rule.
            rule.apply_actions(&actions)?;
            rule.phase = phase;
            rule.id = parent.id;
            last_link_mut(parent).chain = Some(Box::new(rule));
            return Ok(());
        }
        let phase = phase_of(&actions)?.unwrap_or(2);
        // As in libmodsecurity, a rule takes the default's other actions, but its disruptive
        // action only through `block`; a rule with none passes.
        let is_disruptive =
            |a: &RawAction| matches!(a.name.as_str(), "pass" | "deny" | "block" | "drop" | "allow" | "redirect");
        let defaults = self.defaults.get(&phase).map(Vec::as_slice).unwrap_or(&[]);
        let inherited: Vec<RawAction> = defaults
            .iter()
            .filter(|a| {
                !matches!(a.name.as_str(), "id" | "phase" | "chain" | "skip" | "skipafter") && !is_disruptive(a)
            })
            .cloned()
            .collect();
        rule.apply_actions(&inherited)?;
        rule.apply_actions(&actions)?;
        if rule.disruptive == Some(Disruptive::Block) {
            let mut by_default = Rule::new(file, line);
            let default_disruptive: Vec<RawAction> =
                defaults.iter().filter(|a| is_disruptive(a) && a.name != "block").cloned().collect();
            by_default.apply_actions(&default_disruptive)?;
            rule.disruptive = match by_default.disruptive {
                Some(d @ (Disruptive::Deny | Disruptive::Drop | Disruptive::Redirect(_))) => Some(d),
                _ => Some(Disruptive::Pass),
            };
        } else if rule.disruptive.is_none() {
            rule.disruptive = Some(Disruptive::Pass);
        }
        // Rules without an id are accepted (libmodsecurity does), but cannot be targeted.
        if rule.id != 0 && self.entries.iter().any(|e| matches!(e, Entry::Rule(r) if r.id == rule.id)) {
            return Err(format!("duplicate rule id {}", rule.id));
        }
        self.entries.push(Entry::Rule(Box::new(rule)));
        Ok(())
    }

    /// A last rule that asks for a chain but has none is kept, as libmodsecurity keeps it: it
    /// never completes a match.
    pub fn build(self) -> Result<Ruleset, ParseError> {
        let mut rs = Ruleset { settings: self.settings, phases: Default::default() };
        for e in self.entries {
            match e {
                Entry::Rule(mut r) => {
                    for u in &self.updates {
                        match u {
                            Update::Targets(sel, t) if sel.matches(&r) => r.targets.extend(t.iter().cloned()),
                            Update::Actions(sel, a) if sel.matches(&r) => {
                                r.apply_actions(a).map_err(|e| ParseError::at(&r.file, r.line, e))?
                            }
                            _ => {}
                        }
                    }
                    let p = (r.phase - 1) as usize;
                    rs.phases[p].push(Item::Rule(Arc::new(*r)));
                }
                Entry::Marker(m) => {
                    let m: Arc<str> = Arc::from(m.as_str());
                    for p in &mut rs.phases {
                        p.push(Item::Marker(m.clone()));
                    }
                }
            }
        }
        Ok(rs)
    }
}

/// `SecUnicodeMapFile FILE CODEPAGE`: the file must exist (it is not used: `t:urlDecodeUni`
/// maps `%uXXXX` by its low byte, as ModSecurity does without a map).
fn unicode_map_file(args: &[String], dir: &Path) -> Result<(), String> {
    let (code_page, file) = match args.split_last() {
        Some((cp, file)) if !file.is_empty() => (cp, file.join(" ")),
        _ => return Err("SecUnicodeMapFile needs a file and a code page".into()),
    };
    if code_page.parse::<u32>().is_err() {
        return Err(format!("SecUnicodeMapFile: invalid code page '{code_page}'"));
    }
    if !dir.join(&file).is_file() {
        return Err(format!("failed to locate the unicode map file from: {file}"));
    }
    Ok(())
}

fn limit_action(v: &str) -> Result<LimitAction, String> {
    match v.to_ascii_lowercase().as_str() {
        "reject" => Ok(LimitAction::Reject),
        "processpartial" => Ok(LimitAction::ProcessPartial),
        _ => Err(format!("body limit action must be Reject or ProcessPartial, got '{v}'")),
    }
}

fn last_link(r: &Rule) -> &Rule {
    match &r.chain {
        Some(c) => last_link(c),
        None => r,
    }
}

fn last_link_mut(r: &mut Rule) -> &mut Rule {
    match r.chain {
        Some(ref mut c) => last_link_mut(c),
        None => r,
    }
}

fn phase_of(actions: &[RawAction]) -> Result<Option<u8>, String> {
    let mut probe = Rule::new("", 0);
    let mut phase = None;
    for a in actions.iter().filter(|a| a.name == "phase") {
        probe.apply_actions(std::slice::from_ref(a))?;
        phase = Some(probe.phase);
    }
    Ok(phase)
}
