//! EVTX records to ECS `winlog.*` events, and files that are not EVTX.

use mamori_detect::EvtxError;
use mamori_detect::evtx::{read_file, to_ecs};
use serde_json::json;

#[test]
fn record_becomes_winlog_event() {
    let record = json!({"Event": {
        "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "5770385F"}},
            "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "pc1",
            "EventRecordID": 42, "Execution": {"#attributes": {"ProcessID": 3544, "ThreadID": 4264}},
            "Security": {"#attributes": {"UserID": "S-1-5-18"}}
        },
        "EventData": {"Image": "C:\\x.exe", "ProcessId": 10116, "Empty": null}
    }});
    let ts: jiff::Timestamp = "2025-11-26T05:11:27.927693Z".parse().unwrap();
    let e = to_ecs(record, ts, "a.evtx");
    assert_eq!(e["@timestamp"], "2025-11-26T05:11:27.927693Z");
    assert_eq!(e["winlog"]["event_id"], "1");
    assert_eq!(e["winlog"]["channel"], "Microsoft-Windows-Sysmon/Operational");
    assert_eq!(e["winlog"]["provider_name"], "Microsoft-Windows-Sysmon");
    assert_eq!(e["winlog"]["computer_name"], "pc1");
    assert_eq!(e["winlog"]["record_id"], "42");
    assert_eq!(e["winlog"]["process"]["pid"], 3544);
    assert_eq!(e["winlog"]["event_data"]["ProcessId"], "10116");
    assert_eq!(e["winlog"]["event_data"]["Empty"], "");
    assert_eq!(e["host"]["name"], "pc1");
}

#[test]
fn user_data_fields_land_in_event_data() {
    let record = json!({"Event": {"System": {"EventID": {"#attributes": {"Qualifiers": 0}, "#text": 104}, "Channel": "System"},
        "UserData": {"LogFileCleared": {"#attributes": {"xmlns": "x"}, "SubjectUserName": "bob", "Channel": "Security"}}}});
    let e = to_ecs(record, jiff::Timestamp::UNIX_EPOCH, "s.evtx");
    assert_eq!(e["winlog"]["event_id"], "104");
    assert_eq!(e["winlog"]["event_data"]["SubjectUserName"], "bob");
}

#[test]
fn a_file_that_is_not_evtx_is_rejected_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.evtx");
    std::fs::write(&path, vec![b'x'; 8192]).unwrap();
    let err = read_file(&path, &mut |_| {}, &mut |_| {}).unwrap_err();
    assert!(matches!(err, EvtxError::Header { .. }), "{err}");
    assert!(err.to_string().contains("ElfFile"), "{err}");
    let missing = read_file(&dir.path().join("none.evtx"), &mut |_| {}, &mut |_| {}).unwrap_err();
    assert!(matches!(missing, EvtxError::Open { .. }));
}
