//! Lines as real devices send them (addresses from the documentation ranges).

use serde_json::json;

use super::tests::{error, has_tag, p};
use crate::tags;

#[test]
fn linux_rsyslog_traditional_forward_format() {
    let v = p(
        "<86>Mar  1 12:00:00 web01 sshd[4123]: Accepted publickey for admin from 192.0.2.5 port 50022 ssh2: ED25519 SHA256:abc",
    );
    assert_eq!(v["@timestamp"], "2024-03-01T03:00:00Z");
    assert_eq!(v["host"]["hostname"], "web01");
    assert_eq!(v["process"], json!({"name": "sshd", "pid": 4123}));
    assert_eq!(v["log"]["syslog"]["appname"], "sshd");
    assert_eq!(v["log"]["syslog"]["procid"], "4123");
    assert_eq!(v["log"]["syslog"]["facility"]["name"], "authpriv");
    assert_eq!(v["log"]["level"], "informational");
    assert!(v["message"].as_str().unwrap().starts_with("Accepted publickey"));
    assert!(v.get("error").is_none(), "{v}");
}

#[test]
fn rsyslog_rfc3339_forward_format() {
    let v = p(
        "<86>2024-03-01T12:00:00.123456+09:00 web01 sudo: admin : TTY=pts/0 ; PWD=/home/admin ; USER=root ; COMMAND=/bin/ls",
    );
    assert_eq!(v["@timestamp"], "2024-03-01T03:00:00.123456Z");
    assert_eq!(v["host"]["hostname"], "web01");
    assert_eq!(v["process"]["name"], "sudo");
    assert_eq!(v["message"], "admin : TTY=pts/0 ; PWD=/home/admin ; USER=root ; COMMAND=/bin/ls");
}

#[test]
fn files_on_disk_without_pri() {
    let v = p("2024-03-01T12:00:00.123456+09:00 web01 systemd[1]: Started Session 5 of user admin.");
    assert_eq!(v["process"], json!({"name": "systemd", "pid": 1}));
    assert!(v["log"]["syslog"].get("priority").is_none());
    assert!(v["log"].get("level").is_none());
    let v = p("Mar  1 12:00:00 web01 kernel: [12345.678901] eth0: link up");
    assert_eq!(v["@timestamp"], "2024-03-01T03:00:00Z");
    assert_eq!(v["process"]["name"], "kernel");
    assert_eq!(v["message"], "[12345.678901] eth0: link up");
}

#[test]
fn systemd_journal_forwarded_as_rfc5424() {
    let v = p("<30>1 2024-03-01T03:00:00.000000+00:00 web01 systemd 1 - - Started Daily apt download activities.");
    assert_eq!(v["process"], json!({"name": "systemd", "pid": 1}));
    assert_eq!(v["log"]["syslog"]["facility"]["name"], "daemon");
}

#[test]
fn cisco_asa() {
    let v = p(
        "<166>Mar 01 2024 12:00:00: %ASA-6-302013: Built outbound TCP connection 123 for outside:203.0.113.5/443 (203.0.113.5/443) to inside:10.1.1.5/51234 (198.51.100.7/51234)",
    );
    assert_eq!(v["@timestamp"], "2024-03-01T03:00:00Z");
    assert_eq!(v["event"]["code"], "302013");
    assert_eq!(v["event"]["provider"], "ASA");
    assert_eq!(v["event"]["severity"], 6);
    assert!(v["message"].as_str().unwrap().starts_with("Built outbound TCP"));
    assert!(v.get("host").is_none());

    let v = p(
        "<164>Mar 01 2024 12:00:00 FW01 : %ASA-4-106023: Deny tcp src outside:203.0.113.9/4444 dst inside:10.1.1.5/22 by access-group \"outside_in\"",
    );
    assert_eq!(v["host"]["hostname"], "FW01");
    assert_eq!(v["event"]["code"], "106023");
    assert_eq!(v["log"]["level"], "warning");
    assert!(v["message"].as_str().unwrap().starts_with("Deny tcp"));

    // `no logging timestamp`: nothing between the PRI and the mnemonic.
    let v = p("<166>%ASA-6-605005: Login permitted from 10.0.0.5/5555 to inside:10.0.0.1/ssh");
    assert_eq!(v["event"]["code"], "605005");
    assert!(error(&v).contains("no timestamp"));
}

#[test]
fn cisco_ios_with_sequence_numbers() {
    let v =
        p("<189>123: *Mar  1 12:00:00.123 JST: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)");
    assert_eq!(v["@timestamp"], "2024-03-01T03:00:00.123Z");
    assert_eq!(v["event"]["code"], "CONFIG_I");
    assert_eq!(v["event"]["provider"], "SYS");
    assert!(v["message"].as_str().unwrap().starts_with("Configured from console"));

    let v = p(
        "<187>45: router1: Mar  1 03:00:00.000 UTC: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down",
    );
    assert_eq!(v["@timestamp"], "2024-03-01T03:00:00Z");
    assert_eq!(v["host"]["hostname"], "router1");
    assert_eq!(v["event"]["code"], "UPDOWN");
    assert_eq!(v["event"]["severity"], 3);
}

