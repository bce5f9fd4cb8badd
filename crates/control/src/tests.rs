use mamori_core::tenant::{NetworkModel, Tenant};
use mamori_store::SqliteStore;

use super::*;

fn service() -> ConfigService {
    ConfigService::new(Arc::new(SqliteStore::open_in_memory().unwrap()))
}

fn tenant(id: &str, net: &str) -> Tenant {
    Tenant {
        id: id.into(),
        name_ja: format!("{id}町"),
        name_en: id.into(),
        network_model: NetworkModel::Beta,
        networks: vec![net.parse().unwrap()],
        domains: vec![],
        contacts: vec![],
        retention: Default::default(),
    }
}

fn config(tenants: Vec<Tenant>) -> ManagedConfig {
    ManagedConfig { tenants, ..Default::default() }
}

#[test]
fn file_then_api_then_unchanged_file_keeps_the_api_change() {
    let s = service();
    let file = config(vec![tenant("a", "10.1.0.0/16")]);
    assert!(
        matches!(s.offer_file(&file, "file:m.toml", "start").unwrap(), FileOutcome::Initialized(r) if r.number == 1)
    );
    let mut edited = file.clone();
    edited.tenants.push(tenant("b", "10.2.0.0/16"));
    let r = s.change(&edited, "alice", "api", "add b", Some(1)).unwrap();
    assert_eq!(r.number, 2);
    assert!(r.diff.contains("+ tenants.b"), "{}", r.diff);
    // Reloading the unchanged file does not undo the API change.
    assert!(
        matches!(s.offer_file(&file, "file:m.toml", "reload").unwrap(), FileOutcome::Unchanged(r) if r.number == 2)
    );
    assert_eq!(s.current().unwrap().unwrap().1, edited);
    // A changed file wins, and its diff shows what it replaced.
    let mut file2 = file.clone();
    file2.logs.hot_days = 30;
    let FileOutcome::Applied(r) = s.offer_file(&file2, "file:m.toml", "reload").unwrap() else { panic!() };
    assert_eq!(r.number, 3);
    assert!(r.diff.contains("- tenants.b"), "{}", r.diff);
    assert!(r.diff.contains("~ logs.hot_days: 90 → 30"), "{}", r.diff);
}

#[test]
fn invalid_changes_are_refused_and_nothing_is_recorded() {
    let s = service();
    s.offer_file(&config(vec![tenant("a", "10.1.0.0/16")]), "f", "start").unwrap();
    let bad = config(vec![tenant("a", "10.1.0.0/16"), tenant("b", "10.1.2.0/24")]);
    match s.change(&bad, "alice", "api", "overlap", None) {
        Err(ChangeError::Invalid(p)) => assert!(p[0].message.contains("overlaps"), "{p:?}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(s.offer_file(&bad, "f", "reload"), Err(ChangeError::Invalid(_))));
    assert_eq!(s.history(10, None).unwrap().len(), 1);
}

#[test]
fn concurrent_editors_conflict() {
    let s = service();
    s.offer_file(&config(vec![tenant("a", "10.1.0.0/16")]), "f", "start").unwrap();
    let c2 = config(vec![tenant("a", "10.1.0.0/16"), tenant("b", "10.2.0.0/16")]);
    s.change(&c2, "alice", "api", "add b", Some(1)).unwrap();
    let c3 = config(vec![tenant("a", "10.1.0.0/16"), tenant("c", "10.3.0.0/16")]);
    assert!(matches!(s.change(&c3, "bob", "api", "add c", Some(1)), Err(ChangeError::Conflict(_))));
}

#[test]
fn rollback_restores_an_old_revision_as_a_new_one() {
    let s = service();
    let c1 = config(vec![tenant("a", "10.1.0.0/16")]);
    s.offer_file(&c1, "f", "start").unwrap();
    let c2 = config(vec![tenant("a", "10.9.0.0/16")]);
    s.change(&c2, "alice", "cli", "renumber", None).unwrap();
    let r = s.rollback(1, "bob", "renumbering broke attribution").unwrap();
    assert_eq!(r.number, 3);
    assert_eq!(r.source, "rollback");
    assert!(r.reason.starts_with("rollback to revision 1: "));
    assert_eq!(s.current().unwrap().unwrap().1, c1);
    assert!(s.diff(1, 2).unwrap().contains("10.9.0.0/16"));
    assert!(matches!(s.rollback(99, "bob", "x"), Err(ChangeError::NotFound(_))));
    assert!(matches!(s.rollback(1, "bob", " "), Err(ChangeError::Invalid(_))));
}
