//! The scoring rules: built-in ones for what municipal mailboxes receive (GTUBE, Japanese and
//! English phishing wording, money and dating spam, link tricks, header anomalies) and the
//! prefecture's own from `[mail.spam.rules]`. Each rule is a case-insensitive regular
//! expression on one part of the message, compiled once.

use mamori_core::config::mail::SpamRule;
use regex::{Regex, RegexBuilder};

use super::text::{MailText, url_host};

/// The anti-spam test string (GTUBE): any filter must call a message carrying it spam.
pub const GTUBE: &str = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Subject,
    Body,
    Url,
    From,
    Header,
}

pub struct Rule {
    pub name: String,
    pub score: f64,
    target: Target,
    header: String,
    pattern: Regex,
}

/// (name, score, target, pattern)
const BUILT_IN: &[(&str, f64, &str, &str)] = &[
    (
        "JP_PHISHING_WORDS",
        2.5,
        "body",
        r"アカウント.{0,12}(停止|凍結|制限|ロック)|本人確認.{0,10}(必要|お願い|手続)|(至急|緊急).{0,8}(確認|更新|対応)|パスワード.{0,12}(有効期限|期限切れ)|お支払い.{0,8}(情報|方法).{0,8}(更新|確認)",
    ),
    (
        "EN_PHISHING_WORDS",
        2.5,
        "body",
        r"verify your (account|identity)|account (has been |was )?(suspended|locked|disabled)|confirm your (password|billing)|unusual sign-?in activity",
    ),
    ("JP_MONEY_DATING", 1.5, "body", r"高収入|副業で|簡単に稼|完全無料|当選(しました|おめでとう)|出会い系|即金|儲かる"),
    ("SUBJECT_SHOUTING", 1.0, "subject", r"^[^a-z]*[A-Z]{12,}[^a-z]*$|[!！]{3,}"),
    (
        "URL_SHORTENER",
        1.0,
        "url",
        r"^https?://(bit\.ly|tinyurl\.com|t\.co|goo\.gl|ow\.ly|is\.gd|buff\.ly|rebrand\.ly|cutt\.ly)/",
    ),
    ("URL_NUMERIC_HOST", 2.0, "url", r"^https?://\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}([:/]|$)"),
    ("URL_CREDENTIALS", 2.0, "url", r"^https?://[^/@]+@"),
    (
        "FROM_FREEMAIL_OFFICIAL_NAME",
        1.5,
        "from",
        r"^(役所|市役所|町役場|県庁|銀行|bank|support|security).*@(gmail\.com|yahoo\.co\.jp|outlook\.com|hotmail\.com)$",
    ),
];

impl Rule {
    pub fn compile(name: &str, score: f64, target: &str, pattern: &str) -> Result<Rule, String> {
        let (target, header) = match target {
            "subject" => (Target::Subject, String::new()),
            "body" => (Target::Body, String::new()),
            "url" => (Target::Url, String::new()),
            "from" => (Target::From, String::new()),
            t => match t.strip_prefix("header:") {
                Some(h) if !h.is_empty() => (Target::Header, h.to_ascii_lowercase()),
                _ => return Err(format!("rule {name}: '{target}' is not a target")),
            },
        };
        let pattern = RegexBuilder::new(pattern)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| format!("rule {name}: {e}"))?;
        Ok(Rule { name: name.to_string(), score, target, header, pattern })
    }

    pub fn matches(&self, t: &MailText) -> bool {
        match self.target {
            Target::Subject => self.pattern.is_match(&t.subject),
            Target::Body => self.pattern.is_match(&t.body),
            Target::Url => t.urls.iter().any(|u| self.pattern.is_match(u)),
            // The display name and the address, as "name <address>" would read without brackets.
            Target::From => {
                self.pattern.is_match(&format!("{}{}", t.from_name, t.from_address))
                    || self.pattern.is_match(&t.from_address)
            }
            Target::Header => t.headers.iter().any(|(n, v)| *n == self.header && self.pattern.is_match(v)),
        }
    }
}

/// The built-in rules then `extra`; an error names the rule.
pub fn compile_all(extra: &[SpamRule]) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for (name, score, target, pattern) in BUILT_IN {
        rules.push(Rule::compile(name, *score, target, pattern)?);
    }
    for r in extra {
        rules.push(Rule::compile(&r.name, r.score, &r.target, &r.pattern)?);
    }
    Ok(rules)
}

/// Checks that are not one pattern: (name, score) for each that fires.
pub fn structural(t: &MailText) -> Vec<(&'static str, f64)> {
    let mut hits = Vec::new();
    if t.body.contains(GTUBE) {
        hits.push(("GTUBE", 1000.0));
    }
    let has = |name: &str| t.headers.iter().any(|(n, _)| n == name);
    if !has("date") {
        hits.push(("MISSING_DATE", 1.0));
    }
    if !has("message-id") {
        hits.push(("MISSING_MESSAGE_ID", 1.0));
    }
    if t.html_only {
        hits.push(("HTML_ONLY", 0.5));
    }
    if t.mislabelled {
        hits.push(("CHARSET_MISLABELLED", 0.5));
    }
    // A display name that is itself an address of another domain ("support@bank.example" <x@evil>).
    if let Some((_, named)) = t.from_name.rsplit_once('@') {
        let named = named.trim_end_matches(['>', ' ', '"']).to_ascii_lowercase();
        let actual = t.from_address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        if !named.is_empty() && named != actual {
            hits.push(("FROM_NAME_OTHER_ADDRESS", 2.5));
        }
    }
    // Links whose text names one host and whose target is another cannot be seen here; many
    // distinct link hosts in a short mail are a sign of spam runs.
    let hosts: std::collections::HashSet<String> = t.urls.iter().filter_map(|u| url_host(u)).collect();
    if hosts.len() >= 8 && t.body.chars().count() < 2000 {
        hits.push(("MANY_LINK_HOSTS", 1.0));
    }
    hits
}

/// Advertising by its Japanese legal label (特定電子メール法: 「未承諾広告※」) or by the marks of
/// bulk mail: a List-Unsubscribe header, or Precedence: bulk with unsubscribe wording.
pub fn is_advertising(t: &MailText) -> bool {
    if t.subject.trim_start().starts_with("未承諾広告") {
        return true;
    }
    let header = |name: &str| t.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.to_ascii_lowercase());
    let unsubscribe_words = ["配信停止", "配信解除", "unsubscribe", "メルマガ"].iter().any(|w| t.body.contains(w));
    header("list-unsubscribe").is_some()
        || (header("precedence").is_some_and(|p| p.contains("bulk")) && unsubscribe_words)
}
