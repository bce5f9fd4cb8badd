//! Who may send what to whom: the no-open-relay rules. Built once per configuration revision
//! and swapped whole; every decision is a lookup.
//!
//! - Mail for a domain routed in `[mail.tenants.ID.routes]` is accepted from anyone and goes
//!   to that next hop (inbound).
//! - Mail for any other domain is accepted only from a tenant's sender networks, and only when
//!   the sender is that tenant's own domain (or `<>`); it goes out by MX (outbound).
//! - Everything else is refused, as are address literals and local parts with routing
//!   characters (`%`, `!`, `@`, `:`), which some next hop might turn into a relay.

use std::collections::HashMap;
use std::net::IpAddr;

use mamori_core::config::mail::{ContentPolicy, MailConfig, NextHop};
use mamori_core::domain_map::DomainMap;
use mamori_core::prefix_map::PrefixMap;
use mamori_core::tenant::Tenant;

use crate::quarantine::notice::Helpdesk;
use crate::smtp::address::{Domain, Mailbox, Path};
use crate::smtp::reply::{Reply, codes};

/// Where a recipient's mail goes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Route {
    /// A tenant's own mail server.
    Relay { tenant: String, host: String, port: u16 },
    /// The internet: the domain's MX hosts.
    Mx { domain: String },
}

/// The relay's rules for one configuration revision.
#[derive(Debug, Default)]
pub struct RelayPolicy {
    routes: DomainMap<(String, NextHop)>,
    /// Networks allowed to send out, to the tenant they send for.
    senders: PrefixMap<String>,
    /// Tenant domains, to the tenant owning them.
    domains: DomainMap<String>,
    /// Content checks per tenant; tenants without a `[mail.tenants.ID]` use the defaults.
    content: HashMap<String, ContentPolicy>,
    default_content: ContentPolicy,
    /// Who each tenant's users ask about quarantined mail.
    helpdesks: HashMap<String, Helpdesk>,
    /// Each tenant's archive of original inbound mail: its address and route.
    archives: HashMap<String, (String, Route)>,
    /// Each tenant's DMARC report addresses (`rua=`), lower case.
    dmarc_reports: HashMap<String, Vec<String>>,
    /// The configured mailbox for `<postmaster>`, and where it goes.
    postmaster: Option<(String, Route)>,
}

impl RelayPolicy {
    /// Builds the tables; entries the configuration check refuses are skipped.
    pub fn new(mail: &MailConfig, tenants: &[Tenant]) -> RelayPolicy {
        let mut routes = Vec::new();
        let mut senders = Vec::new();
        let by_id: HashMap<&str, &Tenant> = tenants.iter().map(|t| (t.id.as_str(), t)).collect();
        for t in tenants {
            let own = mail.tenants.get(&t.id);
            let networks = own.and_then(|m| m.sender_networks.clone()).unwrap_or_else(|| t.networks.clone());
            senders.extend(networks.into_iter().map(|n| (n, t.id.clone())));
        }
        for (id, m) in &mail.tenants {
            if !by_id.contains_key(id.as_str()) {
                continue;
            }
            for (domain, hop) in &m.routes {
                if let Ok(hop) = NextHop::parse(hop) {
                    routes.push((domain.clone(), (id.clone(), hop)));
                }
            }
        }
        let content = mail.tenants.iter().map(|(id, m)| (id.clone(), m.content.clone())).collect();
        let archives = mail
            .tenants
            .iter()
            .filter_map(|(id, m)| {
                let a = m.archive.as_ref()?;
                let hop = NextHop::parse(&a.next_hop).ok()?;
                Some((
                    id.clone(),
                    (a.address.clone(), Route::Relay { tenant: id.clone(), host: hop.host, port: hop.port }),
                ))
            })
            .collect();
        let dmarc_reports = mail
            .tenants
            .iter()
            .filter(|(_, m)| !m.dmarc_report_addresses.is_empty())
            .map(|(id, m)| (id.clone(), m.dmarc_report_addresses.iter().map(|a| a.to_ascii_lowercase()).collect()))
            .collect();
        let helpdesks = tenants.iter().filter_map(|t| helpdesk_of(t).map(|h| (t.id.clone(), h))).collect();
        let mut policy = RelayPolicy {
            content,
            default_content: ContentPolicy::default(),
            helpdesks,
            archives,
            dmarc_reports,
            routes: DomainMap::new(routes),
            senders: PrefixMap::new(senders),
            domains: DomainMap::new(tenants.iter().flat_map(|t| t.domains.iter().map(|d| (d.clone(), t.id.clone())))),
            postmaster: None,
        };
        policy.postmaster = mail.postmaster.as_ref().and_then(|address| {
            let Ok(Path::Mailbox { mailbox, .. }) = crate::smtp::address::parse_path(&format!("<{address}>"), true)
            else {
                tracing::warn!(%address, "mail.postmaster is not an address; <postmaster> is refused");
                return None;
            };
            match policy.route_own(&mailbox) {
                Ok(route @ Route::Relay { .. }) => Some((address.clone(), route)),
                _ => {
                    tracing::warn!(%address, "mail.postmaster is not in a routed tenant domain; <postmaster> is refused");
                    None
                }
            }
        });
        policy
    }

