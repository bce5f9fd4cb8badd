//! What the logs and the queue listing show of a message: its Message-ID and Subject
//! (RFC 2047 words decoded, Japanese charsets included), read from the header only.

use mail_parser::MessageParser;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFacts {
    pub message_id: Option<String>,
    pub subject: Option<String>,
    /// The domain of the (first) From: address, lower case; what DKIM signing and DMARC align on.
    pub from_domain: Option<String>,
}

pub fn facts(text: &[u8]) -> MessageFacts {
    let header_end = text.windows(4).position(|w| w == b"\r\n\r\n").map_or(text.len(), |i| i + 4);
    match MessageParser::default().parse_headers(&text[..header_end]) {
        Some(m) => MessageFacts {
            message_id: m.message_id().map(|s| s.chars().take(998).collect()),
            subject: m.subject().map(|s| s.chars().take(998).collect()),
            from_domain: m
                .from()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .and_then(|a| a.rsplit_once('@'))
                .map(|(_, d)| d.trim_end_matches('.').to_ascii_lowercase()),
        },
        None => MessageFacts::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_subjects_are_decoded() {
        let text = b"Message-ID: <a@b.jp>\r\nSubject: =?ISO-2022-JP?B?GyRCJCIkJCQmGyhC?=\r\n\r\nbody";
        let f = facts(text);
        assert_eq!(f.message_id.as_deref(), Some("a@b.jp"));
        assert_eq!(f.subject.as_deref(), Some("あいう"));
    }
}
