//! The compiled edge configuration in force: sites by host name, their rulesets, origins and
//! certificates. Built whole (`build`) and swapped whole on reload.

use std::collections::HashMap;
use std::sync::Arc;

use mamori_core::config::edge::{FrameOptions, WafMode};
use mamori_waf::Ruleset;
use rustls::sign::CertifiedKey;

use crate::forward::OriginClient;
use crate::origins::OriginPool;

#[derive(Debug)]
pub struct Site {
    pub name: String,
    pub tenant: String,
    pub hosts: Vec<String>,
    pub origins: OriginPool,
    /// Connections to the origins, TLS verified against the site's `origin_ca` or the system.
    pub client: OriginClient,
    pub waf: WafMode,
    /// Present unless `waf` is off.
    pub ruleset: Option<Arc<Ruleset>>,
    pub frame_options: FrameOptions,
    pub frame_ancestors: Option<String>,
    pub certificate: Option<Arc<CertifiedKey>>,
    pub health_check_path: String,
}

#[derive(Debug, Default)]
pub struct EdgeState {
    pub sites: Vec<Arc<Site>>,
    by_host: HashMap<String, Arc<Site>>,
    /// `*.example.jp` sites by their suffix (`.example.jp`).
    by_wildcard: HashMap<String, Arc<Site>>,
}

impl EdgeState {
    pub fn new(sites: Vec<Arc<Site>>) -> EdgeState {
        let mut by_host = HashMap::new();
        let mut by_wildcard = HashMap::new();
        for site in &sites {
            for h in &site.hosts {
                match h.strip_prefix('*') {
                    Some(suffix) => by_wildcard.insert(suffix.to_string(), site.clone()),
                    None => by_host.insert(h.clone(), site.clone()),
                };
            }
        }
        EdgeState { sites, by_host, by_wildcard }
    }

    /// The site for a `Host` value (any case, port and trailing dot ignored): the site that
    /// lists the name itself, else the one whose wildcard covers the most of it.
    pub fn site_for(&self, host: &str) -> Option<&Arc<Site>> {
        let host = normalize_host(host);
        if let Some(site) = self.by_host.get(&host) {
            return Some(site);
        }
        if self.by_wildcard.is_empty() {
            return None;
        }
        // `a.b.example.jp` tries `.b.example.jp`, then `.example.jp`, then `.jp`: longest first.
        host.match_indices('.').filter(|&(i, _)| i > 0).find_map(|(i, _)| self.by_wildcard.get(&host[i..]))
    }

    /// Number of distinct compiled rulesets (shared between sites).
    pub fn ruleset_count(&self) -> usize {
        let mut seen: Vec<*const Ruleset> =
            self.sites.iter().filter_map(|s| s.ruleset.as_ref().map(Arc::as_ptr)).collect();
        seen.sort();
        seen.dedup();
        seen.len()
    }
}

/// `WWW.Example.jp:8443` → `www.example.jp`; `[::1]:80` → `[::1]`.
pub fn normalize_host(host: &str) -> String {
    let h = if host.starts_with('[') {
        host.split_once(']').map_or(host, |(a, _)| a).to_string() + "]"
    } else {
        host.rsplit_once(':')
            .filter(|(_, p)| p.bytes().all(|c| c.is_ascii_digit()))
            .map_or(host, |(h, _)| h)
            .to_string()
    };
    h.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_normalized() {
        assert_eq!(normalize_host("WWW.Example.jp:8443"), "www.example.jp");
        assert_eq!(normalize_host("www.example.jp."), "www.example.jp");
        assert_eq!(normalize_host("[::1]:80"), "[::1]");
    }

    fn site(name: &str, hosts: &[&str]) -> Arc<Site> {
        Arc::new(Site {
            name: name.into(),
            tenant: "t".into(),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            origins: OriginPool::new(Vec::new()),
            client: OriginClient::new(
                std::time::Duration::from_secs(1),
                crate::origin_tls::client_config(crate::origin_tls::Trust::Nothing).unwrap(),
            ),
            waf: WafMode::Off,
            ruleset: None,
            frame_options: FrameOptions::Off,
            frame_ancestors: None,
            certificate: None,
            health_check_path: "/".into(),
        })
    }

    #[test]
    fn exact_names_win_over_wildcards_and_longer_wildcards_over_shorter() {
        let state = EdgeState::new(vec![
            site("all", &["*.example.lg.jp"]),
            site("city", &["*.city.example.lg.jp"]),
            site("www", &["www.city.example.lg.jp"]),
        ]);
        let name = |h: &str| state.site_for(h).map(|s| s.name.clone());
        assert_eq!(name("www.city.example.lg.jp").as_deref(), Some("www"));
        assert_eq!(name("Mail.City.example.lg.jp:8443").as_deref(), Some("city"));
        assert_eq!(name("a.b.example.lg.jp").as_deref(), Some("all"));
        assert_eq!(name("example.lg.jp"), None, "a wildcard does not cover the domain itself");
        assert_eq!(name("other.jp"), None);
    }
}
