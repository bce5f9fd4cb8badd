//! Anti-spam for mail from the internet: a score from rules on the header, body and links
//! (`rules`), DNS block lists for the client's address and the links' hosts, the sender
//! authentication results, and sender allow and block lists (the tenant's, then the common
//! ones). Advertising is recognised as its own class. What a score leads to is the tenant's
//! choice (`content::decide`).

pub mod rules;
pub mod text;

use std::net::IpAddr;

use mamori_core::config::mail::{ContentPolicy, SpamConfig};

use crate::auth::AuthVerdict;
use crate::delivery::mx::MxResolver;
use rules::Rule;

/// The outcome for one message.
#[derive(Debug, Clone, PartialEq)]
pub struct SpamVerdict {
    pub score: f64,
    /// `NAME(score)` of every rule that fired.
    pub hits: Vec<String>,
    pub advertising: bool,
}

impl SpamVerdict {
    pub fn describe(&self) -> String {
        format!("score {:.1} [{}]", self.score, self.hits.join(" "))
    }
}

pub struct SpamFilter {
    rules: Vec<Rule>,
    dnsbl: Vec<String>,
    uribl: Vec<String>,
    block: Vec<String>,
    allow: Vec<String>,
    dns: Option<MxResolver>,
}

/// Allowed or blocked by a list entry: `user@domain` exactly, `@domain` or `domain` with its
/// subdomains.
fn listed(entries: &[String], sender: &str) -> Option<String> {
    let sender = sender.to_ascii_lowercase();
    let domain = sender.rsplit_once('@').map_or(sender.as_str(), |(_, d)| d);
    entries
        .iter()
        .find(|e| {
            let e = e.to_ascii_lowercase();
            if e.contains('@') && !e.starts_with('@') {
                return e == sender;
            }
            let d = e.trim_start_matches('@');
            domain == d || domain.strip_suffix(d).is_some_and(|rest| rest.ends_with('.'))
        })
        .cloned()
}

impl SpamFilter {
    /// Compiles the rules; `dns` asks the block lists (none: lists are not asked).
    pub fn build(config: &SpamConfig, dns: Option<MxResolver>) -> Result<SpamFilter, String> {
        Ok(SpamFilter {
            rules: rules::compile_all(&config.rules).map_err(|e| format!("mail.spam.rules: {e}"))?,
            dnsbl: config.dnsbl.clone(),
            uribl: config.uribl.clone(),
            block: config.block_senders.clone(),
            allow: config.allow_senders.clone(),
            dns,
        })
    }

    /// Scores one message. `sender` is the envelope sender; the From: address is checked
    /// against the lists too.
    pub async fn check(
        &self,
        raw: &[u8],
        client: IpAddr,
        sender: &str,
        auth: Option<&AuthVerdict>,
        tenant: &ContentPolicy,
    ) -> SpamVerdict {
        let text = text::extract(raw);
        let identities = [sender, text.from_address.as_str()];
        let find = |tenant_list: &[String], common: &[String]| {
            identities
                .iter()
                .filter(|s| !s.is_empty())
                .find_map(|s| listed(tenant_list, s).or_else(|| listed(common, s)))
        };
        // The tenant's allow list beats the common block list, and so on: own lists first.
        if let Some(entry) = find(&tenant.allow_senders, &[]) {
            return SpamVerdict { score: -100.0, hits: vec![format!("ALLOW_LISTED({entry})")], advertising: false };
        }
        let mut hits: Vec<(String, f64)> = Vec::new();
        if let Some(entry) = find(&tenant.block_senders, &[]).or_else(|| find(&[], &self.block)) {
            hits.push((format!("BLOCK_LISTED({entry})"), 100.0));
        } else if let Some(entry) = find(&[], &self.allow) {
            return SpamVerdict { score: -100.0, hits: vec![format!("ALLOW_LISTED({entry})")], advertising: false };
        }
        hits.extend(rules::structural(&text).into_iter().map(|(n, s)| (n.to_string(), s)));
        for rule in &self.rules {
            if rule.matches(&text) {
                hits.push((rule.name.clone(), rule.score));
            }
        }
        if let Some(a) = auth {
            match a.result {
                "fail" => hits.push(("SPF_FAIL".into(), 3.0)),
                "softfail" => hits.push(("SPF_SOFTFAIL".into(), 1.0)),
                _ => {}
            }
            if !a.dkim.is_empty() && !a.dkim.contains(&"pass") {
                hits.push(("DKIM_INVALID".into(), 1.0));
            }
            if a.dmarc.is_some_and(|(r, _)| r == "fail") {
                hits.push(("DMARC_FAIL".into(), 3.0));
            }
        }
        if let Some(dns) = &self.dns {
            hits.extend(self.block_lists(dns, client, &text.urls).await);
        }
        let score = hits.iter().map(|(_, s)| s).sum();
        SpamVerdict {
            score,
            hits: hits.into_iter().map(|(n, s)| format!("{n}({s})")).collect(),
            advertising: rules::is_advertising(&text),
        }
    }

    async fn block_lists(&self, dns: &MxResolver, client: IpAddr, urls: &[String]) -> Vec<(String, f64)> {
        let mut hits = Vec::new();
        let reversed = match client {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                format!("{}.{}.{}.{}", o[3], o[2], o[1], o[0])
            }
            // RFC 5782 §2.4: nibbles in reverse.
            IpAddr::V6(v6) => {
                let hex: String = v6.octets().iter().map(|b| format!("{b:02x}")).collect();
                hex.chars().rev().map(|c| c.to_string()).collect::<Vec<_>>().join(".")
            }
        };
        for zone in &self.dnsbl {
            // RFC 5782 §2.1: listed addresses answer with 127.0.0.0/8.
            if dns.ipv4(&format!("{reversed}.{zone}")).await.iter().any(|a| a.octets()[0] == 127) {
                hits.push((format!("DNSBL({zone})"), 5.0));
            }
        }
        let hosts: std::collections::BTreeSet<String> =
            urls.iter().filter_map(|u| text::url_host(u)).take(20).collect();
        for zone in &self.uribl {
            for host in &hosts {
                if dns.ipv4(&format!("{host}.{zone}")).await.iter().any(|a| a.octets()[0] == 127) {
                    hits.push((format!("URIBL({zone}:{host})"), 4.0));
                    break;
                }
            }
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_entries_match_addresses_and_domains() {
        let entries = vec!["boss@city.example.jp".to_string(), "@partner.example".into(), "spam.example".into()];
        assert!(listed(&entries, "Boss@City.example.jp").is_some());
        assert!(listed(&entries, "other@city.example.jp").is_none());
        assert!(listed(&entries, "a@partner.example").is_some());
        assert!(listed(&entries, "a@mail.spam.example").is_some());
        assert!(listed(&entries, "a@notspam.example").is_none());
    }
}
