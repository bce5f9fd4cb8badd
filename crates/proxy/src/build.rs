//! Building the proxy's state from a configuration revision: the lists are read and compiled
//! once, then each tenant's policy says what they mean to it.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use mamori_core::managed::ManagedConfig;
use mamori_core::web::WebPolicy;
use mamori_urlfilter::{Action, Entry, Format, ListId, MatcherBuilder, Policy, load_category, load_list_file};

use crate::decision::CATEGORY_PREFIX;
use crate::state::{ProxyState, TenantWebPolicy};

/// What building found: a line per list read, and the reason when the state cannot be built
/// (the previous one then stays in force).
#[derive(Debug, Default)]
pub struct BuildReport {
    pub loaded: Vec<String>,
}

/// Builds the state for `config`; relative paths are relative to `base` (the config file's
/// directory).
pub fn build_state(
    config: &ManagedConfig,
    base: &Path,
    allow_unassigned: bool,
) -> Result<(ProxyState, BuildReport), String> {
    let web = &config.web;
    let mut b = MatcherBuilder::new();
    let mut report = BuildReport::default();
    let err = |e: mamori_urlfilter::BuildError| e.to_string();

    // Categories: only those some policy names are read.
    let mut wanted: BTreeSet<&str> = BTreeSet::new();
    for p in std::iter::once(&web.common).chain(web.tenants.values()) {
        wanted.extend(p.block_categories.iter().map(String::as_str));
        wanted.extend(p.read_only_categories.iter().map(String::as_str));
        wanted.extend(p.tls_bypass_categories.iter().map(String::as_str));
    }
    let mut categories: HashMap<&str, ListId> = HashMap::new();
    if !wanted.is_empty() {
        let Some(dir) = &web.categories_dir else {
            return Err("web: categories are named but web.categories_dir is not set".into());
        };
        let dir = base.join(dir);
        for name in wanted {
            let list = load_category(&dir, name)
                .map_err(|e| format!("web.categories_dir: cannot read {}: {e}", dir.join(name).display()))?
                .ok_or_else(|| format!("web: the category '{name}' is not in {}", dir.display()))?;
            report.loaded.push(list.report.to_string());
            let id = b.list(&format!("{CATEGORY_PREFIX}{name}")).map_err(err)?;
            list.entries.into_iter().for_each(|e| b.add(id, e));
            categories.insert(name, id);
        }
    }

    let mut threats = Vec::new();
    for feed in &web.threat_feeds {
        let format = match feed.format.as_str() {
            "hosts" => Format::Hosts,
            "csv" => Format::Csv,
            _ => Format::Plain,
        };
        let path = base.join(&feed.path);
        let list = load_list_file(&path, format)
            .map_err(|e| format!("web.threat_feeds: cannot read {}: {e}", path.display()))?;
        report.loaded.push(list.report.to_string());
        let id = b.list(&format!("threat:{}", feed.name)).map_err(err)?;
        list.entries.into_iter().for_each(|e| b.add(id, e));
        threats.push(id);
    }

    let common = add_lists(&mut b, "common", &web.common)?;
    let mut own = HashMap::new();
    for (tenant, p) in &web.tenants {
        own.insert(tenant.as_str(), add_lists(&mut b, &format!("tenant:{tenant}"), p)?);
    }
    let matcher = b.build().map_err(err)?;

    let policy_for = |extra: Option<(&WebPolicy, &Lists)>| {
        let mut policy = Policy::new();
        threats.iter().for_each(|l| {
            policy.set(*l, Action::Threat);
        });
        for (p, lists) in std::iter::once((&web.common, &common)).chain(extra) {
            lists.apply(&mut policy);
            for c in &p.block_categories {
                policy.set(categories[c.as_str()], Action::Block);
            }
            for c in &p.read_only_categories {
                policy.set(categories[c.as_str()], Action::ReadOnly);
            }
        }
        policy.allow_only(web.common.allow_only || extra.is_some_and(|(p, _)| p.allow_only));
        policy
    };
    let mut tenants = HashMap::new();
    for t in &config.tenants {
        let extra = web.tenants.get(&t.id).map(|p| (p, &own[t.id.as_str()]));
        let helpdesk = extra
            .and_then(|(p, _)| p.helpdesk.clone())
            .or_else(|| web.common.helpdesk.clone())
            .or_else(|| t.contacts.first().map(contact_line));
        let trusted_proxies = extra.map(|(p, _)| p.trusted_proxies.clone()).unwrap_or_default();
        let mut twp = TenantWebPolicy { policy: policy_for(extra), trusted_proxies, helpdesk, ..Default::default() };
        inspection_and_scanning(&mut twp, &web.common, &common, extra, &categories);
        if extra.is_some_and(|(p, _)| p.tls_own_ca) {
            twp.tls_ca = Some(t.id.clone());
        }
        tenants.insert(t.id.clone(), twp);
    }
    let mut default_policy =
        TenantWebPolicy { policy: policy_for(None), helpdesk: web.common.helpdesk.clone(), ..Default::default() };
    inspection_and_scanning(&mut default_policy, &web.common, &common, None, &categories);
    let state =
        ProxyState::new(Arc::new(config.directory()), Arc::new(matcher), tenants, default_policy, allow_unassigned);
    Ok((state, report))
}

