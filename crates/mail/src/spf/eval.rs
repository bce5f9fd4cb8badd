//! check_host() (RFC 7208 §4): record selection, mechanism evaluation with the DNS lookup
//! limits of §4.6.4, include (§5.2), redirect (§6.1) and explanations (§6.2).

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use super::dns::{SpfDns, is_dns_name};
use super::macros::{Context, MacroString, MacroValues};
use super::record::{Directive, Mechanism, Qualifier, Record, is_spf, is_toplabel};
use super::{SpfRequest, SpfResult, SpfVerdict};

/// §4.6.4: at most 10 terms that cause DNS lookups, and at most 2 void lookups.
const LOOKUP_LIMIT: u32 = 10;
const VOID_LIMIT: u32 = 2;
/// §4.6.4: at most 10 MX exchanges per `mx`, at most 10 PTR names per `ptr`.
const NAME_LIMIT: usize = 10;

/// Evaluation stops with temperror or permerror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Abort {
    Temp,
    Perm,
}

type Step<T> = Result<T, Abort>;

struct Evaluator<'a, D> {
    dns: &'a D,
    /// The client; an IPv4-mapped IPv6 address is treated as the IPv4 address.
    ip: IpAddr,
    sender: String,
    local_part: String,
    sender_domain: String,
    helo: &'a str,
    receiver: &'a str,
    lookups: u32,
    voids: u32,
}

pub async fn check<D: SpfDns>(dns: &D, request: &SpfRequest<'_>) -> SpfVerdict {
    // §4.3: the HELO identity for an empty MAIL FROM; "postmaster" for no local-part.
    let sender = if request.mail_from.is_empty() {
        format!("postmaster@{}", request.helo)
    } else {
        request.mail_from.to_string()
    };
    let (local, domain) = match sender.rsplit_once('@') {
        Some(("", d)) => ("postmaster".to_string(), d.to_string()),
        Some((l, d)) => (l.to_string(), d.to_string()),
        None => ("postmaster".to_string(), sender.clone()),
    };
    let ip = match request.ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(request.ip, IpAddr::V4),
        v4 => v4,
    };
    let sender = format!("{local}@{domain}");
    let mut eval = Evaluator {
        dns,
        ip,
        sender,
        local_part: local,
        sender_domain: domain.clone(),
        helo: request.helo,
        receiver: request.receiver,
        lookups: 0,
        voids: 0,
    };
    // §4.3: a malformed sender domain gives none.
    let (result, explanation) =
        if is_valid_domain(&domain) { eval.check_host(domain.clone()).await } else { (SpfResult::None, None) };
    SpfVerdict { result, explanation, domain }
}

/// §4.3: a multi-label name of valid labels whose last label is a toplabel.
fn is_valid_domain(domain: &str) -> bool {
    let d = domain.strip_suffix('.').unwrap_or(domain);
    is_dns_name(d)
        && d.contains('.')
        && d.split('.').all(|l| l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        && d.rsplit('.').next().is_some_and(is_toplabel)
}

/// §4.6.2: a matching mechanism's qualifier gives the result.
fn qualifier_result(q: Qualifier) -> SpfResult {
    match q {
        Qualifier::Pass => SpfResult::Pass,
        Qualifier::Fail => SpfResult::Fail,
        Qualifier::SoftFail => SpfResult::SoftFail,
        Qualifier::Neutral => SpfResult::Neutral,
    }
}

fn in_network(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len.min(32) as u32) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - len.min(128) as u32) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        // §5: IPv4 is compared with IPv4 only, IPv6 with IPv6 only.
        _ => false,
    }
}

/// §7.3: a name longer than 253 octets loses labels on the left; the trailing dot goes.
fn truncate_name(name: String) -> String {
    let mut name = name.strip_suffix('.').map(str::to_string).unwrap_or(name);
    while name.len() > 253 {
        match name.split_once('.') {
            Some((_, rest)) => name = rest.to_string(),
            None => break,
        }
    }
    name
}

type Boxed<'b, T> = Pin<Box<dyn Future<Output = T> + Send + 'b>>;

