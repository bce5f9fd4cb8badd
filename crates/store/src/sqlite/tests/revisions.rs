//! Revision numbering, optimistic concurrency and listing.

use super::store;
use crate::{ControlStore, NewRevision, StoreError};

fn rev(source: &str, reason: &str) -> NewRevision {
    NewRevision {
        author: "tanaka".into(),
        source: source.into(),
        reason: reason.into(),
        config_json: format!("{{\"reason\":\"{reason}\"}}"),
        diff: format!("+ {reason}"),
    }
}

#[test]
fn empty_store_has_no_revision() {
    let s = store();
    assert_eq!(s.latest_revision().expect("latest"), None);
    assert_eq!(s.revision(1).expect("by number"), None);
    assert!(s.revisions(10, None).expect("list").is_empty());
}

#[test]
fn revisions_are_numbered_from_one_with_parents() {
    let s = store();
    let r1 = s.append_revision(rev("init", "a"), Some(None)).expect("r1");
    let r2 = s.append_revision(rev("api", "b"), Some(Some(1))).expect("r2");
    let r3 = s.append_revision(rev("file", "c"), None).expect("r3");
    assert_eq!((r1.number, r1.parent), (1, None));
    assert_eq!((r2.number, r2.parent), (2, Some(1)));
    assert_eq!((r3.number, r3.parent), (3, Some(2)));
    assert_eq!(s.latest_revision().expect("latest"), Some(r3.clone()));
    assert_eq!(s.revision(2).expect("by number"), Some(r2));
    assert!(r1.created_at <= r3.created_at);
}

#[test]
fn stale_parent_is_a_conflict() {
    let s = store();
    s.append_revision(rev("init", "a"), None).expect("r1");
    s.append_revision(rev("api", "editor one"), Some(Some(1))).expect("r2");
    // The second editor also started from revision 1.
    let err = s.append_revision(rev("api", "editor two"), Some(Some(1))).expect_err("stale parent");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("revision 1") && msg.contains("revision 2"), "{msg}");
    // Expecting an empty store when it is not is a conflict too.
    assert!(matches!(s.append_revision(rev("init", "again"), Some(None)), Err(StoreError::Conflict(_))));
    assert_eq!(s.latest_revision().expect("latest").map(|r| r.number), Some(2));
}

#[test]
fn listing_is_newest_first_and_pages_with_before() {
    let s = store();
    for i in 0..5 {
        s.append_revision(rev("cli", &format!("r{i}")), None).expect("append");
    }
    let numbers = |v: Vec<crate::RevisionSummary>| v.into_iter().map(|r| r.number).collect::<Vec<_>>();
    assert_eq!(numbers(s.revisions(3, None).expect("page 1")), vec![5, 4, 3]);
    assert_eq!(numbers(s.revisions(3, Some(3)).expect("page 2")), vec![2, 1]);
    assert!(s.revisions(0, None).expect("limit 0").is_empty());
    assert_eq!(s.revisions(usize::MAX, None).expect("all").len(), 5);
}

#[test]
fn bad_source_or_author_is_invalid() {
    let s = store();
    let err = s.append_revision(rev("web", "x"), None).expect_err("bad source");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("rollback"), "{err}");
    let mut no_author = rev("api", "x");
    no_author.author = " ".into();
    assert!(matches!(s.append_revision(no_author, None), Err(StoreError::Invalid(_))));
    assert_eq!(s.latest_revision().expect("latest"), None);
}
