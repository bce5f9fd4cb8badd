//! The audit log: ids, ordering and the tenant-scoped filter.

use serde_json::json;

use super::{ms, store};
use crate::{AuditEntry, AuditFilter, ControlStore, NewAuditEntry, SqliteStore, StoreError};

fn entry(at: i64, actor: &str, action: &str, tenant: Option<&str>) -> NewAuditEntry {
    NewAuditEntry {
        at: ms(at),
        actor: actor.into(),
        source_ip: Some("198.51.100.7".into()),
        action: action.into(),
        target: "target".into(),
        tenant: tenant.map(str::to_owned),
        outcome: "success".into(),
        detail: json!({ "note": "テスト", "n": at }),
    }
}

/// Entries at 1000..6000 ms: tenants a, b, None, a, b, None.
fn seeded() -> SqliteStore {
    let s = store();
    let tenants = [Some("a"), Some("b"), None, Some("a"), Some("b"), None];
    for (i, t) in tenants.into_iter().enumerate() {
        let actor = if i % 2 == 0 { "alice" } else { "bob" };
        let action = if i < 3 { "login" } else { "config.apply" };
        s.append_audit(entry(1_000 * (i as i64 + 1), actor, action, t)).expect("append");
    }
    s
}

fn query(s: &SqliteStore, filter: AuditFilter) -> Vec<AuditEntry> {
    s.audit_entries(&filter).expect("query")
}

fn ids(v: &[AuditEntry]) -> Vec<i64> {
    v.iter().map(|e| e.id).collect()
}

#[test]
fn append_assigns_increasing_ids_and_round_trips() {
    let s = store();
    let first = s.append_audit(entry(5, "alice", "login", None)).expect("append");
    let second = s.append_audit(entry(5, "alice", "logout", None)).expect("append");
    assert_eq!((first.id, second.id), (1, 2));
    let all = query(&s, AuditFilter::default());
    // Same time: the later append comes first.
    assert_eq!(all, vec![second, first]);
    assert_eq!(all[1].detail, json!({ "note": "テスト", "n": 5 }));
}

#[test]
fn unscoped_callers_see_everything_newest_first() {
    let s = seeded();
    assert_eq!(ids(&query(&s, AuditFilter::default())), vec![6, 5, 4, 3, 2, 1]);
}

#[test]
fn scope_never_leaks_other_tenants_or_global_entries() {
    let s = seeded();
    let scoped = query(&s, AuditFilter { tenants: Some(vec!["a".into()]), ..AuditFilter::default() });
    assert_eq!(ids(&scoped), vec![4, 1]);
    assert!(scoped.iter().all(|e| e.tenant.as_deref() == Some("a")));
    let two = query(&s, AuditFilter { tenants: Some(vec!["a".into(), "b".into()]), ..AuditFilter::default() });
    assert_eq!(ids(&two), vec![5, 4, 2, 1]);
    let none = query(&s, AuditFilter { tenants: Some(vec![]), ..AuditFilter::default() });
    assert!(none.is_empty());
    let unknown = query(&s, AuditFilter { tenants: Some(vec!["c".into()]), ..AuditFilter::default() });
    assert!(unknown.is_empty());
}

#[test]
fn time_actor_action_and_limit_filters() {
    let s = seeded();
    let window = AuditFilter { since: Some(ms(2_000)), until: Some(ms(5_000)), ..AuditFilter::default() };
    assert_eq!(ids(&query(&s, window)), vec![4, 3, 2]);
    let bob = AuditFilter { actor: Some("bob".into()), ..AuditFilter::default() };
    assert_eq!(ids(&query(&s, bob.clone())), vec![6, 4, 2]);
    let apply = AuditFilter { action: Some("config.apply".into()), ..AuditFilter::default() };
    assert_eq!(ids(&query(&s, apply)), vec![6, 5, 4]);
    let combined = AuditFilter {
        tenants: Some(vec!["b".into()]),
        actor: Some("bob".into()),
        since: Some(ms(1_000)),
        limit: Some(1),
        ..AuditFilter::default()
    };
    assert_eq!(ids(&query(&s, combined)), vec![2]);
    assert_eq!(ids(&query(&s, AuditFilter { limit: Some(2), ..AuditFilter::default() })), vec![6, 5]);
    let text = |t: &str| query(&s, AuditFilter { text: Some(t.into()), ..AuditFilter::default() });
    assert_eq!(ids(&text("BOB")), ids(&query(&s, bob.clone())));
    assert!(text("100%").is_empty(), "% is matched literally");
    assert!(text("no such words").is_empty());
}

#[test]
fn empty_actor_or_action_is_invalid() {
    let s = store();
    assert!(matches!(s.append_audit(entry(1, "", "login", None)), Err(StoreError::Invalid(_))));
    assert!(matches!(s.append_audit(entry(1, "x", " ", None)), Err(StoreError::Invalid(_))));
    assert!(query(&s, AuditFilter::default()).is_empty());
}
