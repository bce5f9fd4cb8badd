//! Sender authentication of inbound mail: SPF (RFC 7208) by mamori's own evaluator
//! (`crate::spf`), DKIM verification (RFC 6376) through mail-auth and DMARC (RFC 7489, with the
//! Public Suffix List) by `crate::dmarc`, all recorded in one `Authentication-Results` header
//! (RFC 8601). Acting on the verdicts per tenant is `crate::content`'s.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::common::headers::HeaderWriter as _;
use mail_auth::{AuthenticatedMessage, AuthenticationResults, DkimResult, MessageAuthenticator, SpfOutput, SpfResult};

use crate::dmarc::{self, DkimStatus, DmarcVerdict, Identifiers, PublicSuffixList};
use crate::spf::{self, HickoryDns, SpfRequest, SpfVerdict};

/// SPF, DKIM and DMARC with one resolver (mail-auth's, which mamori's SPF and DMARC share).
pub struct SenderAuth {
    auth: MessageAuthenticator,
    hostname: String,
    public_suffixes: PublicSuffixList,
}

/// The outcome for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthVerdict {
    pub result: &'static str,
    /// One result per DKIM signature, in header order.
    pub dkim: Vec<&'static str>,
    /// DMARC (RFC 7489) and the author domain's policy as it applies to this message (`none`,
    /// `quarantine`, `reject`; after the `pct` sample); absent without a parsable From.
    pub dmarc: Option<(&'static str, &'static str)>,
    /// The complete header line, CRLF included.
    pub header: String,
}

/// The RFC 8601 name of a DKIM result.
pub fn dkim_name(r: &DkimResult) -> &'static str {
    match r {
        DkimResult::Pass => "pass",
        DkimResult::Neutral(_) => "neutral",
        DkimResult::Fail(_) => "fail",
        DkimResult::PermError(_) => "permerror",
        DkimResult::TempError(_) => "temperror",
        DkimResult::None => "none",
    }
}

