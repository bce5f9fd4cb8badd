//! Settings of the API that are not part of the versioned configuration: limits, session
//! lifetimes and login throttling. Built from `[api]` of the configuration file; tests shorten
//! the times.

use std::time::Duration;

use mamori_core::config::ApiConfig;
use mamori_store::Role;

/// How many failed logins a key (a username or a source address) may have within `window`
/// before it is locked out for `lockout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimit {
    pub failures: u32,
    pub window: Duration,
    pub lockout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiSettings {
    /// Served over HTTPS: cookies get `Secure`, responses get HSTS.
    pub tls: bool,
    /// Largest ingestion body, in bytes (`[api] max_body_bytes`).
    pub max_body_bytes: usize,
    /// Largest body of every other request; JSON requests are small, so a lower cap keeps a
    /// client from making the server buffer megabytes for nothing.
    pub max_json_bytes: usize,
    /// Ingested lines longer than this are cut and flagged.
    pub max_line_bytes: usize,
    /// A session unused this long expires.
    pub session_idle: Duration,
    /// A session expires this long after login however active it is.
    pub session_lifetime: Duration,
    /// Throttling of failed logins per username. Tight: a user has one password to guess.
    pub login_per_user: LoginLimit,
    /// Throttling per source address. Looser, because many staff of one municipality may
    /// share one NAT address and one typo each must not lock out the whole town hall.
    pub login_per_ip: LoginLimit,
    /// Shortest password accepted when setting one.
    pub min_password_chars: usize,
    /// Whether `/metrics` needs a token or session of an all-tenant role. On by default, as
    /// metrics carry per-tenant labels a municipality must not read about its neighbours.
    pub metrics_require_auth: bool,
    /// Roles that must log in with a second factor (TOTP). A user of such a role without one
    /// is made to enrol at their first console login and cannot log in through the API
    /// before that.
    pub two_factor_roles: Vec<Role>,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            tls: false,
            max_body_bytes: 32 << 20,
            max_json_bytes: 1 << 20,
            max_line_bytes: 1 << 20,
            session_idle: Duration::from_secs(30 * 60),
            session_lifetime: Duration::from_secs(12 * 3600),
            login_per_user: LoginLimit {
                failures: 5,
                window: Duration::from_secs(300),
                lockout: Duration::from_secs(300),
            },
            login_per_ip: LoginLimit {
                failures: 30,
                window: Duration::from_secs(300),
                lockout: Duration::from_secs(300),
            },
            min_password_chars: 12,
            metrics_require_auth: true,
            two_factor_roles: vec![Role::SocAnalyst, Role::PrefectureAdmin, Role::MunicipalAdmin],
        }
    }
}

impl ApiSettings {
    /// Whether users of `role` must log in with a second factor.
    pub fn requires_two_factor(&self, role: Role) -> bool {
        self.two_factor_roles.contains(&role)
    }

    /// The settings for the `[api]` section of the configuration file.
    pub fn from_config(api: &ApiConfig) -> Self {
        ApiSettings {
            tls: api.tls_cert.is_some() && api.tls_key.is_some(),
            max_body_bytes: api.max_body_bytes,
            ..ApiSettings::default()
        }
    }
}
