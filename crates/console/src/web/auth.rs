//! Who is looking at a page. [`Console`] is a logged-in operator (fully: password and second
//! factor); [`Pending`] is a login still waiting for its second factor. Without a session a
//! page redirects to the login form.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use mamori_api::AppState;
use mamori_api::auth::{Credential, Operator, console_session};
use mamori_store::Role;

use super::error::PageError;
use crate::i18n::Lang;

/// A fully logged-in operator, with the page language and the session's CSRF token for forms.
pub struct Console {
    pub op: Operator,
    pub lang: Lang,
    pub csrf: String,
    /// The path and query of this request, for the language switch to come back to.
    pub here: String,
}

impl Console {
    pub fn role(&self) -> Role {
        self.op.user.role
    }

    pub fn t(&self, key: &'static str) -> &'static str {
        self.lang.t(key)
    }

    /// Refuses roles that see only some tenants, for pages that span every tenant.
    pub fn require_all_tenants(&self) -> Result<(), PageError> {
        if self.op.scope.is_all() { Ok(()) } else { Err(PageError::forbidden(self.lang, "error.all_tenants")) }
    }

    pub fn require(&self, allowed: bool) -> Result<(), PageError> {
        if allowed { Ok(()) } else { Err(PageError::forbidden(self.lang, "error.role")) }
    }
}

impl FromRequestParts<AppState> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = Lang::from_headers(&parts.headers);
        match console_session(parts, state).await {
            Ok((op, false)) => {
                let csrf = match &op.credential {
                    Credential::Session { csrf, .. } => csrf.clone(),
                    Credential::Token { .. } => String::new(),
                };
                let here = parts.uri.path_and_query().map_or("/console/", |p| p.as_str()).to_owned();
                Ok(Console { op, lang, csrf, here })
            }
            Ok((_, true)) => Err(Redirect::to("/console/login/second").into_response()),
            Err(_) => Err(Redirect::to("/console/login").into_response()),
        }
    }
}

/// A session whose password was right and whose second factor is still missing.
pub struct Pending {
    pub op: Operator,
    pub lang: Lang,
    pub csrf: String,
    pub hash: String,
}

impl FromRequestParts<AppState> for Pending {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = Lang::from_headers(&parts.headers);
        match console_session(parts, state).await {
            Ok((op, true)) => {
                let Credential::Session { hash, csrf } = op.credential.clone() else {
                    return Err(Redirect::to("/console/login").into_response());
                };
                Ok(Pending { op, lang, csrf, hash })
            }
            Ok((_, false)) => Err(Redirect::to("/console/").into_response()),
            Err(_) => Err(Redirect::to("/console/login").into_response()),
        }
    }
}