    /// The mailbox and route for `<postmaster>`, when configured.
    pub fn postmaster(&self) -> Option<&(String, Route)> {
        self.postmaster.as_ref()
    }

    /// The content checks for a tenant's mail (the defaults for mail of no tenant).
    pub fn content(&self, tenant: Option<&str>) -> &ContentPolicy {
        tenant.and_then(|t| self.content.get(t)).unwrap_or(&self.default_content)
    }

    /// Where a tenant's original inbound mail is copied to, if anywhere.
    /// Whether one of `recipients` is a DMARC report address of `tenant`.
    pub fn is_dmarc_report(&self, tenant: Option<&str>, recipients: &[(String, Route)]) -> bool {
        let Some(addresses) = tenant.and_then(|t| self.dmarc_reports.get(t)) else { return false };
        recipients.iter().any(|(r, _)| addresses.iter().any(|a| a.eq_ignore_ascii_case(r.trim_end_matches('.'))))
    }

    pub fn archive(&self, tenant: Option<&str>) -> Option<&(String, Route)> {
        tenant.and_then(|t| self.archives.get(t))
    }

    pub fn helpdesk(&self, tenant: Option<&str>) -> Option<&Helpdesk> {
        tenant.and_then(|t| self.helpdesks.get(t))
    }

    /// The tenant a client may send outbound mail for.
    pub fn sending_tenant(&self, ip: IpAddr) -> Option<&str> {
        self.senders.lookup(ip).map(String::as_str)
    }

    /// The tenant owning a domain (or a parent of it).
    pub fn tenant_of_domain(&self, domain: &str) -> Option<&str> {
        self.domains.lookup(domain).map(String::as_str)
    }

    /// MAIL FROM: a tenant's client must use its own domains; the internet may use any sender
    /// (SPF judges it).
    pub fn check_sender(&self, client_tenant: Option<&str>, path: &Path) -> Result<(), Reply> {
        let (Some(tenant), Path::Mailbox { mailbox, .. }) = (client_tenant, path) else { return Ok(()) };
        match mailbox.domain_name().and_then(|d| self.tenant_of_domain(d)) {
            Some(owner) if owner == tenant => Ok(()),
            _ => Err(codes::sender_denied(&format!(
                "Sender address rejected: {} is not a domain of your organisation",
                mailbox.domain
            ))),
        }
    }

    /// RCPT TO: where the recipient's mail goes, or why it is refused.
    pub fn route(&self, client_tenant: Option<&str>, path: &Path) -> Result<Route, Reply> {
        let mailbox = match path {
            Path::Mailbox { mailbox, .. } => mailbox,
            Path::Null => return Err(codes::bad_address("<> is not a recipient")),
            // No mailbox of our own: RFC 5321 §4.5.1's postmaster belongs to the next hops.
            Path::Postmaster => {
                return Err(codes::relay_denied(
                    "Relay access denied: no local postmaster; write to postmaster@DOMAIN",
                ));
            }
        };
        self.route_mailbox(client_tenant, mailbox)
    }

    pub fn route_mailbox(&self, client_tenant: Option<&str>, mailbox: &Mailbox) -> Result<Route, Reply> {
        let Domain::Name(domain) = &mailbox.domain else {
            return Err(codes::relay_denied("Relay access denied: address literals are not relayed"));
        };
        if mailbox.has_routing_characters() {
            return Err(codes::relay_denied("Relay access denied: routing characters (% ! @ :) in the local part"));
        }
        if let Some((tenant, hop)) = self.routes.lookup(domain) {
            return Ok(Route::Relay { tenant: tenant.clone(), host: hop.host.clone(), port: hop.port });
        }
        if self.domains.lookup(domain).is_some() {
            return Err(codes::relay_denied("Relay access denied: no mail route is configured for this domain"));
        }
        match client_tenant {
            Some(_) => Ok(Route::Mx { domain: domain.clone() }),
            None => Err(codes::relay_denied("Relay access denied")),
        }
    }

