//! Building the edge state from `[edge]`: rulesets compiled once per distinct key, site
//! certificates loaded, origins parsed. Any problem refuses the whole build, so a reload that
//! fails leaves the state in force untouched.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use mamori_core::config::edge::{EdgeConfig, OriginAddr, WafMode};

use crate::forward::OriginClient;
use crate::origin_tls::{self, Trust};
use crate::origins::{Origin, OriginPool};
use crate::rulesets::{self, RulesetKey};
use crate::state::{EdgeState, Site};

/// Everything that kept the configuration from loading, each naming its configuration key and,
/// for rule files, the file and line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .problems.join("; "))]
pub struct BuildError {
    pub problems: Vec<String>,
}

/// Builds the state; `base` resolves relative paths (the configuration file's directory).
pub fn build_state(config: &EdgeConfig, base: &Path) -> Result<EdgeState, BuildError> {
    let mut problems = Vec::new();
    let mut compiled: HashMap<RulesetKey, Arc<mamori_waf::Ruleset>> = HashMap::new();
    let mut failed: HashMap<RulesetKey, ()> = HashMap::new();
    let mut sites = Vec::new();
    // Read once, and only when a site has an https:// origin without its own CA.
    let mut system_roots: Option<Result<rustls::RootCertStore, String>> = None;
    let connect_timeout = std::time::Duration::from_secs(config.connect_timeout_secs.max(1));
    for (i, sc) in config.sites.iter().enumerate() {
        let at = format!("edge.sites[{i}]");
        let ruleset = match (&sc.ruleset, sc.waf) {
            (_, WafMode::Off) => None,
            (None, _) => {
                problems.push(format!("{at}.ruleset: waf is on but no ruleset is named"));
                None
            }
            (Some(name), _) => {
                let mut excluded = sc.exclude_rules.clone();
                excluded.sort_unstable();
                excluded.dedup();
                let key = RulesetKey { name: name.clone(), paranoia: sc.paranoia, excluded };
                match (compiled.get(&key), config.rulesets.get(name)) {
                    (Some(rs), _) => Some(rs.clone()),
                    (None, None) => {
                        problems.push(format!("{at}.ruleset: unknown ruleset '{name}'"));
                        None
                    }
                    (None, Some(_)) if failed.contains_key(&key) => None,
                    (None, Some(rc)) => {
                        let started = std::time::Instant::now();
                        match rulesets::compile(
                            &key,
                            rc,
                            base,
                            config.max_request_body_bytes,
                            config.max_inspected_response_bytes,
                        ) {
                            Ok(rs) => {
                                tracing::info!(
                                    ruleset = %name, paranoia = sc.paranoia, rules = rs.rule_count(),
                                    ms = started.elapsed().as_millis() as u64, "WAF ruleset compiled"
                                );
                                let rs = Arc::new(rs);
                                compiled.insert(key, rs.clone());
                                Some(rs)
                            }
                            Err(e) => {
                                problems.push(format!("edge.rulesets.{name} (for {at}): {e}"));
                                failed.insert(key, ());
                                None
                            }
                        }
                    }
                }
            }
        };
        let certificate = match (&sc.tls_cert, &sc.tls_key) {
            (Some(c), Some(k)) => match crate::certs::load_certified_key(&base.join(c), &base.join(k)) {
                Ok(ck) => Some(Arc::new(ck)),
                Err(e) => {
                    problems.push(format!("{at}.tls_cert: {e}"));
                    None
                }
            },
            (None, None) => None,
            _ => {
                problems.push(format!("{at}: tls_cert and tls_key go together"));
                None
            }
        };
        let mut origins = Vec::new();
        for (j, o) in sc.origins.iter().enumerate() {
            match OriginAddr::parse(o) {
                Ok(a) => origins.push(Arc::new(Origin::new(a.authority, a.tls))),
                Err(e) => problems.push(format!("{at}.origins[{j}]: {e}")),
            }
        }
        if origins.is_empty() {
            problems.push(format!("{at}.origins: a site needs at least one origin"));
        }
        let ca_file = sc.origin_ca.as_ref().map(|p| base.join(p));
        let trust = match (&ca_file, origins.iter().any(|o| o.tls)) {
            (Some(path), _) => Ok(Trust::CaFile(path)),
            (None, false) => Ok(Trust::Nothing),
            (None, true) => match system_roots.get_or_insert_with(origin_tls::system_roots) {
                Ok(roots) => Ok(Trust::System(roots)),
                Err(e) => Err(e.clone()),
            },
        };
        let tls = trust.and_then(origin_tls::client_config).unwrap_or_else(|e| {
            problems.push(format!("{at}.origin_ca: {e}"));
            origin_tls::client_config(Trust::Nothing).expect("TLS settings without roots always build")
        });
        sites.push(Arc::new(Site {
            name: sc.name.clone(),
            tenant: sc.tenant.clone(),
            hosts: sc.hosts.iter().map(|h| crate::state::normalize_host(h)).collect(),
            origins: OriginPool::new(origins),
            client: OriginClient::new(connect_timeout, tls),
            waf: sc.waf,
            ruleset,
            frame_options: sc.frame_options,
            frame_ancestors: sc.frame_ancestors.clone(),
            certificate,
            health_check_path: sc.health_check_path.clone(),
        }));
    }
    if problems.is_empty() { Ok(EdgeState::new(sites)) } else { Err(BuildError { problems }) }
}
