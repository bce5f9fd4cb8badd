//! Compiled rules and their actions.

use crate::macros::Macro;
use crate::operators::Operator;
use crate::seclang::actions::RawAction;
use crate::transforms::Transform;
use crate::variables::{Target, parse_target};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineMode {
    On,
    Off,
    DetectionOnly,
}

impl EngineMode {
    pub fn parse(s: &str) -> Result<EngineMode, String> {
        match s.to_ascii_lowercase().as_str() {
            "on" => Ok(EngineMode::On),
            "off" => Ok(EngineMode::Off),
            "detectiononly" => Ok(EngineMode::DetectionOnly),
            _ => Err(format!("invalid engine mode '{s}'")),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Disruptive {
    Pass,
    /// Uses the phase's default disruptive action.
    Block,
    Deny,
    Drop,
    /// `allow` (whole transaction), `allow:phase`, `allow:request`.
    Allow(AllowScope),
    Redirect(Macro),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AllowScope {
    All,
    Phase,
    Request,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SetOp {
    Set,
    Add,
    Sub,
    Delete,
}

#[derive(Debug, Clone)]
pub struct SetVar {
    pub collection: String,
    pub key: Macro,
    pub op: SetOp,
    pub value: Macro,
}

#[derive(Debug, Clone)]
pub enum Ctl {
    RuleEngine(EngineMode),
    RemoveById(i64, i64),
    RemoveByTag(String),
    RemoveTargetById(i64, i64, Target),
    RemoveTargetByTag(String, Target),
    RequestBodyProcessor(String),
    ForceRequestBodyVariable(bool),
    RequestBodyAccess(bool),
    ResponseBodyAccess(bool),
    /// Accepted and ignored (audit log settings and the like).
    Ignored,
}

#[derive(Debug)]
pub struct Rule {
    pub id: i64,
    pub phase: u8,
    pub targets: Vec<Target>,
    /// `None` for `SecAction`.
    pub op: Option<Operator>,
    pub transforms: Vec<Transform>,
    pub multi_match: bool,
    pub capture: bool,
    pub chain: Option<Box<Rule>>,
    pub msg: Option<Macro>,
    pub logdata: Option<Macro>,
    pub tags: Vec<String>,
    pub severity: Option<u8>,
    pub log: bool,
    pub setvars: Vec<SetVar>,
    pub ctls: Vec<Ctl>,
    pub skip: u32,
    pub skip_after: Option<String>,
    pub disruptive: Option<Disruptive>,
    pub status: Option<u16>,
    /// `chain` was given: the next rule directive continues this one.
    pub wants_chain: bool,
    pub file: String,
    pub line: usize,
}

impl Rule {
    pub fn new(file: &str, line: usize) -> Rule {
        Rule {
            id: 0,
            phase: 2,
            targets: Vec::new(),
            op: None,
            transforms: Vec::new(),
            multi_match: false,
            capture: false,
            chain: None,
            msg: None,
            logdata: None,
            tags: Vec::new(),
            severity: None,
            log: true,
            setvars: Vec::new(),
            ctls: Vec::new(),
            skip: 0,
            skip_after: None,
            disruptive: None,
            status: None,
            wants_chain: false,
            file: file.to_string(),
            line,
        }
    }

    /// Applies an action list in order (defaults first, then the rule's own).
    pub fn apply_actions(&mut self, actions: &[RawAction]) -> Result<(), String> {
        for a in actions {
            let v = a.value.as_deref().unwrap_or("");
            let need = || {
                a.value.as_deref().filter(|v| !v.is_empty()).ok_or_else(|| format!("action '{}' needs a value", a.name))
            };
            match a.name.as_str() {
                "id" => {
                    self.id =
                        need()?.trim().parse().ok().filter(|&id: &i64| id >= 0).ok_or(format!("invalid id '{v}'"))?
                }
                "phase" => {
                    self.phase = match need()?.to_ascii_lowercase().as_str() {
                        "1" | "request_headers" => 1,
                        "2" | "request" => 2,
                        "3" | "response_headers" => 3,
                        "4" | "response" => 4,
                        "5" | "logging" => 5,
                        p => return Err(format!("invalid phase '{p}'")),
                    }
                }
                "t" => {
                    if v.eq_ignore_ascii_case("none") {
                        self.transforms.clear();
                    } else {
                        self.transforms
                            .push(Transform::from_name(v).ok_or_else(|| format!("unknown transformation '{v}'"))?);
                    }
                }
                "msg" => self.msg = Some(Macro::parse_action(v)),
                "logdata" => self.logdata = Some(Macro::parse_action(v)),
                "tag" => self.tags.push(v.to_string()),
                "severity" => self.severity = Some(severity(v)?),
                "log" => self.log = true,
                "nolog" => self.log = false,
                "capture" => self.capture = true,
                "multimatch" => self.multi_match = true,
                "chain" => self.wants_chain = true,
                "setvar" => self.setvars.push(setvar(need()?)?),
                "ctl" => self.ctls.push(ctl(need()?)?),
                "skip" => self.skip = need()?.trim().parse().map_err(|_| format!("invalid skip '{v}'"))?,
                "skipafter" => self.skip_after = Some(need()?.to_string()),
                "pass" => self.disruptive = Some(Disruptive::Pass),
                "block" => self.disruptive = Some(Disruptive::Block),
                "deny" => self.disruptive = Some(Disruptive::Deny),
                "drop" => self.disruptive = Some(Disruptive::Drop),
                "allow" => {
                    let scope = match v.to_ascii_lowercase().as_str() {
                        "" => AllowScope::All,
                        "phase" => AllowScope::Phase,
                        "request" => AllowScope::Request,
                        o => return Err(format!("invalid allow scope '{o}'")),
                    };
                    self.disruptive = Some(Disruptive::Allow(scope))
                }
                "redirect" => self.disruptive = Some(Disruptive::Redirect(Macro::parse_action(need()?))),
                "status" => self.status = Some(need()?.trim().parse().map_err(|_| format!("invalid status '{v}'"))?),
                // Metadata and actions without effect on matching.
                "ver"
                | "rev"
                | "maturity"
                | "accuracy"
                | "auditlog"
                | "noauditlog"
                | "initcol"
                | "setsid"
                | "setuid"
                | "expirevar"
                | "sanitisematched"
                | "sanitisearg"
                | "sanitizematched"
                | "sanitizearg"
                | "sanitisematchedbytes"
                | "sanitizematchedbytes"
                | "setenv"
                | "append"
                | "prepend"
                | "proxy"
                | "pause"
                | "deprecatevar"
                | "sanitiserequestheader"
                | "sanitiseresponseheader"
                | "sanitizerequestheader"
                | "sanitizeresponseheader" => {}
                // Accepted and ignored: Lua scripts are not run (SecRuleScript is refused).
                "exec" if need()?.ends_with(".lua") => {}
                "exec" => return Err(format!("exec: expecting a Lua script, got '{v}'")),
                // XPath is not evaluated, but the declaration must be well formed.
                "xmlns" => xmlns(need()?)?,
                other => return Err(format!("unknown action '{other}'")),
            }
        }
        Ok(())
    }
}

/// `xmlns:prefix=href`, the href an absolute URI.
fn xmlns(v: &str) -> Result<(), String> {
    let (prefix, href) = v.split_once('=').ok_or("xmlns: missing equals sign")?;
    let href = href.trim_matches(['\'', '"']);
    if prefix.is_empty() || href.is_empty() {
        return Err("xmlns: expecting prefix=href".into());
    }
    if !href.contains("://") {
        return Err(format!("xmlns: missing href for prefix '{prefix}'"));
    }
    Ok(())
}

fn severity(v: &str) -> Result<u8, String> {
    Ok(match v.to_ascii_uppercase().as_str() {
        "EMERGENCY" | "0" => 0,
        "ALERT" | "1" => 1,
        "CRITICAL" | "2" => 2,
        "ERROR" | "3" => 3,
        "WARNING" | "4" => 4,
        "NOTICE" | "5" => 5,
        "INFO" | "6" => 6,
        "DEBUG" | "7" => 7,
        _ => return Err(format!("invalid severity '{v}'")),
    })
}

fn setvar(v: &str) -> Result<SetVar, String> {
    let (delete, v) = match v.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, v),
    };
    let (name, value) = match v.split_once('=') {
        Some((n, val)) => (n.trim(), Some(val)),
        None => (v.trim(), None),
    };
    let (coll, key) = name.split_once('.').ok_or_else(|| format!("setvar needs collection.name: '{v}'"))?;
    let (op, value) = if delete {
        (SetOp::Delete, "")
    } else {
        match value {
            None => (SetOp::Set, "1"),
            Some(val) if val.starts_with('+') => (SetOp::Add, &val[1..]),
            Some(val) if val.starts_with('-') => (SetOp::Sub, &val[1..]),
            Some(val) => (SetOp::Set, val),
        }
    };
    Ok(SetVar {
        collection: coll.to_ascii_uppercase(),
        key: Macro::parse_action(&key.to_ascii_lowercase()),
        op,
        value: Macro::parse_action(value),
    })
}

/// `1000` or `1000-1999`.
pub fn id_range(s: &str) -> Result<(i64, i64), String> {
    let s = s.trim();
    let parse = |x: &str| x.trim().parse::<i64>().map_err(|_| format!("invalid rule id '{x}'"));
    match s.split_once('-') {
        Some((a, b)) if !a.is_empty() => Ok((parse(a)?, parse(b)?)),
        _ => {
            let n = parse(s)?;
            Ok((n, n))
        }
    }
}

fn ctl(v: &str) -> Result<Ctl, String> {
    let (name, val) = v.split_once('=').ok_or_else(|| format!("ctl needs name=value: '{v}'"))?;
    let on = |x: &str| x.eq_ignore_ascii_case("on") || x == "1" || x.eq_ignore_ascii_case("true");
    Ok(match name.trim().to_ascii_lowercase().as_str() {
        "ruleengine" => Ctl::RuleEngine(EngineMode::parse(val)?),
        "ruleremovebyid" => {
            let (a, b) = id_range(val)?;
            Ctl::RemoveById(a, b)
        }
        "ruleremovebytag" => Ctl::RemoveByTag(val.to_string()),
        "ruleremovetargetbyid" => {
            let (id, t) =
                val.split_once(';').ok_or_else(|| format!("ruleRemoveTargetById needs id;target: '{val}'"))?;
            let (a, b) = id_range(id)?;
            Ctl::RemoveTargetById(a, b, parse_target(t)?)
        }
        "ruleremovetargetbytag" => {
            let (tag, t) =
                val.split_once(';').ok_or_else(|| format!("ruleRemoveTargetByTag needs tag;target: '{val}'"))?;
            Ctl::RemoveTargetByTag(tag.to_string(), parse_target(t)?)
        }
        "requestbodyprocessor" => Ctl::RequestBodyProcessor(val.to_ascii_uppercase()),
        "forcerequestbodyvariable" => Ctl::ForceRequestBodyVariable(on(val)),
        "requestbodyaccess" => Ctl::RequestBodyAccess(on(val)),
        "responsebodyaccess" => Ctl::ResponseBodyAccess(on(val)),
        "auditengine" | "auditlogparts" | "debugloglevel" | "hashengine" | "hashenforcement" | "requestbodylimit"
        | "responsebodylimit" | "parseXmlIntoArgs" | "parsexmlintoargs" => Ctl::Ignored,
        other => return Err(format!("unknown ctl '{other}'")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seclang::actions::split_actions;

    #[test]
    fn actions_compile() {
        let mut r = Rule::new("f", 1);
        let a = split_actions(
            "id:5,phase:1,t:lowercase,t:none,t:urlDecodeUni,block,setvar:'tx.a=+%{tx.b}',setvar:!tx.c,\
             ctl:ruleRemoveTargetById=942100;ARGS:foo,severity:'CRITICAL',nolog",
        )
        .unwrap();
        r.apply_actions(&a).unwrap();
        assert_eq!((r.id, r.phase, r.transforms.len(), r.severity, r.log), (5, 1, 1, Some(2), false));
        assert_eq!(r.setvars[0].op, SetOp::Add);
        assert_eq!(r.setvars[1].op, SetOp::Delete);
        assert!(matches!(r.ctls[0], Ctl::RemoveTargetById(942100, 942100, _)));
        assert!(r.apply_actions(&split_actions("bogus:1").unwrap()).is_err());
        assert!(r.apply_actions(&split_actions("t:nothing").unwrap()).is_err());
    }
}
