//! Syslog over UDP on 127.0.0.1, and attribution of unknown senders.

mod common;

use std::time::Duration;

use common::*;
use mamori_collect::receiver::ReceiverOptions;
use mamori_collect::tags;
use tokio::io::AsyncWriteExt;
use tokio::net::UdpSocket;

#[tokio::test]
async fn datagrams_become_events() {
    let sink = RecordingSink::new();
    let rx = start_udp(context(&sink, options())).await;
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = client.local_addr().unwrap();
    client.send_to(b"<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 - 'su root' failed", rx.addr).await.unwrap();
    client.send_to("<13>Mar  1 12:00:00 fw01 alert: 不正アクセス\n".as_bytes(), rx.addr).await.unwrap();
    let events = sink.wait_for(2, 10).await;
    assert_eq!(events[0].message.as_deref(), Some("'su root' failed"));
    assert_eq!(events[1].message.as_deref(), Some("不正アクセス"));
    for e in &events {
        assert_eq!(e.tenant(), "midori");
        assert_eq!(e.log.as_ref().unwrap().extra["source"]["address"], local.to_string());
    }
    rx.stop().await;
}

#[tokio::test]
async fn unknown_sender_is_unassigned_with_exactly_one_alarm() {
    let sink = RecordingSink::new();
    let ctx = context(&sink, options());
    let udp = start_udp(ctx.clone()).await;
    let tcp = start_tcp(ctx).await;

    let client = UdpSocket::bind("127.0.0.2:0").await.unwrap();
    for i in 0..3 {
        client.send_to(format!("<13>udp {i}").as_bytes(), udp.addr).await.unwrap();
    }
    let mut stream = connect_from("127.0.0.2", tcp.addr).await;
    stream.write_all(b"<13>tcp 0\n<13>tcp 1\n").await.unwrap();
    stream.shutdown().await.unwrap();
    // A known sender at the same time raises nothing.
    let known = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    known.send_to(b"<13>known", udp.addr).await.unwrap();

    sink.wait_for(7, 10).await;
    let events = sink.settle().await;
    let alarms = alarms(&events, "unassigned_sender");
    assert_eq!(alarms.len(), 1, "{events:#?}");
    let alarm = alarms[0];
    assert_eq!(alarm.event.kind.as_deref(), Some("alert"));
    let text = alarm.message.as_deref().unwrap();
    assert!(text.contains("未登録の送信元 127.0.0.2"), "{text}");
    assert!(text.contains("unregistered sender 127.0.0.2"), "{text}");
    assert!(alarm.event.id.is_some());

    let logs = syslog_events(&events);
    assert_eq!(logs.len(), 6);
    for e in &logs {
        let from_unknown = e.message.as_deref() != Some("known");
        assert_eq!(e.tenant(), if from_unknown { "unassigned" } else { "midori" });
        assert_eq!(has_tag(e, tags::UNASSIGNED_SENDER), from_unknown);
    }
    udp.stop().await;
    tcp.stop().await;
}

#[tokio::test]
async fn a_full_queue_drops_counts_and_alarms() {
    let sink = RecordingSink::new();
    sink.close_gate();
    // Room for a handful of 300-byte datagrams only.
    let options = ReceiverOptions { udp_queue_bytes: 2_000, batch_max_delay: Duration::from_millis(1), ..options() };
    let rx = start_udp(context(&sink, options)).await;
    let dropped_before = mamori_collect::metrics::metrics().udp_dropped.get();
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let payload = format!("<13>{}", "d".repeat(296));
    for _ in 0..50 {
        client.send_to(payload.as_bytes(), rx.addr).await.unwrap();
    }
    // Let the receiver take them all off the socket, then let the sink work again.
    tokio::time::sleep(Duration::from_millis(300)).await;
    sink.open();
    // Another datagram after the jam, so a batch carries the drop alarm.
    tokio::time::sleep(Duration::from_millis(100)).await;
    client.send_to(b"<13>after", rx.addr).await.unwrap();
    sink.wait_for(2, 10).await;
    let events = sink.settle().await;
    let kept = syslog_events(&events).len();
    // Only this test in this binary overflows its queue, so the counter's growth is its own.
    let dropped = mamori_collect::metrics::metrics().udp_dropped.get() - dropped_before;
    assert!(dropped > 0 && kept > 0, "kept {kept}, dropped {dropped}");
    assert_eq!(kept as u64 + dropped, 51, "every datagram is either stored or counted");
    // The alarm comes with the first batch after drops; it may report only the drops seen by
    // then, and further alarms wait a minute.
    let alarms = alarms(&events, "udp_dropped");
    assert_eq!(alarms.len(), 1, "{events:#?}");
    let reported = alarms[0].extra["mamori"]["dropped"].as_u64().unwrap();
    assert!(reported > 0 && reported <= dropped);
    rx.stop().await;
}
