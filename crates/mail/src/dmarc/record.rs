//! The DMARC policy record (RFC 7489 §6.3, §6.4): a tag-value list published as TXT at
//! `_dmarc.<domain>`. `v=DMARC1` must come first; a missing or invalid `p` makes the record
//! `p=none` when it names a valid report address and no record otherwise (§6.6.3 step 6); any
//! other tag with a bad value takes its default (§6.3: "syntax errors in the remainder of the
//! record SHOULD be discarded in favor of default values").

/// What the Domain Owner asks receivers to do with mail that fails (§6.3 `p`, `sp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Policy {
    None,
    Quarantine,
    Reject,
}

impl Policy {
    fn parse(value: &str) -> Option<Policy> {
        match value.to_ascii_lowercase().as_str() {
            "none" => Some(Policy::None),
            "quarantine" => Some(Policy::Quarantine),
            "reject" => Some(Policy::Reject),
            _ => None,
        }
    }

    /// The RFC 8601 / RFC 7489 name.
    pub fn name(self) -> &'static str {
        match self {
            Policy::None => "none",
            Policy::Quarantine => "quarantine",
            Policy::Reject => "reject",
        }
    }

    /// The next less strict policy, for messages outside the `pct` sample (§6.6.4).
    pub fn relaxed_one_step(self) -> Policy {
        match self {
            Policy::Reject => Policy::Quarantine,
            Policy::Quarantine | Policy::None => Policy::None,
        }
    }
}

/// Identifier alignment mode (§3.1, `adkim` and `aspf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alignment {
    /// The Organizational Domains must be equal.
    Relaxed,
    /// The domains must be equal.
    Strict,
}

/// One parsed DMARC record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmarcRecord {
    pub policy: Policy,
    /// `sp`: the policy for subdomains of the Organizational Domain; `p` when absent.
    pub subdomain_policy: Option<Policy>,
    pub adkim: Alignment,
    pub aspf: Alignment,
    /// `pct`: the percentage of failing messages the policy applies to (0 to 100).
    pub pct: u8,
    /// `rua` addresses for aggregate reports (syntactically valid ones only).
    pub rua: Vec<String>,
    /// `ruf` addresses for failure reports.
    pub ruf: Vec<String>,
    /// `p` was missing or invalid and a report address made this record count as `p=none`.
    pub policy_defaulted: bool,
}

/// Why a TXT record is not a usable DMARC record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordError {
    /// Not a DMARC record at all: does not start with `v=DMARC1` (such TXT records are ignored,
    /// §6.6.3 step 3).
    NotDmarc,
    /// A DMARC record without a valid `p` and without a valid `rua` (§6.6.3 step 6).
    NoPolicy(String),
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordError::NotDmarc => f.write_str("not a DMARC record (no leading v=DMARC1)"),
            RecordError::NoPolicy(why) => write!(f, "DMARC record without a usable policy: {why}"),
        }
    }
}

/// Whether a TXT record claims to be DMARC: `v=DMARC1` as its first tag (§6.6.3 step 3).
pub fn is_dmarc(txt: &[u8]) -> bool {
    let text = String::from_utf8_lossy(txt);
    let first = text.split(';').next().unwrap_or("");
    match first.split_once('=') {
        Some((tag, value)) => tag.trim() == "v" && value.trim() == "DMARC1",
        None => false,
    }
}

/// A report URI of `rua`/`ruf` (§6.2: a URI, optionally followed by `!size`): kept when it is a
/// URI with a scheme.
fn report_uris(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter_map(|uri| {
            let uri = uri.split_once('!').map_or(uri, |(u, _)| u);
            let (scheme, rest) = uri.split_once(':')?;
            let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            (scheme_ok && !rest.is_empty()).then(|| uri.to_string())
        })
        .collect()
}

fn alignment(value: &str) -> Option<Alignment> {
    match value.to_ascii_lowercase().as_str() {
        "r" => Some(Alignment::Relaxed),
        "s" => Some(Alignment::Strict),
        _ => None,
    }
}

