//! What the spam rules read: the decoded subject, the text of the body (text parts, or HTML with
//! its tags dropped), the links, and the sender's addresses. Japanese mail comes in ISO-2022-JP,
//! Shift_JIS, EUC-JP or UTF-8, often labelled wrongly or not at all (and CP50220, ISO-2022-JP with
//! half-width kana, under its own label): a body that does not decode cleanly under its label is
//! decoded again by what its bytes look like.

use encoding_rs::{EUC_JP, Encoding, ISO_2022_JP, SHIFT_JIS, UTF_8};
use mail_parser::{MessageParser, MimeHeaders as _};

/// Enough of a body for the rules; spam puts its words up front.
const MAX_TEXT: usize = 256 * 1024;

#[derive(Debug, Default, Clone)]
pub struct MailText {
    pub subject: String,
    pub body: String,
    pub urls: Vec<String>,
    /// The From: address and its display name.
    pub from_address: String,
    pub from_name: String,
    /// Header fields as `name: value` lines (unfolded), for header rules.
    pub headers: Vec<(String, String)>,
    /// Some part needed a second decoding because its label was wrong or missing.
    pub mislabelled: bool,
    pub html_only: bool,
}

pub fn extract(raw: &[u8]) -> MailText {
    let Some(m) = MessageParser::default().parse(raw) else {
        return MailText { body: decode_sniffed(raw).0, ..Default::default() };
    };
    let mut out = MailText { subject: m.subject().unwrap_or("").to_string(), ..Default::default() };
    if let Some(addr) = m.from().and_then(|a| a.first()) {
        out.from_address = addr.address().unwrap_or("").to_ascii_lowercase();
        out.from_name = addr.name().unwrap_or("").to_string();
    }
    for h in m.headers() {
        let value = m.raw_message().get(h.offset_start() as usize..h.offset_end() as usize).unwrap_or(b"");
        let value = String::from_utf8_lossy(value).replace(['\r', '\n'], " ");
        out.headers.push((h.name().to_ascii_lowercase(), value.trim().to_string()));
    }
    let text_parts: Vec<_> = m.text_bodies().collect();
    out.html_only = !text_parts.is_empty() && text_parts.iter().all(|p| p.is_text_html());
    for part in text_parts {
        let decoded = part.text_contents().unwrap_or("");
        let text = if decoded.contains('\u{FFFD}')
            || needs_sniffing(part.content_type().and_then(|c| c.attribute("charset")))
        {
            let start = part.raw_body_offset() as usize;
            let end = (part.raw_end_offset() as usize).min(m.raw_message().len());
            let bytes = transfer_decode(&m.raw_message()[start.min(end)..end], part.content_transfer_encoding());
            let (text, changed) = decode_sniffed(&bytes);
            out.mislabelled |= changed && text != decoded;
            text
        } else {
            decoded.to_string()
        };
        let text = if part.is_text_html() { strip_html(&text, &mut out.urls) } else { text };
        collect_urls(&text, &mut out.urls);
        out.body.push_str(&text);
        out.body.push('\n');
        if out.body.len() > MAX_TEXT {
            let cut = (0..=MAX_TEXT).rev().find(|&i| out.body.is_char_boundary(i)).unwrap_or(0);
            out.body.truncate(cut);
            break;
        }
    }
    out.urls.sort();
    out.urls.dedup();
    out
}

/// No label, US-ASCII, or a label Japanese senders use loosely.
fn needs_sniffing(charset: Option<&str>) -> bool {
    match charset.map(str::to_ascii_lowercase).as_deref() {
        None | Some("us-ascii") | Some("ascii") => true,
        Some(c) => c == "cp50220" || c == "cp50221" || Encoding::for_label(c.as_bytes()).is_none(),
    }
}

fn transfer_decode(body: &[u8], encoding: Option<&str>) -> Vec<u8> {
    use base64::Engine as _;
    match encoding.map(str::to_ascii_lowercase).as_deref() {
        Some("base64") => {
            let clean: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            base64::engine::general_purpose::STANDARD.decode(&clean).unwrap_or_else(|_| body.to_vec())
        }
        Some("quoted-printable") => quoted_printable(body),
        _ => body.to_vec(),
    }
}

