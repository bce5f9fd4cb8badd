//! DMARC evaluation of one message (RFC 7489 §6.6): policy discovery at the Author Domain, then
//! at its Organizational Domain (§6.6.3); identifier alignment of the SPF-authenticated domain
//! and of each valid DKIM signature's `d=` (§3.1, strict or relaxed); the policy that applies
//! (`p`, or `sp` for a subdomain found through the Organizational Domain's record) and the `pct`
//! sample (§6.6.4).

use super::org_domain::PublicSuffixList;
use super::record::{self, Alignment, DmarcRecord, Policy, RecordError};
use crate::spf::{SpfDns, SpfResult};

/// The outcome, as named in `Authentication-Results` (RFC 8601 §2.7.7 with RFC 7489 §11.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmarcResult {
    Pass,
    Fail,
    /// A DNS failure while looking up the policy, or on an identifier that would align.
    TempError,
    /// No DMARC policy applies (no record, several records, or no usable policy).
    None,
}

impl DmarcResult {
    pub fn name(self) -> &'static str {
        match self {
            DmarcResult::Pass => "pass",
            DmarcResult::Fail => "fail",
            DmarcResult::TempError => "temperror",
            DmarcResult::None => "none",
        }
    }
}

/// A DKIM signature's verification outcome, as DMARC needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DkimStatus {
    Pass,
    TempError,
    /// Failed, neutral, permerror: such a signature cannot make DMARC pass (§4.2).
    Other,
}

/// What the authentication checks found, for DMARC to weigh.
#[derive(Debug, Clone)]
pub struct Identifiers<'a> {
    /// The domain SPF checked: the MAIL FROM domain, or the HELO name for `<>` (§4.1).
    pub spf_domain: &'a str,
    pub spf_result: SpfResult,
    /// `d=` of each DKIM signature with its outcome.
    pub dkim: Vec<(&'a str, DkimStatus)>,
}

/// The verdict for one Author Domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmarcVerdict {
    pub result: DmarcResult,
    /// The Author Domain (RFC5322.From), lower case.
    pub domain: String,
    /// The policy the record sets for this domain (`p`, or `sp` for a subdomain); absent
    /// without a record.
    pub published: Option<Policy>,
    /// The policy for this message: `published`, or one step milder when the message fell
    /// outside the `pct` sample (§6.6.4); `none` without a record. Acted on only for a failure.
    pub applied: Policy,
    /// The record's `pct` when it is below 100.
    pub pct: Option<u8>,
    /// Where the record was found (`_dmarc.` + this).
    pub record_domain: Option<String>,
    /// Why, for the header comment and the log: "not aligned", a lookup failure, ...
    pub reason: Option<String>,
}

impl DmarcVerdict {
    fn without_policy(domain: &str, result: DmarcResult, reason: Option<String>) -> DmarcVerdict {
        DmarcVerdict {
            result,
            domain: domain.to_string(),
            published: None,
            applied: Policy::None,
            record_domain: None,
            reason,
            pct: None,
        }
    }

    /// How bad this verdict is for the message, to pick one among several Author Domains.
    fn severity(&self) -> u8 {
        match (self.result, self.applied) {
            (DmarcResult::Fail, Policy::Reject) => 6,
            (DmarcResult::Fail, Policy::Quarantine) => 5,
            (DmarcResult::Fail, Policy::None) => 4,
            (DmarcResult::TempError, _) => 3,
            (DmarcResult::None, _) => 2,
            (DmarcResult::Pass, _) => 1,
        }
    }
}

/// The outcome of policy discovery (§6.6.3).
enum Discovery {
    Found { record: DmarcRecord, at: String },
    Absent(Option<String>),
    TempError(String),
}

/// The one DMARC record at `_dmarc.<domain>`: Ok(None) when there is none, an error naming
/// the problem when there are several or the one has no usable policy.
async fn lookup(dns: &impl SpfDns, domain: &str) -> Result<Option<DmarcRecord>, Discovery> {
    let name = format!("_dmarc.{domain}");
    let txts = dns.txt(&name).await.map_err(|e| Discovery::TempError(format!("{name}: {}", e.0)))?;
    let mut records = txts.iter().filter(|t| record::is_dmarc(t));
    let Some(first) = records.next() else { return Ok(None) };
    if records.next().is_some() {
        return Err(Discovery::Absent(Some(format!("several DMARC records at {name}"))));
    }
    match record::parse(first) {
        Ok(r) => Ok(Some(r)),
        Err(RecordError::NotDmarc) => Ok(None),
        Err(e) => Err(Discovery::Absent(Some(format!("{name}: {e}")))),
    }
}

