//! Tests of the SQLite backend through the public [`ControlStore`] trait.

mod audit;
mod open;
mod revisions;
mod sessions;
mod tokens;
mod users;

use jiff::Timestamp;

use crate::{ControlStore, NewUser, Role, SqliteStore, User};

/// A fresh in-memory store.
fn store() -> SqliteStore {
    SqliteStore::open_in_memory().expect("open in-memory store")
}

/// A syntactically valid PHC string; hashing a real password in every test would only slow
/// the tests down.
const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA";

fn new_user(username: &str, role: Role, tenants: &[&str]) -> NewUser {
    NewUser {
        username: username.to_owned(),
        display_name: format!("{username} さん"),
        role,
        tenants: tenants.iter().map(|t| (*t).to_owned()).collect(),
        password_hash: PHC.to_owned(),
        totp_secret: None,
    }
}

fn add_user(store: &SqliteStore, username: &str) -> User {
    store.create_user(new_user(username, Role::PrefectureAdmin, &[])).expect("create user")
}

/// Unix milliseconds as a timestamp.
fn ms(n: i64) -> Timestamp {
    Timestamp::from_millisecond(n).expect("valid test timestamp")
}

#[test]
fn usable_as_a_shared_trait_object() {
    // The API layer holds the store as `Arc<dyn ControlStore>` across threads.
    let shared: std::sync::Arc<dyn ControlStore> = std::sync::Arc::new(store());
    let worker = std::sync::Arc::clone(&shared);
    let count = std::thread::spawn(move || worker.count_users()).join().expect("thread").expect("count");
    assert_eq!(count, 0);
}
