//! API tokens in `Authorization: Bearer` headers.

use axum::http::{HeaderMap, header};
use jiff::{SignedDuration, Timestamp};
use mamori_store::Token;

use crate::error::{ApiError, ApiResult};

/// Prefix of every API token, so secret scanners recognise a leaked one.
pub const TOKEN_PREFIX: &str = "mmr_";

/// A token's last use is written back at most this often.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

/// The bearer token of the request: `None` without an `Authorization` header, an error for a
/// header of another scheme (a client that sends Basic credentials should hear so, not be
/// treated as anonymous).
pub fn bearer(headers: &HeaderMap) -> ApiResult<Option<&str>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::unauthorized("the Authorization header is not ASCII"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized("use 'Authorization: Bearer <token>' with an API token"));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::unauthorized("the bearer token is empty"));
    }
    Ok(Some(token))
}

/// Whether the token's last use is old enough to be written again.
pub fn needs_touch(token: &Token, now: Timestamp) -> bool {
    token.last_used_at.is_none_or(|t| now.duration_since(t) >= TOUCH_EVERY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn parses_bearer_headers() {
        let mut h = HeaderMap::new();
        assert!(bearer(&h).unwrap().is_none());
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer mmr_abc"));
        assert_eq!(bearer(&h).unwrap(), Some("mmr_abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer  mmr_abc "));
        assert_eq!(bearer(&h).unwrap(), Some("mmr_abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic dXNlcjpwYXNz"));
        assert!(bearer(&h).is_err());
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer"));
        assert!(bearer(&h).is_err());
    }
}
