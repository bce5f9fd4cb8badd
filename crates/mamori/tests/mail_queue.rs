//! The mail relay inside `mamori up`: a message accepted with `250` survives kill -9 before
//! its delivery and is delivered exactly once after the restart; the queue CLI holds, releases
//! and flushes it.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::*;
use mamori_mail::testkit::sink::SmtpSink;

fn smtp(addr: SocketAddr, lines: &[&str]) -> Vec<String> {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut w = s;
    let mut replies = vec![read_reply(&mut r)];
    for l in lines {
        w.write_all(format!("{l}\r\n").as_bytes()).unwrap();
        replies.push(read_reply(&mut r));
    }
    replies
}

fn read_reply(r: &mut impl BufRead) -> String {
    loop {
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            return line.trim_end().to_string();
        }
    }
}

fn queue_len(m: &Instance) -> usize {
    m.cli_ok(&["mail", "queue", "list", "--json", "--config", m.config.to_str().unwrap()]).lines().count()
}

#[test]
fn a_queued_message_survives_kill_9_and_is_delivered_once() {
    let dir = tempfile::tempdir().unwrap();
    let hop: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let mut m = Instance::configure(dir.path(), |t| t.replace("10.1.0.25:25", &hop.to_string()));
    m.start();
    // Nothing listens at the next hop yet: the message is accepted and stays queued.
    let r = smtp(
        m.mail,
        &[
            "EHLO client.example",
            "MAIL FROM:<x@y.example>",
            "RCPT TO:<u@city.midori.example.jp>",
            "DATA",
            "Subject: survive\r\nMessage-ID: <k9@y.example>\r\n\r\nbody\r\n.",
            "QUIT",
        ],
    );
    assert!(r[5].starts_with("250 2.0.0 Ok: queued as "), "{r:?}");
    let id = r[5].rsplit(' ').next().unwrap().to_string();
    let relayed =
        smtp(m.mail, &["EHLO client.example", "MAIL FROM:<x@y.example>", "RCPT TO:<victim@elsewhere.example>"]);
    assert!(relayed[3].starts_with("550 5.7.1"), "{relayed:?}");
    // Wait for the failed first attempt, so that after the restart the message waits for its
    // retry time (or a flush) instead of racing the test.
    for _ in 0..100 {
        let list = m.cli_ok(&["mail", "queue", "list", "--json", "--config", m.config.to_str().unwrap()]);
        if list.contains("\"attempts\":1") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    m.kill9();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sink = runtime.block_on(SmtpSink::start_at(hop, false)).unwrap();
    m.start();
    assert_eq!(queue_len(&m), 1);
    let config = m.config.to_str().unwrap().to_string();
    m.cli_ok(&["mail", "queue", "hold", &id, "--config", &config]);
    let listing = m.cli_ok(&["mail", "queue", "list", "--config", &config]);
    assert!(listing.contains(&format!("{id} [held]")), "{listing}");
    let shown = m.cli_ok(&["mail", "queue", "show", &id, "--config", &config]);
    assert!(
        shown.contains("Subject: survive") && shown.contains("\"attempts\": 1") && shown.contains("held: true"),
        "{shown}"
    );
    m.cli_ok(&["mail", "queue", "flush", "--config", &config]);
    std::thread::sleep(Duration::from_secs(3));
    assert!(sink.received().is_empty(), "a held message is not delivered");
    m.cli_ok(&["mail", "queue", "release", &id, "--config", &config]);
    m.cli_ok(&["mail", "queue", "flush", "--config", &config]);
    let got = runtime.block_on(sink.wait_for(1, 30));
    assert_eq!(got[0].to, vec!["u@city.midori.example.jp"]);
    assert!(String::from_utf8_lossy(&got[0].data).contains("Subject: survive"));
    for _ in 0..100 {
        if queue_len(&m) == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(queue_len(&m), 0);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(sink.received().len(), 1, "delivered exactly once");
    // Every transaction and delivery is in the log store.
    assert!(m.wait_count("event.dataset:mail.smtp AND event.action:accepted", 1) >= 1);
    assert!(m.wait_count("event.dataset:mail.smtp AND event.action:recipient_refused AND source.ip:127.0.0.1", 1) >= 1);
    assert!(
        m.wait_count("event.dataset:mail.delivery AND event.outcome:success AND email.message_id:\"k9@y.example\"", 1)
            >= 1
    );
    m.stop();
}