    /// Where mamori's own messages (delivery status notifications) to `mailbox` go.
    pub fn route_own(&self, mailbox: &Mailbox) -> Result<Route, Reply> {
        self.route_mailbox(Some("mamori"), mailbox)
    }
}

/// The contact whose role names the helpdesk (ヘルプデスク), else the first contact with an
/// e-mail address or phone number.
fn helpdesk_of(t: &Tenant) -> Option<Helpdesk> {
    let is_helpdesk = |role: &Option<String>| {
        role.as_deref().is_some_and(|r| r.to_lowercase().contains("helpdesk") || r.contains("ヘルプデスク"))
    };
    let c = t
        .contacts
        .iter()
        .find(|c| is_helpdesk(&c.role))
        .or_else(|| t.contacts.iter().find(|c| c.email.is_some() || c.phone.is_some()))?;
    Some(Helpdesk { name: c.name.clone(), email: c.email.clone(), phone: c.phone.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::address::parse_path;

    fn policy() -> RelayPolicy {
        let t = |id: &str, net: &str, dom: &str| Tenant {
            id: id.into(),
            name_ja: id.into(),
            name_en: id.into(),
            network_model: mamori_core::NetworkModel::Beta,
            networks: vec![net.parse().unwrap()],
            domains: vec![dom.into()],
            contacts: vec![],
            retention: Default::default(),
        };
        let mut mail = MailConfig::default();
        mail.tenants.entry("a".into()).or_default().routes.insert("a.example.jp".into(), "10.1.0.25:2525".into());
        RelayPolicy::new(&mail, &[t("a", "10.1.0.0/16", "a.example.jp"), t("b", "10.2.0.0/16", "b.example.jp")])
    }

    fn route(p: &RelayPolicy, client: &str, rcpt: &str) -> Result<Route, u16> {
        let tenant = p.sending_tenant(client.parse().unwrap());
        let path = parse_path(rcpt, true).map_err(|_| 501u16)?;
        p.route(tenant, &path).map_err(|r| r.code)
    }

    #[test]
    fn inbound_goes_to_the_next_hop_and_nothing_else_is_relayed_from_outside() {
        let p = policy();
        let hop = Ok(Route::Relay { tenant: "a".into(), host: "10.1.0.25".into(), port: 2525 });
        assert_eq!(route(&p, "192.0.2.1", "<u@a.example.jp>"), hop);
        assert_eq!(
            route(&p, "192.0.2.1", "<u@MAIL.A.Example.JP>"),
            Ok(Route::Relay { tenant: "a".into(), host: "10.1.0.25".into(), port: 2525 })
        );
        assert_eq!(route(&p, "192.0.2.1", "<@a.example.jp:u@other.jp>"), Err(550));
        for trick in [
            "<u%other.jp@a.example.jp>",
            "<other.jp!u@a.example.jp>",
            "<\"u@other.jp\"@a.example.jp>",
            "<u@[10.1.0.25]>",
            "<u@other.jp>",
            "<u@b.example.jp>",
            "<postmaster>",
        ] {
            assert_eq!(route(&p, "192.0.2.1", trick), Err(550), "{trick}");
        }
        assert_eq!(route(&p, "192.0.2.1", "<u@other.jp@a.example.jp>"), Err(501));
        assert_eq!(route(&p, "192.0.2.1", "<u@a.example.jp.>"), Err(501));
    }

    #[test]
    fn outbound_only_from_a_tenant_with_its_own_sender() {
        let p = policy();
        assert_eq!(route(&p, "10.2.3.4", "<u@other.jp>"), Ok(Route::Mx { domain: "other.jp".into() }));
        let own = parse_path("<x@b.example.jp>", false).unwrap();
        let foreign = parse_path("<x@a.example.jp>", false).unwrap();
        assert!(p.check_sender(Some("b"), &own).is_ok());
        assert!(p.check_sender(Some("b"), &Path::Null).is_ok());
        assert_eq!(p.check_sender(Some("b"), &foreign).unwrap_err().code, 553);
        assert!(p.check_sender(None, &foreign).is_ok());
    }
}
