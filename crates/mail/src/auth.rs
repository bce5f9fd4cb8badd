//! Sender authentication of inbound mail: SPF (RFC 7208) by mamori's own evaluator
//! (`crate::spf`), DKIM verification (RFC 6376) and DMARC (RFC 7489) through mail-auth, all
//! recorded in one `Authentication-Results` header (RFC 8601).
//! The verdicts are recorded; acting on them (tag, quarantine, reject per tenant) comes next.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::common::headers::HeaderWriter as _;
use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::{
    AuthenticatedMessage, AuthenticationResults, DkimResult, DmarcResult, MessageAuthenticator, SpfOutput, SpfResult,
};

use crate::spf::{self, HickoryDns, SpfRequest, SpfVerdict};

/// SPF, DKIM and DMARC with one resolver (mail-auth's, which mamori's SPF evaluator shares).
pub struct SenderAuth {
    auth: MessageAuthenticator,
    hostname: String,
}

/// The outcome for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthVerdict {
    pub result: &'static str,
    /// One result per DKIM signature, in header order.
    pub dkim: Vec<&'static str>,
    /// DMARC (RFC 7489, with the DNS tree walk of DMARCbis) and the author domain's policy
    /// (`none`, `quarantine`, `reject`); absent without a parsable From.
    pub dmarc: Option<(&'static str, &'static str)>,
    /// The complete header line, CRLF included.
    pub header: String,
}

fn dmarc_name(r: &DmarcResult) -> &'static str {
    match r {
        DmarcResult::Pass => "pass",
        DmarcResult::Fail(_) => "fail",
        DmarcResult::TempError(_) => "temperror",
        DmarcResult::PermError(_) => "permerror",
        DmarcResult::None => "none",
    }
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
    pub fn new(auth: MessageAuthenticator, hostname: &str) -> SenderAuth {
        SenderAuth { auth, hostname: hostname.to_string() }
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
        if let Some(m) = &message {
            let mail_from_domain = sender.rsplit_once('@').map_or(helo, |(_, d)| d);
            let out = self.auth.verify_dmarc(DmarcParameters::new(m, &outputs, mail_from_domain, &spf)).await;
            if !out.domain().is_empty() {
                let policy = match out.policy() {
                    Policy::Reject => "reject",
                    Policy::Quarantine => "quarantine",
                    Policy::None | Policy::Unspecified => "none",
                };
                dmarc = Some((dmarc_name(&out.result()), policy));
                ar = ar.with_dmarc_result(&out);
            }
        }
        AuthVerdict { result: result_name(spf.result()), dkim, dmarc, header: ar.to_header() }
    }
}
