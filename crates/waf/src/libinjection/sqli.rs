//! libinjection's SQLi detector: tokenizer, folding and fingerprint lookup.

/// The fingerprint of a detected SQL injection (what CRS logs as the matched data).
pub fn detect(input: &[u8]) -> Option<Vec<u8>> {
    let r = super::contained(|| libinjectionrs::detect_sqli(input))?;
    if !r.is_injection() {
        return None;
    }
    let fp = r.fingerprint.map(|f| f.as_bytes().iter().copied().take_while(|&c| c != 0).collect());
    Some(fp.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn detects() {
        assert!(super::detect(b"1' OR '1'='1").is_some());
        assert!(super::detect(b"ascii(substring(version() from 1 for 1))").is_some());
        assert!(super::detect(b"hello world").is_none());
    }
}
