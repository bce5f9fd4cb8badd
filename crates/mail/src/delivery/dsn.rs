//! Delivery status notifications (RFC 3464, `multipart/report`, RFC 6522): a human part in
//! Japanese then English, the machine-readable `message/delivery-status`, and the original
//! header (`text/rfc822-headers`). Sent from `<>` so that it never causes another bounce.

use std::fmt::Write as _;

use crate::mime_text::{b64, b64_lines, encode_word};

/// The RFC 3463 code in a reply text such as `451 4.3.0 try again`.
fn enhanced_code(reply: &str) -> Option<&str> {
    reply.split_whitespace().find(|w| {
        let parts: Vec<&str> = w.split('.').collect();
        parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    })
}
use crate::queue::{Envelope, Recipient};

/// What a notification reports (RFC 3464 §2.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The recipients failed for good.
    Failed,
    /// The recipients are still being tried, until the given time.
    Delayed { until: jiff::Timestamp },
}

/// Builds the notification for `recipients` (those that failed, or those still pending for a
/// delay notice). `header` is the original message's header section.
pub fn build(hostname: &str, envelope: &Envelope, recipients: &[&Recipient], header: &[u8], action: Action) -> Vec<u8> {
    let failed = recipients;
    let boundary = format!("{}/{hostname}", uuid::Uuid::new_v4().simple());
    let now = jiff::Zoned::now();
    let date = now.strftime("%a, %d %b %Y %H:%M:%S %z").to_string();
    let until = match action {
        Action::Delayed { until } => {
            Some(until.to_zoned(jiff::tz::TimeZone::UTC).strftime("%a, %d %b %Y %H:%M:%S %z").to_string())
        }
        Action::Failed => None,
    };
    let subject = match action {
        Action::Failed => encode_word("配送不能のお知らせ (Undelivered Mail Returned to Sender)"),
        Action::Delayed { .. } => encode_word("配送遅延のお知らせ (Delivery delayed)"),
    };
    let mut human = String::new();
    human.push_str("このメールは自動送信です。\r\n\r\n");
    match &until {
        None => human.push_str("お送りいただいたメールは、次の宛先に配送できませんでした。\r\n\r\n"),
        Some(u) => {
            human.push_str("お送りいただいたメールは、次の宛先にまだ配送できていません。\r\n");
            let _ = write!(human, "配送は {u} まで自動で再試行します。このお知らせへの対応は不要です。\r\n\r\n");
        }
    }
    for r in failed {
        let _ = write!(human, "  <{}>: {}\r\n", r.address, r.last_result.as_deref().unwrap_or("配送できませんでした"));
    }
    if until.is_none() {
        human.push_str("\r\n宛先のアドレスをご確認のうえ、必要であれば再送してください。\r\n");
    }
    let _ = write!(human, "中継サーバ: {hostname} (mamori)\r\n\r\n");
    human.push_str("----------------------------------------------------------------\r\n\r\n");
    human.push_str("This is an automatically generated message.\r\n\r\n");
    match &until {
        None => human.push_str("Your message could not be delivered to the following recipients:\r\n\r\n"),
        Some(u) => {
            human.push_str("Your message has not yet been delivered to the following recipients.\r\n");
            let _ = write!(human, "Delivery will be retried until {u}; you need not do anything.\r\n\r\n");
        }
    }
    for r in failed {
        let _ = write!(human, "  <{}>: {}\r\n", r.address, r.last_result.as_deref().unwrap_or("undeliverable"));
    }
    if until.is_none() {
        human.push_str("\r\nPlease check the addresses and resend the message if needed.\r\n");
    }
    let _ = write!(human, "Reporting relay: {hostname} (mamori)\r\n");

    let mut status = String::new();
    let _ = write!(status, "Reporting-MTA: dns; {hostname}\r\n");
    let _ = write!(status, "X-Mamori-Queue-ID: {}\r\n", envelope.id);
    let arrival = envelope.received_at.to_zoned(jiff::tz::TimeZone::UTC).strftime("%a, %d %b %Y %H:%M:%S %z");
    let _ = write!(status, "Arrival-Date: {arrival}\r\n");
    for r in failed {
        status.push_str("\r\n");
        let kind = if r.address.is_ascii() { "rfc822" } else { "utf-8" };
        let _ = write!(status, "Final-Recipient: {kind}; {}\r\n", r.address);
        match &until {
            None => {
                status.push_str("Action: failed\r\n");
                let _ = write!(status, "Status: {}\r\n", r.dsn_status.as_deref().unwrap_or("5.0.0"));
            }
            Some(u) => {
                status.push_str("Action: delayed\r\n");
                let code = r.last_result.as_deref().and_then(enhanced_code).filter(|c| c.starts_with('4'));
                let _ = write!(status, "Status: {}\r\n", code.unwrap_or("4.0.0"));
                let _ = write!(status, "Will-Retry-Until: {u}\r\n");
            }
        }
        if let Some(remote) = &r.remote {
            let _ = write!(status, "Remote-MTA: dns; {remote}\r\n");
        }
        if let Some(result) = &r.last_result {
            let one_line: String = result.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            let _ = write!(status, "Diagnostic-Code: smtp; {one_line}\r\n");
        }
        let _ = write!(status, "Last-Attempt-Date: {date}\r\n");
    }

    let mut out = String::new();
    let _ = write!(out, "From: =?UTF-8?B?{}?= <MAILER-DAEMON@{hostname}>\r\n", b64("メール配送システム".as_bytes()));
    let _ = write!(out, "To: <{}>\r\n", envelope.sender);
    let _ = write!(out, "Subject: {subject}\r\n");
    let _ = write!(out, "Date: {date}\r\n");
    let _ = write!(out, "Message-ID: <{}@{hostname}>\r\n", uuid::Uuid::now_v7().simple());
    out.push_str("Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
    let _ = write!(
        out,
        "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n\r\n"
    );
    out.push_str("This is a MIME-encapsulated delivery status notification.\r\n\r\n");
    let _ = write!(
        out,
        "--{boundary}\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    );
    out.push_str(&b64_lines(human.as_bytes()));
    let _ = write!(out, "\r\n--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n{status}");
    let _ = write!(out, "\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n");
    let mut bytes = out.into_bytes();
    // The original header as it was, up to its blank line.
    let end = header.windows(4).position(|w| w == b"\r\n\r\n").map_or(header.len(), |i| i + 2);
    bytes.extend_from_slice(&header[..end.min(64 * 1024)]);
    bytes.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    bytes
}
