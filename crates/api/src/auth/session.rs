//! Console login sessions: the cookie, its creation and its expiry.
//!
//! The cookie holds a random secret; the store keeps only its hash. The cookie is `HttpOnly`
//! (scripts cannot read it), `SameSite=Strict` (other sites cannot make the browser send it)
//! and `Secure` under TLS. State-changing requests must also echo the session's CSRF token in
//! `X-CSRF-Token`, which a page of another origin cannot read.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use jiff::{SignedDuration, Timestamp};
use mamori_store::Session;
use mamori_store::secret::{hash_secret, new_secret};

use crate::settings::ApiSettings;

pub const COOKIE_NAME: &str = "mamori_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Activity is written back to the store at most this often per session, so that a busy
/// console does not turn every read into a database write.
const TOUCH_EVERY: Duration = Duration::from_secs(15);

/// A new session for `user_id`, and the secret to put in the cookie.
pub fn new_session(
    user_id: &str,
    source_ip: Option<String>,
    settings: &ApiSettings,
    now: Timestamp,
) -> (String, Session) {
    let secret = new_secret("mms_");
    let expires_at = now.checked_add(signed(settings.session_lifetime)).unwrap_or(now);
    let session = Session {
        hash: hash_secret(&secret),
        user_id: user_id.to_owned(),
        created_at: now,
        expires_at,
        last_seen_at: now,
        source_ip,
        csrf_token: new_secret(""),
        mfa_pending: false,
    };
    (secret, session)
}

/// Why a stored session no longer counts, if it does not.
pub fn expired(session: &Session, now: Timestamp, settings: &ApiSettings) -> Option<&'static str> {
    if session.is_expired(now) {
        return Some("the session has expired; log in again");
    }
    let idle = now.duration_since(session.last_seen_at);
    if idle > signed(settings.session_idle) {
        return Some("the session expired after inactivity; log in again");
    }
    None
}

/// Whether the session's last activity is old enough to be written again.
pub fn needs_touch(session: &Session, now: Timestamp) -> bool {
    now.duration_since(session.last_seen_at) >= signed(TOUCH_EVERY)
}

/// The `Set-Cookie` value that installs the session.
pub fn set_cookie(secret: &str, settings: &ApiSettings) -> HeaderValue {
    let secure = if settings.tls { "; Secure" } else { "" };
    let value = format!(
        "{COOKIE_NAME}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        settings.session_lifetime.as_secs()
    );
    // The secret is URL-safe base64 and the rest is ASCII, so this cannot fail.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(settings: &ApiSettings) -> HeaderValue {
    if settings.tls {
        HeaderValue::from_static("mamori_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure")
    } else {
        HeaderValue::from_static("mamori_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
    }
}

/// The session secret from the request's cookies.
pub fn cookie_secret(headers: &HeaderMap) -> Option<&str> {
    crate::extract::cookie(headers, COOKIE_NAME).filter(|v| !v.is_empty())
}

/// Compares in time independent of where the inputs differ, so the CSRF token cannot be
/// guessed byte by byte from response times.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_attributes() {
        let mut s = ApiSettings::default();
        let v = set_cookie("abc", &s);
        let v = v.to_str().unwrap();
        assert!(v.starts_with("mamori_session=abc;"));
        assert!(v.contains("HttpOnly") && v.contains("SameSite=Strict") && v.contains("Path=/"));
        assert!(!v.contains("Secure"));
        s.tls = true;
        assert!(set_cookie("abc", &s).to_str().unwrap().ends_with("; Secure"));
        assert!(clear_cookie(&s).to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn finds_the_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(axum::http::header::COOKIE, HeaderValue::from_static("a=1; mamori_session=xyz; b=2"));
        assert_eq!(cookie_secret(&h), Some("xyz"));
        let mut h = HeaderMap::new();
        h.append(axum::http::header::COOKIE, HeaderValue::from_static("mamori_session="));
        assert_eq!(cookie_secret(&h), None);
    }

    #[test]
    fn idle_and_absolute_expiry() {
        let settings = ApiSettings::default();
        let now = Timestamp::now();
        let (_, mut s) = new_session("u", None, &settings, now);
        assert!(expired(&s, now, &settings).is_none());
        let later = now.checked_add(SignedDuration::from_mins(31)).unwrap();
        assert!(expired(&s, later, &settings).unwrap().contains("inactivity"));
        s.last_seen_at = now.checked_add(SignedDuration::from_hours(12)).unwrap();
        let end = now.checked_add(SignedDuration::from_hours(12)).unwrap();
        assert!(expired(&s, end, &settings).unwrap().contains("has expired"));
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
