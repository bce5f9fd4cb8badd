//! DMARC verdicts over a scripted DNS: RFC 7489's discovery, alignment and `pct` cases.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::spf::dns::{DnsFailure, Lookup};
use crate::spf::{SpfDns, SpfResult};

/// TXT records by name; a name mapped to `None` fails as a timeout would.
#[derive(Default)]
struct Zone(HashMap<String, Option<Vec<Vec<u8>>>>);

impl Zone {
    fn txt(mut self, name: &str, text: &str) -> Zone {
        if let Some(records) = self.0.entry(name.to_string()).or_insert_with(|| Some(Vec::new())) {
            records.push(text.as_bytes().to_vec());
        }
        self
    }

    fn failing(mut self, name: &str) -> Zone {
        self.0.insert(name.to_string(), None);
        self
    }
}

impl SpfDns for Zone {
    async fn txt(&self, name: &str) -> Lookup<Vec<u8>> {
        match self.0.get(name) {
            Some(Some(records)) => Ok(records.clone()),
            Some(None) => Err(DnsFailure("timed out".into())),
            None => Ok(Vec::new()),
        }
    }
    async fn a(&self, _: &str) -> Lookup<Ipv4Addr> {
        Ok(Vec::new())
    }
    async fn aaaa(&self, _: &str) -> Lookup<Ipv6Addr> {
        Ok(Vec::new())
    }
    async fn mx(&self, _: &str) -> Lookup<String> {
        Ok(Vec::new())
    }
    async fn ptr(&self, _: IpAddr) -> Lookup<String> {
        Ok(Vec::new())
    }
}

fn spf_pass(domain: &str) -> Identifiers<'_> {
    Identifiers { spf_domain: domain, spf_result: SpfResult::Pass, dkim: Vec::new() }
}

fn dkim_pass(domain: &str) -> Identifiers<'_> {
    Identifiers {
        spf_domain: "unrelated.example.net",
        spf_result: SpfResult::Pass,
        dkim: vec![(domain, DkimStatus::Pass)],
    }
}

async fn verdict(zone: &Zone, author: &str, ids: &Identifiers<'_>, sample: u8) -> DmarcVerdict {
    evaluate(zone, &PublicSuffixList::embedded(), author, ids, sample).await
}

#[tokio::test]
async fn relaxed_spf_alignment_passes_on_the_organizational_domain() {
    let zone = Zone::default().txt("_dmarc.example.co.jp", "v=DMARC1; p=reject");
    let v = verdict(&zone, "example.co.jp", &spf_pass("bounce.example.co.jp"), 0).await;
    assert_eq!((v.result, v.published, v.applied), (DmarcResult::Pass, Some(Policy::Reject), Policy::Reject));
    assert_eq!(v.record_domain.as_deref(), Some("example.co.jp"));
}

#[tokio::test]
async fn strict_spf_alignment_needs_the_same_domain() {
    let zone = Zone::default().txt("_dmarc.example.co.jp", "v=DMARC1; p=reject; aspf=s");
    let v = verdict(&zone, "example.co.jp", &spf_pass("bounce.example.co.jp"), 0).await;
    assert_eq!((v.result, v.applied), (DmarcResult::Fail, Policy::Reject));
    let v = verdict(&zone, "example.co.jp", &spf_pass("EXAMPLE.co.jp."), 0).await;
    assert_eq!(v.result, DmarcResult::Pass);
}

#[tokio::test]
async fn dkim_alignment_relaxed_and_strict() {
    let relaxed = Zone::default().txt("_dmarc.example.co.jp", "v=DMARC1; p=quarantine");
    assert_eq!(verdict(&relaxed, "example.co.jp", &dkim_pass("mail.example.co.jp"), 0).await.result, DmarcResult::Pass);
    let strict = Zone::default().txt("_dmarc.example.co.jp", "v=DMARC1; p=quarantine; adkim=s");
    let v = verdict(&strict, "example.co.jp", &dkim_pass("mail.example.co.jp"), 0).await;
    assert_eq!((v.result, v.applied), (DmarcResult::Fail, Policy::Quarantine));
}

#[tokio::test]
async fn public_suffix_list_keeps_registrants_under_co_jp_apart() {
    // Both names end in co.jp, which is a public suffix: they belong to different
    // organizations, so a signature of one never aligns with the other.
    let zone = Zone::default().txt("_dmarc.example.co.jp", "v=DMARC1; p=reject");
    let v = verdict(&zone, "example.co.jp", &dkim_pass("attacker.co.jp"), 0).await;
    assert_eq!((v.result, v.applied), (DmarcResult::Fail, Policy::Reject));
    // The same under lg.jp for two municipalities.
    let zone = Zone::default().txt("_dmarc.city.midori.lg.jp", "v=DMARC1; p=reject");
    let v = verdict(&zone, "city.midori.lg.jp", &spf_pass("town.aoba.lg.jp"), 0).await;
    assert_eq!(v.result, DmarcResult::Fail);
    assert_eq!(
        verdict(&zone, "city.midori.lg.jp", &spf_pass("mail.city.midori.lg.jp"), 0).await.result,
        DmarcResult::Pass
    );
}

