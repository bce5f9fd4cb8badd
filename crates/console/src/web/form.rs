//! Form posts. Every state-changing form carries the session's CSRF token in the field `csrf`;
//! [`Posted`] refuses the request (403) before any handler runs when it is missing or wrong.
//! The session cookie is `SameSite=Strict` as well, so this is the second of two guards.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use mamori_api::AppState;
use mamori_api::auth::session::constant_time_eq;

use super::auth::{Console, Pending};
use super::error::PageError;

pub const CSRF_FIELD: &str = "csrf";

/// The fields of an `application/x-www-form-urlencoded` body; repeated names keep every value.
#[derive(Debug, Default)]
pub struct Fields(HashMap<String, Vec<String>>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in form_urlencoded::parse(body) {
            map.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        Fields(map)
    }

    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).and_then(|v| v.first()).map_or("", String::as_str)
    }

    /// The first value of `name`, trimmed, when not empty.
    pub fn opt(&self, name: &str) -> Option<String> {
        let v = self.get(name).trim();
        (!v.is_empty()).then(|| v.to_owned())
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

/// Whether the form's token is the expected one.
pub fn token_ok(fields: &Fields, expected: &str) -> bool {
    !expected.is_empty() && constant_time_eq(fields.get(CSRF_FIELD).as_bytes(), expected.as_bytes())
}

async fn body(req: Request, state: &AppState) -> Result<Fields, Response> {
    let bytes = Bytes::from_request(req, state).await.map_err(IntoResponse::into_response)?;
    Ok(Fields::parse(&bytes))
}

/// A form posted by a logged-in operator, with its CSRF token checked.
pub struct Posted {
    pub c: Console,
    pub f: Fields,
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, b) = req.into_parts();
        let c = Console::from_request_parts(&mut parts, state).await?;
        let f = body(Request::from_parts(parts, b), state).await?;
        if !token_ok(&f, &c.csrf) {
            return Err(PageError::csrf(c.lang).into_response());
        }
        Ok(Posted { c, f })
    }
}

/// A form posted during a pending login (the second-factor pages), CSRF token checked.
pub struct PendingPosted {
    pub p: Pending,
    pub f: Fields,
}

impl FromRequest<AppState> for PendingPosted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, b) = req.into_parts();
        let p = Pending::from_request_parts(&mut parts, state).await?;
        let f = body(Request::from_parts(parts, b), state).await?;
        if !token_ok(&f, &p.csrf) {
            return Err(PageError::csrf(p.lang).into_response());
        }
        Ok(PendingPosted { p, f })
    }
}
