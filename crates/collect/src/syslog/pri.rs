//! The PRI part (`<134>`): facility and severity, with the names operators search for.

/// Facility and severity decoded from a PRI value (0..=191).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pri {
    pub facility: u8,
    pub severity: u8,
}

impl Pri {
    pub fn from_value(value: u8) -> Option<Pri> {
        (value <= 191).then_some(Pri { facility: value >> 3, severity: value & 7 })
    }

    pub fn value(self) -> u8 {
        (self.facility << 3) | self.severity
    }

    pub fn facility_name(self) -> &'static str {
        FACILITY_NAMES.get(usize::from(self.facility)).copied().unwrap_or("unknown")
    }

    pub fn severity_name(self) -> &'static str {
        severity_name(self.severity)
    }
}

/// Short facility names as rsyslog and syslog-ng print them (RFC 5424 table 1 order).
const FACILITY_NAMES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// Severity names (RFC 5424 table 2), also used for `log.level`.
pub fn severity_name(severity: u8) -> &'static str {
    match severity {
        0 => "emergency",
        1 => "alert",
        2 => "critical",
        3 => "error",
        4 => "warning",
        5 => "notice",
        6 => "informational",
        _ => "debug",
    }
}

/// Outcome of looking for a PRI at the start of a line.
#[derive(Debug, PartialEq, Eq)]
pub enum PriScan<'a> {
    /// A valid PRI and the text after it.
    Found(Pri, &'a str),
    /// The line starts like a PRI but is not a valid one; says why.
    Invalid(String),
    /// No `<` at the start: the sender left the PRI out.
    Absent,
}

/// Reads `<N>` where N is 1-3 digits and at most 191. RFC 5424 forbids leading zeros except for
/// `<0>`; senders send `<013>` anyway, so leading zeros are accepted.
pub fn scan(line: &str) -> PriScan<'_> {
    let Some(rest) = line.strip_prefix('<') else {
        return PriScan::Absent;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 3 || rest.as_bytes().get(digits) != Some(&b'>') {
        return PriScan::Invalid("the line starts with '<' but has no valid <PRI>".into());
    }
    let value: u16 = rest[..digits].bytes().fold(0, |acc, b| acc * 10 + u16::from(b - b'0'));
    match u8::try_from(value).ok().and_then(Pri::from_value) {
        Some(pri) => PriScan::Found(pri, &rest[digits + 1..]),
        None => PriScan::Invalid(format!("PRI value {value} is out of range (0-191)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_facility_and_severity() {
        let PriScan::Found(pri, rest) = scan("<134>hello") else {
            panic!("expected a PRI");
        };
        assert_eq!((pri.facility, pri.severity), (16, 6));
        assert_eq!(pri.facility_name(), "local0");
        assert_eq!(pri.severity_name(), "informational");
        assert_eq!(pri.value(), 134);
        assert_eq!(rest, "hello");
    }

    #[test]
    fn edges() {
        assert!(matches!(scan("<0>x"), PriScan::Found(p, "x") if p.value() == 0));
        assert!(matches!(scan("<191>"), PriScan::Found(p, "") if p.value() == 191));
        assert!(matches!(scan("<013>x"), PriScan::Found(p, "x") if p.value() == 13));
        assert!(matches!(scan("<192>x"), PriScan::Invalid(_)));
        assert!(matches!(scan("<1000>x"), PriScan::Invalid(_)));
        assert!(matches!(scan("<>x"), PriScan::Invalid(_)));
        assert!(matches!(scan("<12x"), PriScan::Invalid(_)));
        assert!(matches!(scan("<"), PriScan::Invalid(_)));
        assert_eq!(scan("hello"), PriScan::Absent);
        assert_eq!(scan(""), PriScan::Absent);
    }
}
