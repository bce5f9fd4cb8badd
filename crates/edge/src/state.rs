//! The compiled edge configuration in force: sites by host name, their rulesets, origins and
//! certificates. Built whole (`build`) and swapped whole on reload.

use std::collections::HashMap;
use std::sync::Arc;

use mamori_core::config::edge::{FrameOptions, WafMode};
use mamori_waf::Ruleset;
use rustls::sign::CertifiedKey;

use crate::origins::OriginPool;

#[derive(Debug)]
pub struct Site {
    pub name: String,
    pub tenant: String,
    pub hosts: Vec<String>,
    pub origins: OriginPool,
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
}

impl EdgeState {
    pub fn new(sites: Vec<Arc<Site>>) -> EdgeState {
        let by_host = sites.iter().flat_map(|s| s.hosts.iter().map(move |h| (h.clone(), s.clone()))).collect();
        EdgeState { sites, by_host }
    }

    /// The site for a `Host` value (any case, port and trailing dot ignored).
    pub fn site_for(&self, host: &str) -> Option<&Arc<Site>> {
        self.by_host.get(&normalize_host(host))
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
    use super::normalize_host;

    #[test]
    fn hosts_are_normalized() {
        assert_eq!(normalize_host("WWW.Example.jp:8443"), "www.example.jp");
        assert_eq!(normalize_host("www.example.jp."), "www.example.jp");
        assert_eq!(normalize_host("[::1]:80"), "[::1]");
    }
}
