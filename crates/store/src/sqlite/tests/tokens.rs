//! API tokens: lookup by hash, revocation, use tracking.

use super::{add_user, ms, store};
use crate::secret::{hash_secret, new_secret};
use crate::{ControlStore, NewToken, StoreError, TokenKind};

fn new_token(name: &str, kind: TokenKind) -> (String, NewToken) {
    let secret = new_secret("mmr_");
    let token = NewToken { name: name.into(), kind, token_hash: hash_secret(&secret), expires_at: None };
    (secret, token)
}

#[test]
fn lookup_by_hash_of_the_secret() {
    let s = store();
    let user = add_user(&s, "ops");
    let (secret, new) = new_token("ci", TokenKind::User { user_id: user.id.clone() });
    let created = s.create_token(new).expect("create");
    let found = s.token_by_hash(&hash_secret(&secret)).expect("lookup").expect("found");
    assert_eq!(found, created);
    assert_eq!(found.kind, TokenKind::User { user_id: user.id });
    assert!(found.is_usable(jiff::Timestamp::MAX));
    // The plain secret is not a key.
    assert_eq!(s.token_by_hash(&secret).expect("lookup"), None);
    assert_eq!(s.token_by_hash(&hash_secret("other")).expect("lookup"), None);
}

#[test]
fn ingest_tokens_keep_their_tenant() {
    let s = store();
    let (_, fixed) = new_token("city-a shipper", TokenKind::Ingest { tenant: Some("city-a".into()) });
    let (_, any) = new_token("relay", TokenKind::Ingest { tenant: None });
    let a = s.create_token(fixed).expect("create");
    let b = s.create_token(any).expect("create");
    let listed = s.tokens().expect("list");
    assert_eq!(listed, vec![a, b]);
}

#[test]
fn revocation_is_kept_and_reported() {
    let s = store();
    let (secret, new) = new_token("old", TokenKind::Ingest { tenant: None });
    let t = s.create_token(new).expect("create");
    assert!(s.revoke_token(&t.id).expect("revoke"));
    assert!(s.revoke_token(&t.id).expect("revoke again is idempotent"));
    assert!(!s.revoke_token("no-such-id").expect("revoke unknown"));
    let found = s.token_by_hash(&hash_secret(&secret)).expect("lookup").expect("kept");
    assert!(found.revoked);
    assert!(!found.is_usable(ms(0)));
}

#[test]
fn expiry_and_last_use() {
    let s = store();
    let (secret, mut new) = new_token("temp", TokenKind::Ingest { tenant: None });
    new.expires_at = Some(ms(10_000));
    let t = s.create_token(new).expect("create");
    assert!(t.is_usable(ms(9_999)));
    assert!(!t.is_usable(ms(10_000)));
    s.touch_token(&t.id, ms(5_000)).expect("touch");
    s.touch_token(&t.id, ms(4_000)).expect("older touch is ignored");
    s.touch_token("unknown", ms(5_000)).expect("unknown is not an error");
    let found = s.token_by_hash(&hash_secret(&secret)).expect("lookup").expect("found");
    assert_eq!(found.last_used_at, Some(ms(5_000)));
}

#[test]
fn refuses_plain_secrets_unknown_users_and_duplicates() {
    let s = store();
    let (secret, mut plain) = new_token("plain", TokenKind::Ingest { tenant: None });
    plain.token_hash = secret;
    assert!(matches!(s.create_token(plain), Err(StoreError::Invalid(_))));
    let (_, orphan) = new_token("orphan", TokenKind::User { user_id: "ghost".into() });
    assert!(matches!(s.create_token(orphan), Err(StoreError::NotFound(_))));
    let (_, first) = new_token("first", TokenKind::Ingest { tenant: None });
    let mut second = first.clone();
    second.name = "second".into();
    s.create_token(first).expect("create");
    assert!(matches!(s.create_token(second), Err(StoreError::Conflict(_))));
}
