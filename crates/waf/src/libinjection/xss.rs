//! libinjection's XSS detector: an HTML5 tokenizer in each starting context, and blacklists
//! of tags, attributes and URL schemes.

pub fn detect(input: &[u8]) -> bool {
    super::contained(|| libinjectionrs::detect_xss(input).is_injection()).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[test]
    fn detects() {
        assert!(super::detect(b"<script>alert(1)</script>"));
        assert!(super::detect(b"<a href=\"javascript:alert(1)\">"));
        assert!(!super::detect(b"hello <b>world</b>"));
    }
}
