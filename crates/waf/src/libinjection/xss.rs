//! libinjection's XSS detector: an HTML5 tokenizer in each starting context, and blacklists
//! of tags, attributes and URL schemes.
//!
//! Event handler attributes follow libinjection 4 (the maintained C upstream): an `on...`
//! attribute with a value is XSS when its name after `on` *begins with* a known event name, so
//! `onscrollend=` (newer than the list) and `onloadfoo=` are caught as well as `onload=`.
//! libinjection 3.9.2 flagged every `on...` name of five characters or more (`onion=`); the
//! wrapped crate matches whole event names only. See CONFORMANCE.md, row "(libinjection)".

use libinjectionrs::xss::{Html5Flags, Html5State, TokenType, XssDetector};

pub fn detect(input: &[u8]) -> bool {
    super::contained(|| libinjectionrs::detect_xss(input).is_injection() || event_prefix(input)).unwrap_or(false)
}

/// The longest event name in libinjection's list (`WEBKITCURRENTPLAYBACKTARGETISWIRELESSCHANGED`)
/// with its `on`: longer prefixes of an attribute name cannot match.
const LONGEST_EVENT_ATTR: usize = 45;

const CONTEXTS: [Html5Flags; 5] = [
    Html5Flags::DataState,
    Html5Flags::ValueNoQuote,
    Html5Flags::ValueSingleQuote,
    Html5Flags::ValueDoubleQuote,
    Html5Flags::ValueBackQuote,
];

/// libinjection 4's prefix rule for `on...` attributes, in every starting context: an attribute
/// name whose leading part is an event handler, followed by a value.
fn event_prefix(input: &[u8]) -> bool {
    // Without `=` there is no attribute value, and without `on` no event attribute.
    if memchr::memchr(b'=', input).is_none() || !input.windows(2).any(|w| w.eq_ignore_ascii_case(b"on")) {
        return false;
    }
    CONTEXTS.iter().any(|&context| {
        let mut h5 = Html5State::new(input, context);
        let mut black = false;
        while h5.next() {
            match h5.token_type {
                TokenType::AttrValue if black => return true,
                TokenType::AttrName => black = is_event_attr_prefix(&h5.token_start[..h5.token_len]),
                _ => black = false,
            }
        }
        false
    })
}

/// Whether some leading part of `name` (`on` and at least three more bytes) is an event
/// handler in the crate's list, asked through the crate's own detector on `<x NAME=1>`.
fn is_event_attr_prefix(name: &[u8]) -> bool {
    if name.len() < 5 || !name[..2].eq_ignore_ascii_case(b"on") {
        return false;
    }
    let mut probe = Vec::with_capacity(LONGEST_EVENT_ATTR + 8);
    (5..=name.len().min(LONGEST_EVENT_ATTR)).any(|k| {
        probe.clear();
        probe.extend_from_slice(b"<x ");
        probe.extend_from_slice(&name[..k]);
        probe.extend_from_slice(b"=1>");
        XssDetector::is_xss(&probe, Html5Flags::DataState)
    })
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn detects() {
        assert!(detect(b"<script>alert(1)</script>"));
        assert!(detect(b"<a href=\"javascript:alert(1)\">"));
        assert!(!detect(b"hello <b>world</b>"));
    }

    /// The decided behaviour for `on...` attribute names (libinjection 4's), on vectors written
    /// for mamori: event names and names that begin with one are XSS with a value; other
    /// `on...` names, and event attributes without a value, are not.
    #[test]
    fn event_attributes_follow_libinjection_4() {
        for xss in [
            &b"<img src=x onerror=alert(1)>"[..],
            b"<div onmouseover='x()'>",
            b"<body ONLOAD=go()>",
            b"<p onloadstyle=a>",
            b"<div onscrollend=alert(1)>",
            b"<i onclickable=\"1\">",
            b"\" onfocusout=\"alert(1)",
            b"x onerrorx=1",
            // Through the tag, whatever the attribute.
            b"<xss onbeforetheend=1>",
        ] {
            assert!(detect(xss), "{}", String::from_utf8_lossy(xss));
        }
        for benign in [
            &b"<p onion=1>"[..],
            b"<div onesided=\"yes\">",
            b"<a onxyz=1>",
            b"<p onbeforetheend=1>",
            b"<input onerror>",
            b"<b>one = two on the line</b>",
            b"price=10&mode=online",
        ] {
            assert!(!detect(benign), "{}", String::from_utf8_lossy(benign));
        }
    }
}
