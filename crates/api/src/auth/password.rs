//! Password checks at login and the rules for new passwords.

use std::sync::OnceLock;

use mamori_store::password::{hash_password, verify_password};
use mamori_store::secret::new_secret;

use crate::error::{ApiError, ApiResult};

/// Longest password accepted. Argon2 takes any length, but hashing megabytes per login attempt
/// would be a cheap way to burn the server's CPU.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A hash of a random password nobody knows. Unknown usernames are verified against it, so a
/// login for a name that does not exist takes as long as one with a wrong password and the
/// response time does not reveal which usernames exist.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&new_secret("dummy_")))
}

/// Checks `password` against `hash`, or against the dummy hash when there is no user.
/// Blocking (Argon2): call it on a blocking thread.
pub fn verify(password: &str, hash: Option<&str>) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        // Still spend the time, for the same reason as the dummy hash.
        verify_password("", dummy_hash());
        return false;
    }
    match hash {
        Some(h) => verify_password(password, h),
        None => {
            verify_password(password, dummy_hash());
            false
        }
    }
}

/// Warms the dummy hash so the first unknown-user login is not slower than later ones.
pub fn prepare() {
    let _ = dummy_hash();
}

/// The rules for a new password: long enough, not absurdly long, not the username.
pub fn check_new(password: &str, username: &str, min_chars: usize, field: &str) -> ApiResult<()> {
    let chars = password.chars().count();
    if chars < min_chars {
        return Err(ApiError::field(
            field,
            format!("the password must have at least {min_chars} characters (it has {chars})"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::field(field, format!("the password must not be longer than {MAX_PASSWORD_BYTES} bytes")));
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(ApiError::field(field, "the password must not be the username"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_users_never_verify() {
        assert!(!verify("anything", None));
        let h = hash_password("right password");
        assert!(verify("right password", Some(&h)));
        assert!(!verify(&"x".repeat(MAX_PASSWORD_BYTES + 1), Some(&h)));
    }

    #[test]
    fn new_password_rules() {
        assert!(check_new("short", "u", 12, "password").is_err());
        assert!(check_new("administrator", "Administrator", 12, "password").is_err());
        assert!(check_new("長いパスワードです十二文字以上", "u", 12, "password").is_ok());
        let e = check_new("x", "u", 12, "new_password").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("new_password"));
    }
}