impl<D: SpfDns> Evaluator<'_, D> {
    /// check_host() for `domain` (§4): the result and, for fail, the explanation.
    fn check_host(&mut self, domain: String) -> Boxed<'_, (SpfResult, Option<String>)> {
        Box::pin(async move {
            let record = match self.record(&domain).await {
                Ok(Some(r)) => r,
                Ok(None) => return (SpfResult::None, None),
                Err(Abort::Temp) => return (SpfResult::TempError, None),
                Err(Abort::Perm) => return (SpfResult::PermError, None),
            };
            match self.evaluate(&record, &domain).await {
                Ok(Some(SpfResult::Fail)) => {
                    let explanation = match &record.exp {
                        Some(exp) => self.explanation(exp, &domain).await,
                        None => None,
                    };
                    (SpfResult::Fail, explanation)
                }
                Ok(Some(result)) => (result, None),
                // §6.1: redirect only when no mechanism matched and there is no "all".
                Ok(None) => match &record.redirect {
                    Some(redirect) if !record.has_all() => self.redirect(redirect, &domain).await,
                    _ => (SpfResult::Neutral, None),
                },
                Err(Abort::Temp) => (SpfResult::TempError, None),
                Err(Abort::Perm) => (SpfResult::PermError, None),
            }
        })
    }

    async fn redirect(&mut self, redirect: &MacroString, domain: &str) -> (SpfResult, Option<String>) {
        if self.count_lookup().is_err() {
            return (SpfResult::PermError, None);
        }
        let target = self.expand(redirect, domain).await;
        if !is_dns_name(&target) {
            return (SpfResult::PermError, None);
        }
        match self.check_host(target).await {
            // §6.1: a redirect to a domain without a record is a permerror.
            (SpfResult::None, _) => (SpfResult::PermError, None),
            other => other,
        }
    }

    /// §4.4, §4.5: the one SPF record of `domain`; `None` without one.
    async fn record(&self, domain: &str) -> Step<Option<Record>> {
        let txts = self.dns.txt(domain).await.map_err(|_| Abort::Temp)?;
        let mut spf = txts.iter().filter(|t| is_spf(t));
        let Some(first) = spf.next() else { return Ok(None) };
        if spf.next().is_some() {
            return Err(Abort::Perm);
        }
        Record::parse(first).map(Some).ok_or(Abort::Perm)
    }

    /// The first matching directive's result (§4.6.2); `None` when none matched.
    async fn evaluate(&mut self, record: &Record, domain: &str) -> Step<Option<SpfResult>> {
        for Directive { qualifier, mechanism } in &record.directives {
            if self.matches(mechanism, domain).await? {
                return Ok(Some(qualifier_result(*qualifier)));
            }
        }
        Ok(None)
    }

    fn count_lookup(&mut self) -> Step<()> {
        self.lookups += 1;
        if self.lookups > LOOKUP_LIMIT { Err(Abort::Perm) } else { Ok(()) }
    }

    /// A lookup that found nothing (§4.6.4 void lookup).
    fn count_void(&mut self) -> Step<()> {
        self.voids += 1;
        if self.voids > VOID_LIMIT { Err(Abort::Perm) } else { Ok(()) }
    }

    async fn matches(&mut self, mechanism: &Mechanism, domain: &str) -> Step<bool> {
        match mechanism {
            Mechanism::All => Ok(true),
            Mechanism::Ip4(net, len) => Ok(in_network(self.ip, IpAddr::V4(*net), *len)),
            Mechanism::Ip6(net, len) => Ok(in_network(self.ip, IpAddr::V6(*net), *len)),
            Mechanism::Include(spec) => {
                self.count_lookup()?;
                let target = self.expand(spec, domain).await;
                // §5.2: include's result maps to match, no match or an error.
                match self.check_host(target).await.0 {
                    SpfResult::Pass => Ok(true),
                    SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral => Ok(false),
                    SpfResult::TempError => Err(Abort::Temp),
                    SpfResult::PermError | SpfResult::None => Err(Abort::Perm),
                }
            }
            Mechanism::A(spec, v4, v6) => {
                self.count_lookup()?;
                let target = self.target(spec.as_ref(), domain).await;
                let addrs = self.addresses(&target).await?;
                if addrs.is_empty() {
                    self.count_void()?;
                }
                Ok(addrs.into_iter().any(|a| self.in_cidr(a, *v4, *v6)))
            }
            Mechanism::Mx(spec, v4, v6) => {
                self.count_lookup()?;
                let target = self.target(spec.as_ref(), domain).await;
                let exchanges = self.dns.mx(&target).await.map_err(|_| Abort::Temp)?;
                if exchanges.is_empty() {
                    self.count_void()?;
                }
                // §4.6.4: more than 10 exchanges is a permerror.
                if exchanges.len() > NAME_LIMIT {
                    return Err(Abort::Perm);
                }
                for exchange in exchanges {
                    let addrs = self.addresses(&exchange).await?;
                    if addrs.into_iter().any(|a| self.in_cidr(a, *v4, *v6)) {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Mechanism::Ptr(spec) => {
                self.count_lookup()?;
                let target = self.target(spec.as_ref(), domain).await.to_ascii_lowercase();
                let suffix = format!(".{target}");
                Ok(self.validated_names().await.iter().any(|n| *n == target || n.ends_with(&suffix)))
            }
            Mechanism::Exists(spec) => {
                self.count_lookup()?;
                let target = self.expand(spec, domain).await;
                // §5.7: always an A lookup, whatever the client's address family.
                let addrs = self.dns.a(&target).await.map_err(|_| Abort::Temp)?;
                if addrs.is_empty() {
                    self.count_void()?;
                }
                Ok(!addrs.is_empty())
            }
        }
    }

    fn in_cidr(&self, addr: IpAddr, v4: u8, v6: u8) -> bool {
        let len = if addr.is_ipv4() { v4 } else { v6 };
        in_network(self.ip, addr, len)
    }

    /// The A or AAAA records of `name`, as the client's address family asks (§5.3).
    async fn addresses(&self, name: &str) -> Step<Vec<IpAddr>> {
        Ok(match self.ip {
            IpAddr::V4(_) => self.dns.a(name).await.map_err(|_| Abort::Temp)?.into_iter().map(IpAddr::V4).collect(),
            IpAddr::V6(_) => self.dns.aaaa(name).await.map_err(|_| Abort::Temp)?.into_iter().map(IpAddr::V6).collect(),
        })
    }

    /// §5.5: PTR names of the client (the first 10) whose addresses include the client. DNS
    /// errors make a name (or the whole lookup) not validate.
    async fn validated_names(&self) -> Vec<String> {
        let names = self.dns.ptr(self.ip).await.unwrap_or_default();
        let mut validated = Vec::new();
        for name in names.into_iter().take(NAME_LIMIT) {
            if self.addresses(&name).await.is_ok_and(|a| a.contains(&self.ip)) {
                validated.push(name);
            }
        }
        validated
    }

    /// `%{p}` (§7.3): a validated name equal to `domain`, else one under it, else any, else
    /// "unknown".
    async fn validated_name(&self, domain: &str) -> String {
        let names = self.validated_names().await;
        let domain = domain.to_ascii_lowercase();
        let suffix = format!(".{domain}");
        names
            .iter()
            .find(|n| **n == domain)
            .or_else(|| names.iter().find(|n| n.ends_with(&suffix)))
            .or(names.first())
            .cloned()
            .unwrap_or_else(|| "unknown".to_string())
    }

    /// The target of a mechanism: its domain-spec expanded, or the current domain.
    async fn target(&self, spec: Option<&MacroString>, domain: &str) -> String {
        match spec {
            Some(spec) => self.expand(spec, domain).await,
            None => domain.to_string(),
        }
    }

    /// A domain-spec expanded and truncated (§7.3).
    async fn expand(&self, spec: &MacroString, domain: &str) -> String {
        truncate_name(self.expand_text(spec, domain).await)
    }

    async fn expand_text(&self, spec: &MacroString, domain: &str) -> String {
        let validated = if spec.uses_letter('p') { self.validated_name(domain).await } else { String::new() };
        let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        spec.expand(&MacroValues {
            sender: &self.sender,
            local_part: &self.local_part,
            sender_domain: &self.sender_domain,
            domain,
            ip: self.ip,
            helo: self.helo,
            validated: &validated,
            receiver: self.receiver,
            timestamp,
        })
    }

    /// §6.2: the explanation of a fail; nothing when any step fails.
    async fn explanation(&self, exp: &MacroString, domain: &str) -> Option<String> {
        let target = self.expand(exp, domain).await;
        let txts = self.dns.txt(&target).await.ok()?;
        let [txt] = txts.as_slice() else { return None };
        let text = std::str::from_utf8(txt).ok()?;
        let spec = MacroString::parse(text, Context::Explanation)?;
        Some(self.expand_text(&spec, domain).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_network(ip("192.0.2.3"), ip("192.0.2.0"), 24));
        assert!(!in_network(ip("192.0.3.3"), ip("192.0.2.0"), 24));
        assert!(in_network(ip("192.0.2.3"), ip("10.0.0.0"), 0));
        assert!(!in_network(ip("192.0.2.3"), ip("::"), 0));
        assert!(in_network(ip("2001:db8::1"), ip("2001:db8::"), 32));
    }

    #[test]
    fn domains() {
        assert!(is_valid_domain("example.com") && is_valid_domain("example.com."));
        assert!(
            !is_valid_domain("[1.2.3.5]") && !is_valid_domain("OEMCOMPUTER") && !is_valid_domain("A...example.com")
        );
        assert_eq!(truncate_name(format!("{}example.com.", "a.".repeat(200))).len(), 253);
    }
}