#[test]
fn fortigate_key_value() {
    let line = "<189>date=2024-03-01 time=12:00:00 devname=\"FGT60F\" devid=\"FGT60FTK20000000\" eventtime=1709262000000000000 tz=\"+0900\" logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" level=\"notice\" vd=\"root\" srcip=10.1.1.5 srcport=51234 dstip=203.0.113.5 dstport=443 action=\"accept\"";
    let v = p(line);
    assert!(!has_tag(&v, tags::PARSE_FAILURE));
    assert_eq!(v["message"], &line[5..]);
    assert_eq!(v["log"]["syslog"]["facility"]["name"], "local7");
    assert!(v.get("process").is_none());
}

#[test]
fn windows_through_nxlog_bsd() {
    let v = p(
        "<14>Mar  1 12:00:00 DC01.example.lg.jp Microsoft-Windows-Security-Auditing[4]: An account was successfully logged on.\tSubject:\tSecurity ID:\tS-1-5-18",
    );
    assert_eq!(v["host"]["hostname"], "DC01.example.lg.jp");
    assert_eq!(v["process"], json!({"name": "Microsoft-Windows-Security-Auditing", "pid": 4}));
    assert!(v["message"].as_str().unwrap().starts_with("An account was successfully logged on."));
    let v = p(
        "<13>Mar  1 12:00:00 WIN-FS01 Service_Control_Manager[448]: The Windows Update service entered the stopped state.",
    );
    assert_eq!(v["process"]["name"], "Service_Control_Manager");
}

#[test]
fn palo_alto_csv() {
    let v = p(
        "<14>Mar  1 12:00:00 PA-3220 1,2024/03/01 12:00:00,012345678901,TRAFFIC,end,2560,2024/03/01 12:00:00,10.1.1.5,203.0.113.5",
    );
    assert_eq!(v["host"]["hostname"], "PA-3220");
    assert!(v["message"].as_str().unwrap().starts_with("1,2024/03/01"));
    assert!(v.get("process").is_none());
}

#[test]
fn japanese_text_in_utf8() {
    let v = p("<12>Mar  1 12:00:00 utm01 ips[77]: 不正アクセスを検知しました 送信元=203.0.113.9 宛先=10.1.1.5");
    assert_eq!(v["message"], "不正アクセスを検知しました 送信元=203.0.113.9 宛先=10.1.1.5");
    assert_eq!(v["log"]["level"], "warning");
    let v = p("<14>1 2024-03-01T12:00:00+09:00 庁内サーバ アプリ - - [業務@1 担当=\"総務課\"] ログイン成功");
    assert_eq!(v["host"]["hostname"], "庁内サーバ");
    assert_eq!(v["log"]["syslog"]["structured_data"]["業務@1"]["担当"], "総務課");
    assert_eq!(v["message"], "ログイン成功");
}

#[test]
fn year_inference_around_new_year_in_tokyo() {
    use super::*;
    let c = ParseContext::new("2024-12-31T15:00:05Z".parse().unwrap(), default_timezone(), 1024);
    let e = parse(b"<13>Dec 31 23:59:59 host app: old year", &c);
    assert_eq!(e.timestamp.to_string(), "2024-12-31T14:59:59Z");
    let c = ParseContext::new("2024-12-31T14:59:58Z".parse().unwrap(), default_timezone(), 1024);
    let e = parse(b"<13>Jan  1 00:00:01 host app: clock ahead", &c);
    assert_eq!(e.timestamp.to_string(), "2024-12-31T15:00:01Z");
}

#[test]
fn tag_without_hostname_and_with_slashes() {
    let v = p("<22>Mar  1 12:00:00 mail01 postfix/smtpd[2345]: connect from unknown[203.0.113.7]");
    assert_eq!(v["process"], json!({"name": "postfix/smtpd", "pid": 2345}));
    let v = p("<13>Mar  1 12:00:00 myapp: no hostname here");
    assert!(v.get("host").is_none());
    assert_eq!(v["process"]["name"], "myapp");
}

#[test]
fn cef_over_syslog_keeps_the_payload() {
    let v = p(
        "<134>Mar  1 12:00:00 sensor01 CEF:0|Trend Micro|Deep Security Agent|20.0|4000000|Eicar_test_file|6|cn1=1 cs1=quarantine",
    );
    assert_eq!(v["host"]["hostname"], "sensor01");
    assert!(v["message"].as_str().unwrap().starts_with("CEF:0|Trend Micro"));
}
