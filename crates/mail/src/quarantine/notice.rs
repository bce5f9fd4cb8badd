//! The notice a recipient gets when mail for them was quarantined because of malware
//! (function 8: "notify the recipient"), in Japanese then English. It names the sender, subject,
//! what was found and the quarantine id to quote to the helpdesk; it never carries the message
//! itself. Sent from `<>` so that it can never bounce back and forth.

use std::fmt::Write as _;

use super::store::Record;
use crate::mime_text::{b64_lines, encode_word};

/// Who a tenant's users should ask about a quarantined message.
#[derive(Debug, Clone, Default)]
pub struct Helpdesk {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// The complete notice for `to`, ready to queue.
pub fn build(hostname: &str, record: &Record, to: &str, helpdesk: Option<&Helpdesk>) -> Vec<u8> {
    let env = &record.envelope;
    let sender = if env.sender.is_empty() { "<>" } else { env.sender.as_str() };
    let subject = env.subject.as_deref().unwrap_or("(件名なし)");
    let received = env.received_at.to_zoned(jiff::tz::TimeZone::UTC).strftime("%Y-%m-%d %H:%M:%S UTC");
    let found: Vec<&str> = record.reasons.iter().map(String::as_str).collect();

    let mut text = String::new();
    text.push_str("このメールは自動送信です。\r\n\r\n");
    text.push_str("あなた宛て(またはあなたが送信した)メールからウイルス等の不正なプログラムが\r\n");
    text.push_str("検出されたため、そのメールを隔離しました。メールは配送されていません。\r\n\r\n");
    let _ = write!(text, "  差出人:     {sender}\r\n");
    let _ = write!(text, "  件名:       {}\r\n", one_line(subject));
    let _ = write!(text, "  受信日時:   {received}\r\n");
    let _ = write!(text, "  隔離ID:     {}\r\n", record.id);
    for f in &found {
        let _ = write!(text, "  検出内容:   {}\r\n", one_line(f));
    }
    text.push_str("\r\n添付ファイルを開いたり、送信者に返信したりしないでください。\r\n");
    text.push_str("業務上必要なメールである場合は、隔離IDを添えて下記へお問い合わせください。\r\n");
    write_helpdesk(&mut text, helpdesk, "問い合わせ先");
    text.push_str("\r\n----------------------------------------------------------------\r\n\r\n");
    text.push_str("This is an automatically generated message.\r\n\r\n");
    text.push_str("A message to (or from) you contained malware and has been quarantined.\r\n");
    text.push_str("It has not been delivered.\r\n\r\n");
    let _ = write!(text, "  From:          {sender}\r\n");
    let _ = write!(text, "  Subject:       {}\r\n", one_line(subject));
    let _ = write!(text, "  Received:      {received}\r\n");
    let _ = write!(text, "  Quarantine ID: {}\r\n", record.id);
    for f in &found {
        let _ = write!(text, "  Found:         {}\r\n", one_line(f));
    }
    text.push_str("\r\nDo not open its attachments or reply to the sender. If you need the message,\r\n");
    text.push_str("contact your helpdesk with the quarantine ID.\r\n");
    write_helpdesk(&mut text, helpdesk, "Helpdesk");

    let date = jiff::Zoned::now().strftime("%a, %d %b %Y %H:%M:%S %z").to_string();
    let mut out = String::new();
    let _ = write!(out, "From: {} <MAILER-DAEMON@{hostname}>\r\n", encode_word("メール中継システム"));
    let _ = write!(out, "To: <{to}>\r\n");
    let _ = write!(out, "Subject: {}\r\n", encode_word("ウイルスを検出したメールを隔離しました (Message quarantined)"));
    let _ = write!(out, "Date: {date}\r\n");
    let _ = write!(out, "Message-ID: <{}@{hostname}>\r\n", uuid::Uuid::now_v7().simple());
    let _ = write!(out, "X-Mamori-Quarantine-ID: {}\r\n", record.id);
    out.push_str("Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n");
    out.push_str("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    out.push_str(&b64_lines(text.as_bytes()));
    out.into_bytes()
}

fn write_helpdesk(text: &mut String, helpdesk: Option<&Helpdesk>, label: &str) {
    let Some(h) = helpdesk else { return };
    let _ = write!(text, "\r\n  {label}: {}", h.name);
    if let Some(e) = &h.email {
        let _ = write!(text, " <{e}>");
    }
    if let Some(p) = &h.phone {
        let _ = write!(text, " {p}");
    }
    text.push_str("\r\n");
}

/// Header values come from the sender: no line breaks may reach the notice's text.
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).take(200).collect()
}