#[tokio::test]
async fn subdomains_take_sp_from_the_organizational_domain() {
    let zone = Zone::default().txt("_dmarc.midori.lg.jp", "v=DMARC1; p=reject; sp=quarantine");
    let v = verdict(&zone, "news.city.midori.lg.jp", &spf_pass("elsewhere.example.net"), 0).await;
    assert_eq!((v.result, v.published, v.applied), (DmarcResult::Fail, Some(Policy::Quarantine), Policy::Quarantine));
    assert_eq!(v.record_domain.as_deref(), Some("midori.lg.jp"));
    // Relaxed alignment of the subdomain with a signature of another name of the organization.
    let v = verdict(&zone, "news.city.midori.lg.jp", &dkim_pass("city.midori.lg.jp"), 0).await;
    assert_eq!(v.result, DmarcResult::Pass);
    // Without sp, p applies to subdomains too.
    let zone = Zone::default().txt("_dmarc.example.co.jp", "v=DMARC1; p=reject");
    let v = verdict(&zone, "news.example.co.jp", &spf_pass("elsewhere.example.net"), 0).await;
    assert_eq!(v.published, Some(Policy::Reject));
    // Only the Author Domain and the Organizational Domain are asked, nothing in between.
    let zone = Zone::default().txt("_dmarc.city.midori.lg.jp", "v=DMARC1; p=reject");
    let v = verdict(&zone, "news.city.midori.lg.jp", &spf_pass("elsewhere.example.net"), 0).await;
    assert_eq!(v.result, DmarcResult::None);
}

#[tokio::test]
async fn the_author_domains_own_record_wins() {
    let zone = Zone::default()
        .txt("_dmarc.news.example.co.jp", "v=DMARC1; p=none")
        .txt("_dmarc.example.co.jp", "v=DMARC1; p=reject");
    let v = verdict(&zone, "news.example.co.jp", &spf_pass("elsewhere.example.net"), 0).await;
    assert_eq!((v.result, v.published, v.applied), (DmarcResult::Fail, Some(Policy::None), Policy::None));
}

#[tokio::test]
async fn pct_samples_the_policy_and_relaxes_the_rest_one_step() {
    let zone = Zone::default().txt("_dmarc.example.co.jp", "v=DMARC1; p=reject; pct=30");
    let ids = spf_pass("elsewhere.example.net");
    assert_eq!(verdict(&zone, "example.co.jp", &ids, 29).await.applied, Policy::Reject);
    assert_eq!(verdict(&zone, "example.co.jp", &ids, 30).await.applied, Policy::Quarantine);
    let zone = Zone::default().txt("_dmarc.example.co.jp", "v=DMARC1; p=quarantine; pct=0");
    assert_eq!(verdict(&zone, "example.co.jp", &ids, 0).await.applied, Policy::None);
}

#[tokio::test]
async fn no_several_or_unusable_records_mean_no_policy() {
    let ids = spf_pass("elsewhere.example.net");
    let v = verdict(&Zone::default().txt("_dmarc.example.co.jp", "v=spf1 -all"), "example.co.jp", &ids, 0).await;
    assert_eq!((v.result, v.reason), (DmarcResult::None, None));
    let several = Zone::default()
        .txt("_dmarc.example.co.jp", "v=DMARC1; p=reject")
        .txt("_dmarc.example.co.jp", "v=DMARC1; p=none");
    let v = verdict(&several, "example.co.jp", &ids, 0).await;
    assert_eq!(v.result, DmarcResult::None);
    assert!(v.reason.unwrap().contains("several DMARC records"));
    let v = verdict(&Zone::default().txt("_dmarc.example.co.jp", "v=DMARC1; p=bogus"), "example.co.jp", &ids, 0).await;
    assert_eq!(v.result, DmarcResult::None);
    // A public suffix has no Organizational Domain above it to fall back to.
    assert_eq!(verdict(&Zone::default(), "co.jp", &ids, 0).await.result, DmarcResult::None);
}

#[tokio::test]
async fn dns_failures_are_temporary() {
    let ids = spf_pass("elsewhere.example.net");
    let v = verdict(&Zone::default().failing("_dmarc.example.co.jp"), "example.co.jp", &ids, 0).await;
    assert_eq!(v.result, DmarcResult::TempError);
    // An aligned DKIM signature whose key lookup failed: neither pass nor fail.
    let zone = Zone::default().txt("_dmarc.example.co.jp", "v=DMARC1; p=reject");
    let ids = Identifiers {
        spf_domain: "elsewhere.example.net",
        spf_result: SpfResult::Fail,
        dkim: vec![("example.co.jp", DkimStatus::TempError), ("other.example.net", DkimStatus::Pass)],
    };
    let v = verdict(&zone, "example.co.jp", &ids, 0).await;
    assert_eq!(v.result, DmarcResult::TempError);
}

#[tokio::test]
async fn a_second_from_address_cannot_shield_a_failing_one() {
    let zone = Zone::default()
        .txt("_dmarc.example.co.jp", "v=DMARC1; p=reject")
        .txt("_dmarc.sender.example.net", "v=DMARC1; p=reject");
    let ids = spf_pass("sender.example.net");
    let psl = PublicSuffixList::embedded();
    let v = evaluate_message(&zone, &psl, &["a@sender.example.net", "b@Example.co.jp"], &ids, 0).await.unwrap();
    assert_eq!((v.domain.as_str(), v.result, v.applied), ("example.co.jp", DmarcResult::Fail, Policy::Reject));
    assert!(evaluate_message(&zone, &psl, &[], &ids, 0).await.is_none());
}
