//! One decision per message from everything the checks found. The strongest action wins
//! (reject, then quarantine, then tag, then deliver); its cause is reported.

use mamori_core::config::mail::{ContentPolicy, DmarcAction, MailAction};
use mamori_scan::ScanReport;
use mamori_scan::verdict::{FindingKind, display_path};

use crate::quarantine::Cause;
use crate::spam::SpamVerdict;

/// What the checks found in one message, as lines for logs, headers and notices.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Findings {
    /// `NAME in PATH` for every signature that matched.
    pub virus: Vec<String>,
    /// Suspicious findings and objects that could not be scanned completely.
    pub suspicious: Vec<String>,
    /// DMARC result and the author domain's policy (`none`, `quarantine`, `reject`).
    pub dmarc: Option<(&'static str, &'static str)>,
    /// The spam score of mail from the internet.
    pub spam: Option<SpamVerdict>,
}

impl Findings {
    pub fn from_scan(report: &ScanReport) -> Findings {
        let mut f = Findings::default();
        for finding in &report.findings {
            let at = display_path(&finding.path);
            match &finding.kind {
                FindingKind::Infected { name, .. } => push_unique(&mut f.virus, format!("{name} in {at}")),
                FindingKind::Suspicious { reason } => push_unique(&mut f.suspicious, format!("{reason} in {at}")),
                FindingKind::Error { message } => {
                    push_unique(&mut f.suspicious, format!("not scanned completely: {message} in {at}"))
                }
            }
        }
        f
    }

    /// Names of the malware found, without places (for the event's threat fields).
    pub fn virus_names(report: &ScanReport) -> Vec<String> {
        let mut names = Vec::new();
        for finding in &report.findings {
            if let FindingKind::Infected { name, .. } = &finding.kind {
                push_unique(&mut names, name.clone());
            }
        }
        names
    }
}

fn push_unique(list: &mut Vec<String>, s: String) {
    if !list.contains(&s) {
        list.push(s);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Deliver,
    /// Deliver with the subject tag and an `X-Mamori-Verdict` header giving these reasons.
    Tag {
        reasons: Vec<String>,
    },
    Quarantine {
        cause: Cause,
        reasons: Vec<String>,
    },
    Reject {
        cause: Cause,
        reasons: Vec<String>,
    },
}

impl Decision {
    pub fn action(&self) -> &'static str {
        match self {
            Decision::Deliver => "deliver",
            Decision::Tag { .. } => "tag",
            Decision::Quarantine { .. } => "quarantine",
            Decision::Reject { .. } => "reject",
        }
    }
}

fn rank(a: MailAction) -> u8 {
    match a {
        MailAction::Deliver => 0,
        MailAction::Tag => 1,
        MailAction::Quarantine => 2,
        MailAction::Reject => 3,
    }
}

/// What the tenant's DMARC setting makes of a failure under the domain's published policy.
fn dmarc_action(setting: DmarcAction, result: &str, published: &str) -> MailAction {
    if result != "fail" {
        return MailAction::Deliver;
    }
    let enforced = published == "quarantine" || published == "reject";
    match setting {
        DmarcAction::Ignore => MailAction::Deliver,
        DmarcAction::Tag => MailAction::Tag,
        DmarcAction::Quarantine if enforced => MailAction::Quarantine,
        DmarcAction::Quarantine => MailAction::Deliver,
        DmarcAction::Follow => match published {
            "reject" => MailAction::Reject,
            "quarantine" => MailAction::Quarantine,
            _ => MailAction::Deliver,
        },
    }
}