/// TLS inspection and malware scanning: the tenant's setting where it has one, else the
/// common one; bypass lists add up.
fn inspection_and_scanning(
    t: &mut TenantWebPolicy,
    common: &WebPolicy,
    common_lists: &Lists,
    extra: Option<(&WebPolicy, &Lists)>,
    categories: &HashMap<&str, ListId>,
) {
    let own = extra.map(|(p, _)| p);
    let pick = |f: fn(&WebPolicy) -> Option<bool>, default: bool| own.and_then(f).or(f(common)).unwrap_or(default);
    t.tls_inspect = pick(|p| p.tls_inspect, false);
    t.scan_downloads = pick(|p| p.scan_downloads, true);
    t.scan_uploads = pick(|p| p.scan_uploads, false);
    let failure = own.and_then(|p| p.scan_failure.as_deref()).or(common.scan_failure.as_deref());
    t.scan_fail_open = failure != Some("closed");
    for (p, lists) in std::iter::once((common, common_lists)).chain(extra) {
        t.tls_bypass.push(lists.tls_bypass);
        t.tls_bypass.extend(p.tls_bypass_categories.iter().map(|c| categories[c.as_str()]));
    }
}

/// The list ids of one policy's own lists.
struct Lists {
    block: ListId,
    allow: ListId,
    read_only: ListId,
    tls_bypass: ListId,
}

impl Lists {
    fn apply(&self, policy: &mut Policy) {
        policy.set(self.block, Action::Block).set(self.allow, Action::Allow).set(self.read_only, Action::ReadOnly);
    }
}

fn add_lists(b: &mut MatcherBuilder, prefix: &str, p: &WebPolicy) -> Result<Lists, String> {
    let err = |e: mamori_urlfilter::BuildError| e.to_string();
    let lists = Lists {
        block: b.list(&format!("{prefix}:block")).map_err(err)?,
        allow: b.list(&format!("{prefix}:allow")).map_err(err)?,
        read_only: b.list(&format!("{prefix}:read_only")).map_err(err)?,
        tls_bypass: b.list(&format!("{prefix}:tls_bypass")).map_err(err)?,
    };
    // Entries were checked when the configuration was validated.
    for (id, entries) in [
        (lists.block, &p.block),
        (lists.allow, &p.allow),
        (lists.read_only, &p.read_only),
        (lists.tls_bypass, &p.tls_bypass_domains),
    ] {
        for e in entries {
            let entry = Entry::guess(e).map_err(|why| format!("{prefix}: {why}"))?;
            b.add(id, entry);
        }
    }
    for r in &p.block_regex {
        b.add(lists.block, Entry::regex(r).map_err(|why| format!("{prefix}: {why}"))?);
    }
    Ok(lists)
}

fn contact_line(c: &mamori_core::tenant::Contact) -> String {
    let mut s = c.name.clone();
    for x in [&c.phone, &c.email].into_iter().flatten() {
        s.push_str(&format!(" {x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_core::tenant::{NetworkModel, Tenant};

    fn tenant(id: &str) -> Tenant {
        Tenant {
            id: id.into(),
            name_ja: id.into(),
            name_en: id.into(),
            network_model: NetworkModel::Beta,
            networks: vec![],
            domains: vec![],
            contacts: vec![],
            retention: Default::default(),
        }
    }

    #[test]
    fn inspection_and_scanning_settings_follow_the_tenant_then_the_common_policy() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("cats/bank")).unwrap();
        std::fs::write(dir.path().join("cats/bank/domains"), "bank.test\n").unwrap();
        let mut config = ManagedConfig { tenants: vec![tenant("midori"), tenant("aoba")], ..Default::default() };
        let web = &mut config.web;
        web.categories_dir = Some("cats".into());
        web.common.tls_inspect = Some(true);
        web.common.tls_bypass_categories = vec!["bank".into()];
        web.common.scan_failure = Some("closed".into());
        let midori = web.tenants.entry("midori".into()).or_default();
        midori.tls_own_ca = true;
        midori.tls_bypass_domains = vec!["hospital.test".into()];
        midori.scan_uploads = Some(true);
        let aoba = web.tenants.entry("aoba".into()).or_default();
        aoba.tls_inspect = Some(false);
        aoba.scan_failure = Some("open".into());
        let (state, _) = build_state(&config, dir.path(), false).unwrap();

        let bypassed = |tenant: &str, host: &str| {
            let mut m = mamori_urlfilter::Matches::default();
            state.matcher.lookup(&mamori_urlfilter::Target::parse(host).unwrap(), &mut m);
            let t = state.web_policy(Some(tenant));
            m.lists().iter().any(|l| t.tls_bypass.contains(l))
        };
        let m = state.web_policy(Some("midori"));
        assert!(m.tls_inspect && m.scan_downloads && m.scan_uploads && !m.scan_fail_open);
        assert_eq!(m.tls_ca.as_deref(), Some("midori"));
        assert!(bypassed("midori", "www.bank.test:443") && bypassed("midori", "hospital.test:443"));
        assert!(!bypassed("midori", "news.test:443"));
        let a = state.web_policy(Some("aoba"));
        assert!(!a.tls_inspect && a.scan_fail_open && !a.scan_uploads && a.tls_ca.is_none());
        assert!(bypassed("aoba", "bank.test:443") && !bypassed("aoba", "hospital.test:443"));
    }
}
