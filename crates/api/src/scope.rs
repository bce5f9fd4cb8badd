//! The tenants a caller may see, derived from the caller's role and never from the request.
//! A request can only narrow it.

use mamori_store::User;

use crate::error::{ApiError, ApiResult};

/// Which tenants' data a caller may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Only these tenants (a municipal administrator's own). May be empty: such a user sees
    /// nothing.
    Only(Vec<String>),
}

impl Scope {
    pub fn of(user: &User) -> Scope {
        match user.tenant_scope() {
            None => Scope::All,
            Some(list) => Scope::Only(list.to_vec()),
        }
    }

    pub fn is_all(&self) -> bool {
        matches!(self, Scope::All)
    }

    pub fn allows(&self, tenant: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(list) => list.iter().any(|t| t == tenant),
        }
    }

    /// The value for `AuditFilter::tenants`.
    pub fn as_filter(&self) -> Option<Vec<String>> {
        match self {
            Scope::All => None,
            Scope::Only(list) => Some(list.clone()),
        }
    }

    /// The scope narrowed to `requested` (no narrowing when empty). Asking for a tenant
    /// outside the scope is refused as a whole, with the same answer whether that tenant
    /// exists or not, so that the refusal reveals nothing.
    pub fn narrow(&self, requested: &[String], field: &str) -> ApiResult<Scope> {
        if requested.is_empty() {
            return Ok(self.clone());
        }
        if let Some(i) = requested.iter().position(|t| !self.allows(t)) {
            return Err(ApiError::forbidden("the request names a tenant outside those you may see")
                .with_field(format!("{field}[{i}]")));
        }
        let mut list = requested.to_vec();
        list.sort();
        list.dedup();
        Ok(Scope::Only(list))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(ts: &[&str]) -> Scope {
        Scope::Only(ts.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn narrowing_never_widens() {
        let s = only(&["a"]);
        assert_eq!(s.narrow(&[], "tenants").unwrap(), only(&["a"]));
        assert_eq!(s.narrow(&["a".into()], "tenants").unwrap(), only(&["a"]));
        let e = s.narrow(&["a".into(), "b".into()], "tenants").unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::FORBIDDEN);
        assert_eq!(e.field.as_deref(), Some("tenants[1]"));
        assert_eq!(Scope::All.narrow(&["b".into(), "b".into()], "tenants").unwrap(), only(&["b"]));
    }

    #[test]
    fn empty_scope_sees_nothing() {
        let s = only(&[]);
        assert!(!s.allows("a"));
        assert_eq!(s.as_filter(), Some(vec![]));
    }
}