/// Weighs the findings against `policy`.
pub fn decide(policy: &ContentPolicy, findings: &Findings) -> Decision {
    // (action, cause, reasons) of each flag; malware first so that it wins ties.
    let mut flags: Vec<(MailAction, Cause, Vec<String>)> = Vec::new();
    if !findings.virus.is_empty() {
        let reasons = findings.virus.iter().map(|v| format!("virus: {v}")).collect();
        flags.push((policy.virus_action, Cause::Virus, reasons));
    }
    if !findings.suspicious.is_empty() {
        let reasons = findings.suspicious.iter().map(|s| format!("suspicious: {s}")).collect();
        flags.push((policy.suspicious_action, Cause::Suspicious, reasons));
    }
    if let Some((result, published)) = findings.dmarc {
        let action = dmarc_action(policy.dmarc_action, result, published);
        flags.push((action, Cause::Dmarc, vec![format!("dmarc: {result} (p={published})")]));
    }
    if let Some(spam) = &findings.spam {
        let action = if policy.spam_reject_score.is_some_and(|r| spam.score >= r) {
            MailAction::Reject
        } else if spam.score >= policy.spam_quarantine_score {
            MailAction::Quarantine
        } else if spam.score >= policy.spam_tag_score {
            MailAction::Tag
        } else {
            MailAction::Deliver
        };
        flags.push((action, Cause::Spam, vec![format!("spam: {}", spam.describe())]));
        if spam.advertising && spam.score > -100.0 {
            flags.push((policy.advertising_action, Cause::Advertising, vec!["advertising".into()]));
        }
    }
    let Some(strongest) = flags.iter().map(|(a, ..)| rank(*a)).max().filter(|&r| r > 0) else {
        return Decision::Deliver;
    };
    let cause = flags.iter().find(|(a, ..)| rank(*a) == strongest).map(|(_, c, _)| *c).unwrap_or(Cause::Virus);
    // Every flag worth mentioning is reported, not only the deciding one.
    let reasons: Vec<String> =
        flags.into_iter().filter(|(a, ..)| rank(*a) > 0).flat_map(|(_, _, reasons)| reasons).collect();
    match strongest {
        1 => Decision::Tag { reasons },
        2 => Decision::Quarantine { cause, reasons },
        _ => Decision::Reject { cause, reasons },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(virus: bool, suspicious: bool, dmarc: Option<(&'static str, &'static str)>) -> Findings {
        Findings {
            virus: if virus { vec!["Eicar in m.eml".into()] } else { vec![] },
            suspicious: if suspicious { vec!["encrypted zip in m.eml > a.zip".into()] } else { vec![] },
            dmarc,
            spam: None,
        }
    }

    #[test]
    fn clean_mail_is_delivered() {
        assert_eq!(decide(&ContentPolicy::default(), &findings(false, false, None)), Decision::Deliver);
        assert_eq!(
            decide(&ContentPolicy::default(), &findings(false, false, Some(("pass", "reject")))),
            Decision::Deliver
        );
    }

    #[test]
    fn malware_wins_over_everything_else() {
        let d = decide(&ContentPolicy::default(), &findings(true, true, Some(("fail", "none"))));
        let Decision::Quarantine { cause, reasons } = d else { panic!("{d:?}") };
        assert_eq!(cause, Cause::Virus);
        assert_eq!(reasons, vec!["virus: Eicar in m.eml", "suspicious: encrypted zip in m.eml > a.zip"]);
        let reject = ContentPolicy { virus_action: MailAction::Reject, ..Default::default() };
        assert!(matches!(decide(&reject, &findings(true, false, None)), Decision::Reject { cause: Cause::Virus, .. }));
    }

    #[test]
    fn suspicious_mail_is_tagged_by_default() {
        let d = decide(&ContentPolicy::default(), &findings(false, true, None));
        assert_eq!(d.action(), "tag");
    }

    #[test]
    fn dmarc_follows_the_published_policy_or_the_tenant() {
        let follow = ContentPolicy::default();
        assert_eq!(decide(&follow, &findings(false, false, Some(("fail", "reject")))).action(), "reject");
        assert_eq!(decide(&follow, &findings(false, false, Some(("fail", "quarantine")))).action(), "quarantine");
        assert_eq!(decide(&follow, &findings(false, false, Some(("fail", "none")))).action(), "deliver");
        let tag = ContentPolicy { dmarc_action: DmarcAction::Tag, ..Default::default() };
        assert_eq!(decide(&tag, &findings(false, false, Some(("fail", "reject")))).action(), "tag");
        let quarantine = ContentPolicy { dmarc_action: DmarcAction::Quarantine, ..Default::default() };
        assert_eq!(decide(&quarantine, &findings(false, false, Some(("fail", "reject")))).action(), "quarantine");
        assert_eq!(decide(&quarantine, &findings(false, false, Some(("fail", "none")))).action(), "deliver");
        let ignore = ContentPolicy { dmarc_action: DmarcAction::Ignore, ..Default::default() };
        assert_eq!(decide(&ignore, &findings(false, false, Some(("fail", "reject")))).action(), "deliver");
    }

    #[test]
    fn spam_scores_meet_the_tenant_thresholds() {
        let spam = |score: f64, advertising: bool| Findings {
            spam: Some(SpamVerdict { score, hits: vec![], advertising }),
            ..Default::default()
        };
        let p = ContentPolicy::default();
        assert_eq!(decide(&p, &spam(4.9, false)).action(), "deliver");
        assert_eq!(decide(&p, &spam(5.0, false)).action(), "tag");
        assert_eq!(decide(&p, &spam(12.0, false)).action(), "quarantine");
        assert_eq!(decide(&p, &spam(1000.0, false)).action(), "quarantine", "no refusal unless asked");
        let strict = ContentPolicy { spam_reject_score: Some(15.0), ..Default::default() };
        assert!(matches!(decide(&strict, &spam(20.0, false)), Decision::Reject { cause: Cause::Spam, .. }));
        assert_eq!(decide(&p, &spam(0.0, true)).action(), "tag", "advertising is tagged by default");
        let ads_held = ContentPolicy { advertising_action: MailAction::Quarantine, ..Default::default() };
        assert!(matches!(decide(&ads_held, &spam(0.0, true)), Decision::Quarantine { cause: Cause::Advertising, .. }));
        assert_eq!(decide(&ads_held, &spam(-100.0, true)).action(), "deliver", "allow-listed senders pass");
    }

    #[test]
    fn the_strongest_action_names_its_cause() {
        let d = decide(&ContentPolicy::default(), &findings(false, true, Some(("fail", "reject"))));
        assert!(matches!(d, Decision::Reject { cause: Cause::Dmarc, .. }), "{d:?}");
    }
}
