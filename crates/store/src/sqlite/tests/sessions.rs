//! Login sessions: lookup, activity, logout and expiry.

use super::{add_user, ms, store};
use crate::secret::{hash_secret, new_secret};
use crate::{ControlStore, Session, StoreError};

fn session(user_id: &str, created: i64, expires: i64) -> (String, Session) {
    let secret = new_secret("mms_");
    let s = Session {
        hash: hash_secret(&secret),
        user_id: user_id.to_owned(),
        created_at: ms(created),
        expires_at: ms(expires),
        last_seen_at: ms(created),
        source_ip: Some("192.0.2.10".into()),
        csrf_token: new_secret(""),
        mfa_pending: false,
    };
    (secret, s)
}

#[test]
fn create_look_up_touch_and_delete() {
    let s = store();
    let u = add_user(&s, "login");
    let (secret, new) = session(&u.id, 1_000, 61_000);
    s.create_session(new.clone()).expect("create");
    let hash = hash_secret(&secret);
    assert_eq!(s.session_by_hash(&hash).expect("lookup"), Some(new.clone()));
    s.touch_session(&hash, ms(2_000)).expect("touch");
    s.touch_session(&hash, ms(1_500)).expect("older touch is ignored");
    let seen = s.session_by_hash(&hash).expect("lookup").expect("exists");
    assert_eq!(seen.last_seen_at, ms(2_000));
    s.delete_session(&hash).expect("logout");
    assert_eq!(s.session_by_hash(&hash).expect("lookup"), None);
    s.delete_session(&hash).expect("second logout is fine");
    s.touch_session(&hash, ms(3_000)).expect("touching a gone session is fine");
}

#[test]
fn expired_sessions_are_deleted() {
    let s = store();
    let u = add_user(&s, "expiry");
    let (old_secret, old) = session(&u.id, 0, 1_000);
    let (live_secret, live) = session(&u.id, 0, 5_000);
    s.create_session(old).expect("create");
    s.create_session(live).expect("create");
    let old_found = s.session_by_hash(&hash_secret(&old_secret)).expect("lookup").expect("kept until swept");
    assert!(old_found.is_expired(ms(1_000)));
    assert!(!old_found.is_expired(ms(999)));
    assert_eq!(s.delete_expired_sessions(ms(1_000)).expect("sweep"), 1);
    assert_eq!(s.session_by_hash(&hash_secret(&old_secret)).expect("lookup"), None);
    assert!(s.session_by_hash(&hash_secret(&live_secret)).expect("lookup").is_some());
    assert_eq!(s.delete_expired_sessions(ms(1_000)).expect("sweep again"), 0);
}

#[test]
fn sessions_of_a_user_can_be_dropped() {
    let s = store();
    let a = add_user(&s, "a");
    let b = add_user(&s, "b");
    for _ in 0..2 {
        s.create_session(session(&a.id, 0, 10).1).expect("create");
    }
    let (b_secret, b_session) = session(&b.id, 0, 10);
    s.create_session(b_session).expect("create");
    assert_eq!(s.delete_user_sessions(&a.id).expect("drop"), 2);
    assert!(s.session_by_hash(&hash_secret(&b_secret)).expect("lookup").is_some());
}

#[test]
fn invalid_sessions_are_refused() {
    let s = store();
    let u = add_user(&s, "bad");
    let (secret, mut plain) = session(&u.id, 0, 10);
    plain.hash = secret;
    assert!(matches!(s.create_session(plain), Err(StoreError::Invalid(_))));
    let (_, backwards) = session(&u.id, 10, 10);
    assert!(matches!(s.create_session(backwards), Err(StoreError::Invalid(_))));
    let (_, orphan) = session("ghost", 0, 10);
    assert!(matches!(s.create_session(orphan), Err(StoreError::NotFound(_))));
    let (_, once) = session(&u.id, 0, 10);
    s.create_session(once.clone()).expect("create");
    assert!(matches!(s.create_session(once), Err(StoreError::Conflict(_))));
}

#[test]
fn debug_output_hides_the_csrf_token() {
    let (_, s) = session("u", 0, 10);
    let dbg = format!("{s:?}");
    assert!(!dbg.contains(&s.csrf_token), "{dbg}");
    assert!(dbg.contains(&s.hash), "{dbg}");
}

#[test]
fn pending_second_factor_is_kept() {
    let s = store();
    let u = add_user(&s, "pending");
    let (secret, mut new) = session(&u.id, 1_000, 61_000);
    new.mfa_pending = true;
    s.create_session(new.clone()).expect("create");
    let found = s.session_by_hash(&hash_secret(&secret)).expect("lookup").expect("session");
    assert!(found.mfa_pending);
}
