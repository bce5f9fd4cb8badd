//! Interoperability with the `logger` command of util-linux (Debian package bsdutils), the
//! syslog client every Linux host has. Missing `logger` fails the test: it never passes
//! silently.

mod common;

use std::process::Command;

use common::*;

fn logger(args: &[&str]) {
    let output = match Command::new("logger").args(args).output() {
        Ok(output) => output,
        Err(e) => panic!(
            "the `logger` command from util-linux is needed for this test ({e}); install it with \
             `apt-get install bsdutils`"
        ),
    };
    assert!(output.status.success(), "logger {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test]
async fn logger_over_tcp_with_octet_counting() {
    let sink = RecordingSink::new();
    let rx = start_tcp(context(&sink, options())).await;
    let port = rx.addr.port().to_string();
    tokio::task::spawn_blocking(move || {
        logger(&[
            "-n",
            "127.0.0.1",
            "-P",
            &port,
            "--tcp",
            "--octet-count",
            "-t",
            "mamori-test",
            "--id=4242",
            "-p",
            "local3.warning",
            "octet counted 日本語",
        ]);
        logger(&["-n", "127.0.0.1", "-P", &port, "--tcp", "--rfc3164", "-t", "legacy", "LF framed RFC 3164"]);
    })
    .await
    .unwrap();
    let events = sink.wait_for(2, 10).await;
    let e = events
        .iter()
        .find(|e| e.message.as_deref() == Some("octet counted 日本語"))
        .unwrap_or_else(|| panic!("{events:#?}"));
    let syslog = e.log.as_ref().unwrap().syslog.as_ref().unwrap();
    assert_eq!(syslog["appname"], "mamori-test");
    assert_eq!(syslog["procid"], "4242");
    assert_eq!(syslog["facility"]["name"], "local3");
    assert_eq!(syslog["severity"]["name"], "warning");
    assert_eq!(syslog["version"], "1");
    assert_eq!(e.extra["process"]["pid"], 4242);
    assert!(e.error.is_none(), "{e:#?}");

    let e = events
        .iter()
        .find(|e| e.message.as_deref() == Some("LF framed RFC 3164"))
        .unwrap_or_else(|| panic!("{events:#?}"));
    assert_eq!(e.extra["process"]["name"], "legacy");
    assert!(e.error.is_none(), "{e:#?}");
    assert!(events.iter().all(|e| e.tenant() == "midori"));
    rx.stop().await;
}

#[tokio::test]
async fn logger_over_udp() {
    let sink = RecordingSink::new();
    let rx = start_udp(context(&sink, options())).await;
    let port = rx.addr.port().to_string();
    tokio::task::spawn_blocking(move || {
        logger(&[
            "-n",
            "127.0.0.1",
            "-P",
            &port,
            "--udp",
            "-t",
            "udp-test",
            "--sd-id",
            "meta@32473",
            "--sd-param",
            "tenant=\"みどり\"",
            "over UDP",
        ]);
    })
    .await
    .unwrap();
    let events = sink.wait_for(1, 10).await;
    let e = &events[0];
    assert_eq!(e.message.as_deref(), Some("over UDP"));
    let syslog = e.log.as_ref().unwrap().syslog.as_ref().unwrap();
    assert_eq!(syslog["appname"], "udp-test");
    assert_eq!(syslog["structured_data"]["meta@32473"]["tenant"], "みどり");
    rx.stop().await;
}