/// Parses one TXT record (its strings already joined).
pub fn parse(txt: &[u8]) -> Result<DmarcRecord, RecordError> {
    if !is_dmarc(txt) {
        return Err(RecordError::NotDmarc);
    }
    let text = String::from_utf8_lossy(txt);
    let mut policy = None;
    let mut bad_policy = None;
    let mut record = DmarcRecord {
        policy: Policy::None,
        subdomain_policy: None,
        adkim: Alignment::Relaxed,
        aspf: Alignment::Relaxed,
        pct: 100,
        rua: Vec::new(),
        ruf: Vec::new(),
        policy_defaulted: false,
    };
    let mut bad_subdomain_policy = false;
    for part in text.split(';').skip(1) {
        let Some((tag, value)) = part.split_once('=') else { continue };
        let (tag, value) = (tag.trim(), value.trim());
        match tag {
            "p" => match Policy::parse(value) {
                Some(p) => policy = Some(p),
                None => bad_policy = Some(format!("p={value}")),
            },
            "sp" => match Policy::parse(value) {
                Some(p) => record.subdomain_policy = Some(p),
                None => bad_subdomain_policy = true,
            },
            "adkim" => record.adkim = alignment(value).unwrap_or(Alignment::Relaxed),
            "aspf" => record.aspf = alignment(value).unwrap_or(Alignment::Relaxed),
            "pct" => record.pct = value.parse::<u8>().ok().filter(|p| *p <= 100).unwrap_or(100),
            "rua" => record.rua = report_uris(value),
            "ruf" => record.ruf = report_uris(value),
            // fo, rf, ri and unknown tags do not change the verdict (§6.3: unknown tags are ignored).
            _ => {}
        }
    }
    // §6.6.3 step 6: an invalid `sp` is treated like an invalid `p`.
    match policy {
        Some(p) if !bad_subdomain_policy => record.policy = p,
        _ if !record.rua.is_empty() => {
            record.policy = Policy::None;
            record.subdomain_policy = None;
            record.policy_defaulted = true;
        }
        _ => {
            let why = match (bad_policy, bad_subdomain_policy) {
                (_, true) => "invalid sp".to_string(),
                (Some(bad), _) => format!("invalid {bad}"),
                (None, _) => "no p tag".to_string(),
            };
            return Err(RecordError::NoPolicy(why));
        }
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_record() {
        let r = parse(b"v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=r; pct=20; rua=mailto:agg@example.jp!10m, mailto:b@example.jp; ruf=mailto:f@example.jp; fo=1").unwrap();
        assert_eq!(r.policy, Policy::Reject);
        assert_eq!(r.subdomain_policy, Some(Policy::Quarantine));
        assert_eq!((r.adkim, r.aspf), (Alignment::Strict, Alignment::Relaxed));
        assert_eq!(r.pct, 20);
        assert_eq!(r.rua, ["mailto:agg@example.jp", "mailto:b@example.jp"]);
        assert_eq!(r.ruf, ["mailto:f@example.jp"]);
    }

    #[test]
    fn defaults_and_case() {
        let r = parse(b"v=DMARC1;p=QUARANTINE").unwrap();
        assert_eq!(r.policy, Policy::Quarantine);
        assert_eq!((r.adkim, r.aspf, r.pct, r.subdomain_policy), (Alignment::Relaxed, Alignment::Relaxed, 100, None));
    }

    #[test]
    fn version_must_come_first_and_exactly() {
        assert_eq!(parse(b"p=reject; v=DMARC1"), Err(RecordError::NotDmarc));
        assert_eq!(parse(b"v=DMARC2; p=reject"), Err(RecordError::NotDmarc));
        assert_eq!(parse(b"v=spf1 -all"), Err(RecordError::NotDmarc));
        assert!(is_dmarc(b" v = DMARC1 ;p=none"));
    }

    #[test]
    fn bad_values_take_defaults() {
        let r = parse(b"v=DMARC1; p=reject; adkim=x; pct=250; rua=not a uri").unwrap();
        assert_eq!((r.adkim, r.pct), (Alignment::Relaxed, 100));
        assert!(r.rua.is_empty());
    }

    #[test]
    fn missing_policy_with_report_address_is_none() {
        let r = parse(b"v=DMARC1; rua=mailto:d@example.jp").unwrap();
        assert_eq!(r.policy, Policy::None);
        assert!(r.policy_defaulted);
        let r = parse(b"v=DMARC1; p=bogus; rua=mailto:d@example.jp").unwrap();
        assert_eq!(r.policy, Policy::None);
    }

    #[test]
    fn missing_policy_without_report_address_is_no_record() {
        assert!(matches!(parse(b"v=DMARC1"), Err(RecordError::NoPolicy(_))));
        assert!(matches!(parse(b"v=DMARC1; p=bogus"), Err(RecordError::NoPolicy(_))));
        assert!(matches!(parse(b"v=DMARC1; p=reject; sp=bogus"), Err(RecordError::NoPolicy(_))));
    }

    #[test]
    fn hostile_bytes_do_not_panic() {
        for input in [&b""[..], b"v=DMARC1;;;=;p", b"v=DMARC1; p=\xff\xfe", b"v=DMARC1; pct=-1; p=none"] {
            let _ = parse(input);
        }
    }
}