async fn discover(dns: &impl SpfDns, author: &str, org: &str) -> Discovery {
    match lookup(dns, author).await {
        Ok(Some(record)) => return Discovery::Found { record, at: author.to_string() },
        Ok(None) => {}
        Err(d) => return d,
    }
    if org == author {
        return Discovery::Absent(None);
    }
    match lookup(dns, org).await {
        Ok(Some(record)) => Discovery::Found { record, at: org.to_string() },
        Ok(None) => Discovery::Absent(None),
        Err(d) => d,
    }
}

fn same_domain(a: &str, b: &str) -> bool {
    a.trim_end_matches('.').eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// Identifier alignment (§3.1.1, §3.1.2).
fn aligned(psl: &PublicSuffixList, id: &str, author: &str, author_org: &str, mode: Alignment) -> bool {
    if id.is_empty() {
        return false;
    }
    match mode {
        Alignment::Strict => same_domain(id, author),
        Alignment::Relaxed => psl.organizational_domain(id) == author_org,
    }
}

/// DMARC for one Author Domain. `sample` is a number in 0..100 drawn per message, compared
/// with `pct`.
pub async fn evaluate(
    dns: &impl SpfDns,
    psl: &PublicSuffixList,
    author: &str,
    ids: &Identifiers<'_>,
    sample: u8,
) -> DmarcVerdict {
    let author = author.trim_end_matches('.').to_ascii_lowercase();
    let author_org = psl.organizational_domain(&author);
    let (record, at) = match discover(dns, &author, &author_org).await {
        Discovery::Found { record, at } => (record, at),
        Discovery::Absent(reason) => return DmarcVerdict::without_policy(&author, DmarcResult::None, reason),
        Discovery::TempError(e) => return DmarcVerdict::without_policy(&author, DmarcResult::TempError, Some(e)),
    };
    // §6.6.3: a record found at the Organizational Domain for a subdomain applies `sp`.
    let published = if at == author { record.policy } else { record.subdomain_policy.unwrap_or(record.policy) };

    let spf_aligned = aligned(psl, ids.spf_domain, &author, &author_org, record.aspf);
    let dkim_aligned = |status: DkimStatus| {
        ids.dkim.iter().any(|(d, s)| *s == status && aligned(psl, d, &author, &author_org, record.adkim))
    };
    let pass = (spf_aligned && ids.spf_result == SpfResult::Pass) || dkim_aligned(DkimStatus::Pass);
    let temp = (spf_aligned && ids.spf_result == SpfResult::TempError) || dkim_aligned(DkimStatus::TempError);
    let (result, reason) = if pass {
        (DmarcResult::Pass, None)
    } else if temp {
        (DmarcResult::TempError, Some("an aligned identifier could not be checked".to_string()))
    } else {
        (DmarcResult::Fail, Some("no aligned SPF or DKIM pass".to_string()))
    };
    let applied = if sample < record.pct { published } else { published.relaxed_one_step() };
    let pct = (record.pct < 100).then_some(record.pct);
    DmarcVerdict { result, domain: author, published: Some(published), applied, pct, record_domain: Some(at), reason }
}

/// DMARC for a message whose From field names `authors` (addresses or domains). Every distinct
/// Author Domain is evaluated and the worst verdict kept, so that a second From address cannot
/// shield a failing one (§6.6.1 leaves multi-valued From to the receiver). None without an
/// Author Domain.
pub async fn evaluate_message(
    dns: &impl SpfDns,
    psl: &PublicSuffixList,
    authors: &[&str],
    ids: &Identifiers<'_>,
    sample: u8,
) -> Option<DmarcVerdict> {
    let mut domains: Vec<String> = Vec::new();
    for author in authors {
        let domain = author.rsplit_once('@').map_or(*author, |(_, d)| d).trim_end_matches('.').to_ascii_lowercase();
        if !domain.is_empty() && !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    // A bound on lookups a crafted From field can cause.
    domains.truncate(8);
    let mut worst: Option<DmarcVerdict> = None;
    for domain in &domains {
        let verdict = evaluate(dns, psl, domain, ids, sample).await;
        if worst.as_ref().is_none_or(|w| verdict.severity() > w.severity()) {
            worst = Some(verdict);
        }
    }
    worst
}