fn quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'=' if body.get(i + 1) == Some(&b'\r') && body.get(i + 2) == Some(&b'\n') => i += 3,
            b'=' if body.get(i + 1) == Some(&b'\n') => i += 2,
            b'=' if i + 2 < body.len() => match u8::from_str_radix(&String::from_utf8_lossy(&body[i + 1..i + 3]), 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                }
                Err(_) => {
                    out.push(b'=');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Decodes bytes by their look: ISO-2022-JP escapes, valid UTF-8, else whichever of Shift_JIS
/// and EUC-JP decodes with fewer errors. Returns the text and whether it was not plain UTF-8.
pub fn decode_sniffed(bytes: &[u8]) -> (String, bool) {
    if bytes.windows(2).any(|w| w == b"\x1b$" || w == b"\x1b(") {
        return (ISO_2022_JP.decode_without_bom_handling(bytes).0.into_owned(), true);
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return (s.to_string(), false);
    }
    let candidates = [SHIFT_JIS, EUC_JP, UTF_8];
    let best = candidates
        .iter()
        .map(|enc| {
            let (text, _) = enc.decode_without_bom_handling(bytes);
            let errors = text.matches('\u{FFFD}').count();
            (errors, text.into_owned())
        })
        .min_by_key(|(errors, _)| *errors)
        .map(|(_, text)| text)
        .unwrap_or_default();
    (best, true)
}

/// The text of HTML, and the targets of its links.
fn strip_html(html: &str, urls: &mut Vec<String>) -> String {
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower[at..].find("href=") {
        let start = at + i + 5;
        let rest = &html[start..];
        let (quote, rest) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), &rest[1..]),
            _ => (None, rest),
        };
        let end = rest
            .find(|c: char| Some(c) == quote || (quote.is_none() && (c.is_whitespace() || c == '>')))
            .unwrap_or(rest.len());
        let target = &rest[..end];
        if target.starts_with("http://") || target.starts_with("https://") {
            urls.push(target.to_string());
        }
        at = start;
    }
    let mut text = String::with_capacity(html.len() / 2);
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&nbsp;", " ").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
}

fn collect_urls(text: &str, urls: &mut Vec<String>) {
    for scheme in ["http://", "https://"] {
        let mut at = 0;
        while let Some(i) = text[at..].find(scheme) {
            let start = at + i;
            let end = text[start..]
                .find(|c: char| c.is_whitespace() || "\"'<>()「」、。".contains(c) || !c.is_ascii())
                .map_or(text.len(), |e| start + e);
            urls.push(text[start..end].to_string());
            at = end.max(start + scheme.len());
        }
    }
}

/// The host of a URL, lower case, without port or credentials.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?.split(':').next()?;
    (!host.is_empty()).then(|| host.trim_end_matches('.').to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_charsets_labelled_right_wrong_or_not_at_all() {
        let iso = ISO_2022_JP.encode("未承諾広告※ 今だけ半額").0.into_owned();
        let sjis = SHIFT_JIS.encode("未承諾広告※ 今だけ半額").0.into_owned();
        for (label, body) in [
            ("charset=ISO-2022-JP", &iso),
            ("charset=Shift_JIS", &sjis),
            ("charset=UTF-8", &sjis),
            ("charset=ISO-8859-1", &sjis),
            ("charset=CP50220", &iso),
            ("", &sjis),
        ] {
            let mut raw =
                format!("From: a@b.jp\r\nSubject: x\r\nContent-Type: text/plain; {label}\r\n\r\n").into_bytes();
            raw.extend_from_slice(body);
            let t = extract(&raw);
            assert!(t.body.contains("未承諾広告※ 今だけ半額"), "{label}: {:?}", t.body);
        }
    }

    #[test]
    fn html_text_and_links() {
        let raw = b"From: \"Bank\" <x@evil.example>\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>Click <a href=\"https://login.evil.example/x?a=1\">here</a></p> http://plain.example/y";
        let t = extract(raw);
        assert!(t.html_only);
        assert!(t.body.contains("Click") && t.body.contains("here") && !t.body.contains("<p>"));
        assert_eq!(t.urls, vec!["http://plain.example/y", "https://login.evil.example/x?a=1"]);
        assert_eq!(url_host(&t.urls[1]).as_deref(), Some("login.evil.example"));
        assert_eq!((t.from_address.as_str(), t.from_name.as_str()), ("x@evil.example", "Bank"));
    }

    #[test]
    fn quoted_printable_bodies() {
        assert_eq!(quoted_printable(b"a=3Db=\r\nc"), b"a=bc");
    }
}
