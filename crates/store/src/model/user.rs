//! Operators of mamori (prefecture and municipal staff, SOC analysts, auditors) and their roles.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What an operator may do. Stored and exchanged as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// SOC staff: sees all tenants, reads everything and works alerts and incidents.
    SocAnalyst,
    /// The prefecture's administrators: all tenants, may change the configuration and users.
    PrefectureAdmin,
    /// A municipality's administrator: sees only the tenants listed on the user.
    MunicipalAdmin,
    /// Oversight: read-only, across all tenants, so that it can review what every operator
    /// (prefecture administrators included) did; tenant-less audit entries would be invisible
    /// to a tenant-scoped auditor.
    Auditor,
}

impl Role {
    /// Every role, in the order they are listed to people.
    pub const ALL: [Role; 4] = [Role::SocAnalyst, Role::PrefectureAdmin, Role::MunicipalAdmin, Role::Auditor];

    /// The stored and displayed name, e.g. `prefecture_admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::SocAnalyst => "soc_analyst",
            Role::PrefectureAdmin => "prefecture_admin",
            Role::MunicipalAdmin => "municipal_admin",
            Role::Auditor => "auditor",
        }
    }

    /// Whether the role sees every tenant's data (otherwise only the user's own tenants).
    pub fn sees_all_tenants(self) -> bool {
        !matches!(self, Role::MunicipalAdmin)
    }

    /// Whether the role may append configuration revisions (the configuration spans all
    /// tenants, so only the prefecture may change it).
    pub fn can_change_config(self) -> bool {
        matches!(self, Role::PrefectureAdmin)
    }

    /// Whether the role may create, change and disable users and tokens.
    pub fn can_manage_users(self) -> bool {
        matches!(self, Role::PrefectureAdmin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}; valid roles are soc_analyst, prefecture_admin, municipal_admin, auditor")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// A stored operator account.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Random id assigned by the store; stable even when the username changes.
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Tenant ids the user works on; decisive for [`Role::MunicipalAdmin`].
    pub tenants: Vec<String>,
    /// Argon2id PHC string (see [`crate::password`]); never serialized.
    #[serde(skip_serializing)]
    pub password_hash: String,
    /// Base32 TOTP secret when two-factor login is enabled; never serialized.
    #[serde(skip_serializing)]
    pub totp_secret: Option<String>,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl User {
    /// The tenants this user may see: `None` for all tenants, `Some(list)` otherwise. This is
    /// the value to put into [`crate::AuditFilter::tenants`] and every other tenant-scoped query.
    pub fn tenant_scope(&self) -> Option<&[String]> {
        if self.role.sees_all_tenants() { None } else { Some(&self.tenants) }
    }
}

// Secrets are redacted so that a user can be logged without leaking them.
impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("tenants", &self.tenants)
            .field("password_hash", &"<redacted>")
            .field("totp_secret", &self.totp_secret.as_ref().map(|_| "<redacted>"))
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// What the caller supplies to create a user; the store assigns id and times.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub tenants: Vec<String>,
    /// Already hashed with [`crate::password::hash_password`].
    pub password_hash: String,
    pub totp_secret: Option<String>,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("tenants", &self.tenants)
            .finish_non_exhaustive()
    }
}

/// A change to a user; `None` fields are left as they are.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub tenants: Option<Vec<String>>,
    pub disabled: Option<bool>,
    /// A new Argon2id PHC string.
    pub password_hash: Option<String>,
    /// `Some(None)` turns two-factor login off, `Some(Some(secret))` sets a new secret.
    pub totp_secret: Option<Option<String>>,
}

impl fmt::Debug for UserUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserUpdate")
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("tenants", &self.tenants)
            .field("disabled", &self.disabled)
            .field("password_hash", &self.password_hash.as_ref().map(|_| "<redacted>"))
            .field("totp_secret", &self.totp_secret.as_ref().map(|s| s.as_ref().map(|_| "<redacted>")))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            let json = serde_json::to_string(&role).expect("serialize role");
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
    }

    #[test]
    fn unknown_role_lists_valid_names() {
        let err = "admin".parse::<Role>().expect_err("admin is not a role");
        let msg = err.to_string();
        assert!(msg.contains("\"admin\""), "{msg}");
        for role in Role::ALL {
            assert!(msg.contains(role.as_str()), "{msg}");
        }
    }

    #[test]
    fn permissions() {
        assert!(Role::PrefectureAdmin.can_change_config());
        assert!(Role::PrefectureAdmin.can_manage_users());
        assert!(!Role::MunicipalAdmin.sees_all_tenants());
        assert!(!Role::Auditor.can_change_config());
        assert!(!Role::SocAnalyst.can_manage_users());
        assert!(Role::SocAnalyst.sees_all_tenants());
    }

    #[test]
    fn debug_redacts_secrets() {
        let user = User {
            id: "1".into(),
            username: "u".into(),
            display_name: "U".into(),
            role: Role::Auditor,
            tenants: vec![],
            password_hash: "$argon2id$secret-hash".into(),
            totp_secret: Some("JBSWY3DPEHPK3PXP".into()),
            disabled: false,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        };
        let dbg = format!("{user:?}");
        assert!(!dbg.contains("secret-hash") && !dbg.contains("JBSWY3DP"), "{dbg}");
        let json = serde_json::to_string(&user).expect("serialize user");
        assert!(!json.contains("secret-hash") && !json.contains("JBSWY3DP"), "{json}");
    }
}
