//! Syslog over TCP on 127.0.0.1 with real sockets.

mod common;

use std::time::Duration;

use common::*;
use mamori_collect::tags;
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn octet_counting_and_lf_framing_on_one_connection() {
    let sink = RecordingSink::new();
    let rx = start_tcp(context(&sink, options())).await;
    let mut client = connect_from("127.0.0.1", rx.addr).await;
    let counted = "<165>1 2003-10-11T22:14:15.003Z host app - ID47 - with\nnewline";
    client.write_all(format!("{} {counted}", counted.len()).as_bytes()).await.unwrap();
    client.write_all(b"<13>Mar  1 12:00:00 host app[9]: lf framed\n<13>crlf framed\r\n").await.unwrap();
    // The last frame has no terminator: closing the connection ends it.
    client.write_all(b"<13>last without newline").await.unwrap();
    client.shutdown().await.unwrap();
    let events = sink.wait_for(4, 10).await;
    let messages: Vec<_> = events.iter().map(|e| e.message.clone().unwrap()).collect();
    assert_eq!(messages, vec!["with\nnewline", "lf framed", "crlf framed", "last without newline"]);
    for e in &events {
        assert_eq!(e.tenant(), "midori");
        assert!(e.event.id.is_some() && e.event.ingested.is_some());
        let address = e.log.as_ref().unwrap().extra["source"]["address"].as_str().unwrap().to_string();
        assert!(address.starts_with("127.0.0.1:"), "{address}");
    }
    assert!(alarms(&events, "unassigned_sender").is_empty());
    rx.stop().await;
    let metrics = mamori_core::metrics::render();
    assert!(metrics.contains("mamori_collect_received_events_total{transport=\"tcp\"}"), "{metrics}");
}

#[tokio::test]
async fn malformed_lines_are_stored_raw() {
    let sink = RecordingSink::new();
    let rx = start_tcp(context(&sink, options())).await;
    let mut client = connect_from("127.0.0.1", rx.addr).await;
    client.write_all(b"this is not syslog\n\xff\xfe\xfd binary\n<999>bad pri\n").await.unwrap();
    client.shutdown().await.unwrap();
    let events = sink.wait_for(3, 10).await;
    assert!(events.iter().all(|e| has_tag(e, tags::PARSE_FAILURE)));
    assert_eq!(events[0].message.as_deref(), Some("this is not syslog"));
    assert_eq!(events[0].event.original.as_deref(), Some("this is not syslog"));
    assert!(has_tag(&events[1], tags::INVALID_UTF8));
    assert!(events.iter().all(|e| e.error.is_some()));
    rx.stop().await;
}

#[tokio::test]
async fn messages_over_64_kib_are_truncated_and_flagged() {
    let sink = RecordingSink::new();
    let rx = start_tcp(context(&sink, options())).await;
    let mut client = connect_from("127.0.0.1", rx.addr).await;
    let big = format!("<13>Mar  1 12:00:00 host app: {}", "x".repeat(100_000));
    // LF framed, then octet counted, then a normal line to show the stream stays in sync.
    client.write_all(big.as_bytes()).await.unwrap();
    client.write_all(b"\n").await.unwrap();
    client.write_all(format!("{} {big}", big.len()).as_bytes()).await.unwrap();
    client.write_all(b"<13>after: ok\n").await.unwrap();
    client.shutdown().await.unwrap();
    let events = sink.wait_for(3, 10).await;
    for e in &events[..2] {
        assert!(has_tag(e, tags::TRUNCATED));
        assert_eq!(e.event.original.as_ref().unwrap().len(), 64 * 1024);
        let why = e.error.as_ref().unwrap().message.clone().unwrap();
        assert!(why.contains(&format!("{} bytes truncated", big.len())), "{why}");
    }
    assert_eq!(events[2].message.as_deref(), Some("ok"));
    assert!(!has_tag(&events[2], tags::TRUNCATED));
    rx.stop().await;
}

#[tokio::test]
async fn storage_full_is_retried_and_nothing_is_lost() {
    let sink = RecordingSink::refusing(3);
    let rx = start_tcp(context(&sink, options())).await;
    let mut client = connect_from("127.0.0.1", rx.addr).await;
    for i in 0..20 {
        client.write_all(format!("<13>Mar  1 12:00:00 host app: n={i}\n").as_bytes()).await.unwrap();
    }
    client.shutdown().await.unwrap();
    let events = sink.wait_for(20, 10).await;
    assert_eq!(sink.settle().await.len(), 20, "no duplicates");
    assert_eq!(sink.refused(), 3);
    let mut seen: Vec<String> = events.iter().map(|e| e.message.clone().unwrap()).collect();
    seen.sort_by_key(|m| m[2..].parse::<u32>().unwrap());
    let want: Vec<String> = (0..20).map(|i| format!("n={i}")).collect();
    assert_eq!(seen, want);
    rx.stop().await;
}

#[tokio::test]
async fn a_blocked_sink_stalls_the_sender_and_loses_nothing() {
    const MESSAGES: usize = 50_000;
    let sink = RecordingSink::new();
    sink.close_gate();
    let rx = start_tcp_small_buffers(context(&sink, options())).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_send_buffer_size(32 * 1024).unwrap();
    let mut client = socket.connect(rx.addr).await.unwrap();

    let mut stream = Vec::new();
    for i in 0..MESSAGES {
        let line = format!("<13>Mar  1 12:00:00 host app: seq={i:06} {}\n", "p".repeat(150));
        stream.extend_from_slice(line.as_bytes());
    }
    // Write until a write makes no progress for a second: the sender is being held back.
    let mut written = 0;
    let stalled = loop {
        if written == stream.len() {
            break false;
        }
        match tokio::time::timeout(Duration::from_secs(1), client.write(&stream[written..])).await {
            Ok(Ok(n)) => written += n,
            Ok(Err(e)) => panic!("write failed: {e}"),
            Err(_) => break true,
        }
    };
    assert!(stalled, "the sender was never held back ({written} bytes written)");
    assert!(written < stream.len() / 2, "stalled only after {written} bytes");
    assert_eq!(sink.len(), 0, "the gate is closed, nothing can be stored yet");

    sink.open();
    client.write_all(&stream[written..]).await.unwrap();
    client.shutdown().await.unwrap();
    let events = sink.wait_for(MESSAGES, 60).await;
    assert_eq!(events.len(), MESSAGES);
    for (i, e) in events.iter().enumerate() {
        let msg = e.message.as_deref().unwrap();
        assert!(msg.starts_with(&format!("seq={i:06} ")), "event {i}: {msg}");
    }
    rx.stop().await;
}

#[tokio::test]
async fn shutdown_stores_what_was_read() {
    let sink = RecordingSink::new();
    let rx = start_tcp(context(&sink, options())).await;
    let mut client = connect_from("127.0.0.1", rx.addr).await;
    client.write_all(b"<13>one\n<13>two").await.unwrap();
    client.flush().await.unwrap();
    sink.wait_for(1, 10).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    rx.stop().await;
    let events = sink.events();
    let messages: Vec<_> = events.iter().filter_map(|e| e.message.clone()).collect();
    assert_eq!(messages, vec!["one", "two"]);
}
