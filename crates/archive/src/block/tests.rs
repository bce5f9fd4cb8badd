use serde_json::{Value, json};

use super::*;

fn round_trip(events: &[Value]) {
    let bytes = encode_block(events, 3).unwrap();
    let back = decode_block(&bytes).unwrap();
    assert_eq!(back.len(), events.len());
    for (a, b) in events.iter().zip(&back) {
        assert_eq!(a, b);
    }
}

#[test]
fn empty_block() {
    round_trip(&[]);
}

#[test]
fn syslog_event() {
    let e = json!({"@timestamp":"2026-11-21T01:02:03.456Z","message":"sshd[123]: Failed password for root from 10.1.2.3","event":{"id":"01936f3a8e5b7c3d8000000000001a2b","dataset":"syslog","kind":"event","original":"<38>Nov 21 10:02:03 web01 sshd[123]: Failed password for root from 10.1.2.3","ingested":"2026-11-21T01:02:03.500123Z"},"organization":{"id":"midori"},"log":{"syslog":{"priority":38,"facility":{"code":4,"name":"auth"},"severity":{"code":6,"name":"informational"},"hostname":"web01","appname":"sshd","procid":"123"},"source":{"address":"10.1.2.3:514"}},"host":{"hostname":"web01"},"process":{"name":"sshd","pid":123}});
    round_trip(&[e.clone(), e.clone(), e]);
}