/// The RFC 8601 name of a result.
pub fn result_name(r: SpfResult) -> &'static str {
    match r {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

/// A DKIM result as DMARC weighs it.
fn dkim_status(r: &DkimResult) -> DkimStatus {
    match r {
        DkimResult::Pass => DkimStatus::Pass,
        DkimResult::TempError(_) => DkimStatus::TempError,
        _ => DkimStatus::Other,
    }
}

/// The `dmarc` clause of `Authentication-Results` (RFC 7489 §11.2: `header.from`), with the
/// reason and a `pct` sample that relaxed the policy as a comment.
fn dmarc_clause(v: &DmarcVerdict) -> String {
    let mut comment: Vec<String> = v.reason.iter().cloned().collect();
    if let (Some(pct), Some(published)) = (v.pct, v.published)
        && published != v.applied
    {
        comment.push(format!("outside pct={pct}, {} instead of {}", v.applied.name(), published.name()));
    }
    let comment = if comment.is_empty() {
        String::new()
    } else {
        // A comment may not hold unbalanced parentheses (RFC 5322 §3.2.2).
        format!(" ({})", comment.join("; ").replace(['(', ')'], ""))
    };
    let domain: String = v.domain.chars().filter(|c| c.is_ascii_alphanumeric() || "-._".contains(*c)).collect();
    format!("dmarc={}{comment} header.from={domain} policy.dmarc={}", v.result.name(), v.applied.name())
}

/// mamori's SPF result as mail-auth's, for the header and DMARC.
fn mail_auth_result(r: spf::SpfResult) -> SpfResult {
    match r {
        spf::SpfResult::Pass => SpfResult::Pass,
        spf::SpfResult::Fail => SpfResult::Fail,
        spf::SpfResult::SoftFail => SpfResult::SoftFail,
        spf::SpfResult::Neutral => SpfResult::Neutral,
        spf::SpfResult::TempError => SpfResult::TempError,
        spf::SpfResult::PermError => SpfResult::PermError,
        spf::SpfResult::None => SpfResult::None,
    }
}

/// SPF as the relay checks it: the MAIL FROM identity, or the HELO identity for `<>`
/// (RFC 7208 §2.4), by mamori's evaluator over `auth`'s resolver; `receiver` is `%{r}`.
pub async fn check_spf(
    auth: &MessageAuthenticator,
    ip: IpAddr,
    helo: &str,
    sender: &str,
    receiver: &str,
) -> SpfVerdict {
    let request = SpfRequest { ip, helo, mail_from: sender, receiver };
    spf::check(&HickoryDns(auth.resolver()), &request).await
}

/// A mail-auth authenticator using `server` (or the system's resolver).
pub fn authenticator(server: Option<SocketAddr>, timeout: std::time::Duration) -> Result<MessageAuthenticator, String> {
    let mut opts = ResolverOpts::default();
    opts.timeout = timeout;
    opts.attempts = 1;
    match server {
        Some(server) => {
            let mut ns = NameServerConfig::udp_and_tcp(server.ip());
            for c in &mut ns.connections {
                c.port = server.port();
            }
            MessageAuthenticator::new(ResolverConfig::from_parts(None, vec![], vec![ns]), opts)
                .map_err(|e| e.to_string())
        }
        // Without a readable system configuration the relay still starts, asking a local
        // resolver, rather than taking every other service down with it.
        None => MessageAuthenticator::new_system_conf()
            .or_else(|e| {
                tracing::warn!(error = %e, "no system DNS configuration; SPF and DKIM ask 127.0.0.1:53");
                authenticator(Some(SocketAddr::from(([127, 0, 0, 1], 53))), timeout).map_err(std::io::Error::other)
            })
            .map_err(|e| e.to_string()),
    }
}

impl SenderAuth {
    /// With the embedded Public Suffix List.
    pub fn new(auth: MessageAuthenticator, hostname: &str) -> SenderAuth {
        SenderAuth { auth, hostname: hostname.to_string(), public_suffixes: PublicSuffixList::embedded() }
    }

    /// Organizational Domains from `list` instead of the embedded copy.
    pub fn with_public_suffix_list(mut self, list: PublicSuffixList) -> SenderAuth {
        self.public_suffixes = list;
        self
    }

    /// Checks the MAIL FROM identity, or the HELO identity for `<>` (RFC 7208 §2.4), every
    /// DKIM signature of `text`, and the author domain's DMARC policy against both.
    pub async fn check(&self, ip: IpAddr, helo: &str, sender: &str, text: &[u8]) -> AuthVerdict {
        let verdict = check_spf(&self.auth, ip, helo, sender, &self.hostname).await;
        // mail-auth's form of the result, so that its header writer and DMARC take it.
        let mut spf = SpfOutput::new(verdict.domain.to_ascii_lowercase()).with_result(mail_auth_result(verdict.result));
        if let Some(explanation) = verdict.explanation {
            spf = spf.with_explanation(explanation);
        }
        let mut ar = AuthenticationResults::new(&self.hostname);
        let (mut dkim, mut dmarc) = (Vec::new(), None);
        let message = AuthenticatedMessage::parse(text);
        let outputs = match &message {
            Some(m) => self.auth.verify_dkim(m).await,
            None => Vec::new(),
        };
        if let Some(m) = &message {
            dkim = outputs.iter().map(|o| dkim_name(o.result())).collect();
            let from = m.from.first().map(String::as_str).unwrap_or("");
            ar = ar.with_dkim_results(&outputs, from);
        }
        ar = if sender.is_empty() {
            ar.with_spf_ehlo_result(&spf, ip, helo)
        } else {
            ar.with_spf_mailfrom_result(&spf, ip, sender, helo)
        };
        let mut header = ar.to_header();
        if let Some(m) = &message {
            let ids = Identifiers {
                spf_domain: &verdict.domain,
                spf_result: verdict.result,
                dkim: outputs
                    .iter()
                    .filter_map(|o| o.signature().map(|s| (s.d.as_str(), dkim_status(o.result()))))
                    .collect(),
            };
            let authors: Vec<&str> = m.from.iter().map(String::as_str).collect();
            let sample = rand::random_range(0..100u8);
            let dns = HickoryDns(self.auth.resolver());
            if let Some(v) = dmarc::evaluate_message(&dns, &self.public_suffixes, &authors, &ids, sample).await {
                dmarc = Some((v.result.name(), v.applied.name()));
                // Before the header's closing CRLF.
                header.truncate(header.trim_end_matches("\r\n").len());
                header.push_str(";\r\n\t");
                header.push_str(&dmarc_clause(&v));
                header.push_str("\r\n");
            }
        }
        AuthVerdict { result: result_name(spf.result()), dkim, dmarc, header }
    }
}
