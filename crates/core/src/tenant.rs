//! Member municipalities (構成団体), called tenants in the code.

use std::fmt;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The bucket for events whose sender could not be attributed to any tenant.
pub const UNASSIGNED: &str = "unassigned";

/// Ids that name something other than a tenant and so cannot be used as a tenant id.
pub const RESERVED_IDS: &[&str] = &[UNASSIGNED, "common", "all", "_all", "prefecture", "mamori"];

/// A member municipality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Short ASCII id used in events (`organization.id`), URLs and the CLI.
    pub id: String,
    /// Official Japanese name, e.g. みどり市.
    pub name_ja: String,
    /// English name, e.g. Midori City.
    pub name_en: String,
    /// How the municipality's networks are split (総務省's α / α' / β / β' models).
    pub network_model: NetworkModel,
    /// Address ranges of the municipality's networks, IPv4 and IPv6.
    #[serde(default)]
    pub networks: Vec<IpNet>,
    /// Domains the municipality owns; subdomains belong to it too.
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// Overrides of the log retention defaults for this tenant.
    #[serde(default, skip_serializing_if = "Retention::is_empty")]
    pub retention: Retention,
}

/// The network separation models of the 自治体情報システム強靭性向上モデル.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NetworkModel {
    /// α: internet connection separated; business terminals on LGWAN.
    #[serde(rename = "alpha", alias = "α")]
    Alpha,
    /// α': α with some services moved to the internet side.
    #[serde(rename = "alpha-prime", alias = "α'", alias = "alpha_prime")]
    AlphaPrime,
    /// β: business terminals on the internet side, LGWAN services reached through isolation.
    #[serde(rename = "beta", alias = "β")]
    Beta,
    /// β': β with most business systems on the internet side too.
    #[serde(rename = "beta-prime", alias = "β'", alias = "beta_prime")]
    BetaPrime,
}

impl fmt::Display for NetworkModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NetworkModel::Alpha => "α",
            NetworkModel::AlphaPrime => "α'",
            NetworkModel::Beta => "β",
            NetworkModel::BetaPrime => "β'",
        })
    }
}

/// A person or desk to reach at the municipality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Log retention, in days in the searchable hot tier and years in the compressed archive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hot_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_years: Option<u32>,
}

impl Retention {
    pub fn is_empty(&self) -> bool {
        self.hot_days.is_none() && self.archive_years.is_none()
    }
}

/// Checks the form of a tenant id: 1-63 characters of `a-z 0-9 - _`, starting with a letter or
/// digit, and not one of the reserved ids.
pub fn check_tenant_id(id: &str) -> Result<(), String> {
    let valid = !id.is_empty()
        && id.len() <= 63
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && id.as_bytes()[0].is_ascii_alphanumeric();
    if !valid {
        return Err(format!(
            "tenant id '{id}' must be 1-63 characters of a-z, 0-9, '-' or '_' starting with a letter or digit"
        ));
    }
    if RESERVED_IDS.contains(&id) {
        return Err(format!("tenant id '{id}' is reserved"));
    }
    Ok(())
}
