//! Users: creation, uniqueness, lookups and updates.

use super::{PHC, add_user, new_user, store};
use crate::password::{hash_password, verify_password};
use crate::{ControlStore, Role, StoreError, UserUpdate};

#[test]
fn create_and_look_up() {
    let s = store();
    assert_eq!(s.count_users().expect("count"), 0);
    let u = s.create_user(new_user("yamada", Role::MunicipalAdmin, &["city-a", "city-b"])).expect("create");
    assert!(!u.disabled);
    assert_eq!(u.created_at, u.updated_at);
    assert_eq!(s.user_by_name("yamada").expect("by name"), Some(u.clone()));
    assert_eq!(s.user_by_id(&u.id).expect("by id"), Some(u.clone()));
    assert_eq!(s.user_by_name("YAMADA").expect("by name"), None);
    assert_eq!(s.user_by_id("nope").expect("by id"), None);
    assert_eq!(s.count_users().expect("count"), 1);
    assert_eq!(u.tenant_scope(), Some(&["city-a".to_owned(), "city-b".to_owned()][..]));
}

#[test]
fn duplicate_username_is_a_conflict() {
    let s = store();
    add_user(&s, "sato");
    let err = s.create_user(new_user("sato", Role::Auditor, &[])).expect_err("duplicate");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(err.to_string().contains("sato"), "{err}");
    assert_eq!(s.count_users().expect("count"), 1);
}

#[test]
fn users_are_listed_by_name() {
    let s = store();
    for name in ["c", "a", "b"] {
        add_user(&s, name);
    }
    let names: Vec<_> = s.users().expect("list").into_iter().map(|u| u.username).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
fn invalid_users_are_refused() {
    let s = store();
    let cases = [
        new_user("", Role::Auditor, &[]),
        new_user("has space", Role::Auditor, &[]),
        new_user("muni", Role::MunicipalAdmin, &[]),
        new_user("emptytenant", Role::SocAnalyst, &[""]),
        {
            let mut u = new_user("plain", Role::Auditor, &[]);
            u.password_hash = "hunter2".into();
            u
        },
    ];
    for case in cases {
        let name = case.username.clone();
        let err = s.create_user(case).expect_err("invalid");
        assert!(matches!(err, StoreError::Invalid(_)), "{name}: {err:?}");
    }
    assert_eq!(s.count_users().expect("count"), 0);
}

#[test]
fn update_changes_only_given_fields() {
    let s = store();
    let u = add_user(&s, "suzuki");
    let updated = s
        .update_user(
            &u.id,
            UserUpdate {
                role: Some(Role::MunicipalAdmin),
                tenants: Some(vec!["town-x".into()]),
                totp_secret: Some(Some("JBSWY3DPEHPK3PXP".into())),
                disabled: Some(true),
                ..UserUpdate::default()
            },
        )
        .expect("update");
    assert_eq!(updated.role, Role::MunicipalAdmin);
    assert_eq!(updated.tenants, ["town-x"]);
    assert_eq!(updated.display_name, u.display_name);
    assert_eq!(updated.password_hash, PHC);
    assert!(updated.disabled);
    assert!(updated.updated_at >= u.updated_at);
    assert_eq!(s.user_by_id(&u.id).expect("reload"), Some(updated.clone()));

    let cleared =
        s.update_user(&u.id, UserUpdate { totp_secret: Some(None), ..UserUpdate::default() }).expect("clear totp");
    assert_eq!(cleared.totp_secret, None);
}

#[test]
fn update_validates_and_reports_unknown_users() {
    let s = store();
    let u = add_user(&s, "kato");
    let err = s
        .update_user(&u.id, UserUpdate { role: Some(Role::MunicipalAdmin), ..UserUpdate::default() })
        .expect_err("municipal admin without tenant");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert_eq!(s.user_by_id(&u.id).expect("reload").map(|u| u.role), Some(Role::PrefectureAdmin));
    let err = s.update_user("missing", UserUpdate::default()).expect_err("unknown");
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

#[test]
fn stored_password_hash_verifies() {
    let s = store();
    let mut new = new_user("ito", Role::SocAnalyst, &[]);
    new.password_hash = hash_password("s3cret-パス");
    let u = s.create_user(new).expect("create");
    let stored = s.user_by_name("ito").expect("lookup").expect("exists");
    assert!(verify_password("s3cret-パス", &stored.password_hash));
    assert!(!verify_password("wrong", &stored.password_hash));
    let changed = s
        .update_user(&u.id, UserUpdate { password_hash: Some(hash_password("new")), ..UserUpdate::default() })
        .expect("change password");
    assert!(verify_password("new", &changed.password_hash));
    assert!(!verify_password("s3cret-パス", &changed.password_hash));
}

#[test]
fn corrupt_rows_are_backend_errors_not_panics() {
    use rusqlite::types::Value;
    let s = store();
    let u = add_user(&s, "broken");
    let set = |column: &str, value: Value| {
        s.with(|c| {
            let sql = format!("UPDATE users SET {column} = $1 WHERE id = $2");
            c.execute(&sql, (value, &u.id)).map_err(|e| StoreError::Backend(e.to_string()))
        })
        .expect("write raw column");
    };
    let cases = [
        ("role", Value::Text("root".into()), Value::Text("auditor".into())),
        ("tenants", Value::Text("not json".into()), Value::Text("[]".into())),
        ("created_at", Value::Text("x".into()), Value::Integer(0)),
        ("updated_at", Value::Integer(i64::MAX), Value::Integer(0)),
    ];
    for (column, bad, good) in cases {
        set(column, bad);
        let err = s.user_by_name("broken").expect_err("corrupt row");
        assert!(matches!(err, StoreError::Backend(_)), "{column}: {err:?}");
        set(column, good);
    }
    assert!(s.user_by_name("broken").expect("readable again").is_some());
}

#[test]
fn a_totp_step_is_claimed_once_and_a_new_secret_starts_over() {
    let s = store();
    let u = add_user(&s, "totp");
    assert!(s.claim_totp_step(&u.id, 100).expect("claim"));
    assert!(!s.claim_totp_step(&u.id, 100).expect("claim again"), "the same code twice");
    assert!(!s.claim_totp_step(&u.id, 99).expect("claim older"), "an older code after a newer one");
    assert!(s.claim_totp_step(&u.id, 101).expect("claim next"));
    let update = UserUpdate { totp_secret: Some(Some("JBSWY3DPEHPK3PXP".into())), ..Default::default() };
    s.update_user(&u.id, update).expect("new secret");
    assert!(s.claim_totp_step(&u.id, 50).expect("claim with the new secret"));
    assert!(!s.claim_totp_step("no such user", 1).expect("unknown user"));
}
