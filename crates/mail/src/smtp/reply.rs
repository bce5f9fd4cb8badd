//! SMTP replies (RFC 5321 §4.2) with their enhanced status code (RFC 3463, RFC 2034) on every line.

use std::fmt::Write as _;

/// One reply: a basic code, an enhanced code, and one or more lines of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub enhanced: &'static str,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn new(code: u16, enhanced: &'static str, text: impl Into<String>) -> Reply {
        Reply { code, enhanced, lines: vec![text.into()] }
    }

    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// The wire form. Continuation lines use `code-`; the greeting and EHLO keywords carry no
    /// enhanced code (RFC 2034 §4 exempts them), every other line does.
    pub fn to_wire(&self) -> String {
        let mut out = String::new();
        let last = self.lines.len().saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            // Text never carries a line break of its own: it would end the reply early.
            let line: String = line.chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect();
            if self.enhanced.is_empty() {
                let _ = write!(out, "{}{sep}{line}\r\n", self.code);
            } else {
                let _ = write!(out, "{}{sep}{} {line}\r\n", self.code, self.enhanced);
            }
        }
        out
    }
}

/// The replies the server gives, each with its RFC 3463 code.
pub mod codes {
    use super::Reply;

    pub fn ok(text: &str) -> Reply {
        Reply::new(250, "2.0.0", text)
    }
    pub fn sender_ok() -> Reply {
        Reply::new(250, "2.1.0", "Sender OK")
    }
    pub fn recipient_ok() -> Reply {
        Reply::new(250, "2.1.5", "Recipient OK")
    }
    pub fn syntax(text: &str) -> Reply {
        Reply::new(500, "5.5.2", text)
    }
    pub fn param_syntax(text: &str) -> Reply {
        Reply::new(501, "5.5.4", text)
    }
    pub fn bad_address(text: &str) -> Reply {
        Reply::new(501, "5.1.3", text)
    }
    pub fn bad_sequence(text: &str) -> Reply {
        Reply::new(503, "5.5.1", text)
    }
    pub fn not_implemented(text: &str) -> Reply {
        Reply::new(502, "5.5.1", text)
    }
    pub fn param_not_implemented(text: &str) -> Reply {
        Reply::new(555, "5.5.4", text)
    }
    pub fn line_too_long() -> Reply {
        Reply::new(500, "5.5.6", "Line too long (RFC 5321 limit is 512 octets for commands)")
    }
    pub fn too_big() -> Reply {
        Reply::new(552, "5.3.4", "Message size exceeds fixed maximum message size")
    }
    pub fn too_many_recipients() -> Reply {
        Reply::new(452, "4.5.3", "Too many recipients")
    }
    /// Inbound mail for several municipalities is taken one municipality per transaction.
    pub fn one_tenant_per_transaction() -> Reply {
        Reply::new(452, "4.5.3", "Too many recipients: send mail for another municipality in a separate transaction")
    }
    pub fn relay_denied(text: &str) -> Reply {
        Reply::new(550, "5.7.1", text)
    }
    pub fn sender_denied(text: &str) -> Reply {
        Reply::new(553, "5.7.1", text)
    }
    pub fn tls_required_first() -> Reply {
        Reply::new(530, "5.7.0", "Must issue a STARTTLS command first")
    }
    pub fn local_error(text: &str) -> Reply {
        Reply::new(451, "4.3.0", text)
    }
    pub fn storage_full() -> Reply {
        Reply::new(452, "4.3.1", "Insufficient system storage")
    }
    pub fn timeout() -> Reply {
        Reply::new(421, "4.4.2", "Timeout, closing connection")
    }
    pub fn bye(host: &str) -> Reply {
        Reply::new(221, "2.0.0", format!("{host} closing connection"))
    }
    pub fn bad_data(text: &str) -> Reply {
        Reply::new(550, "5.6.0", text)
    }
    pub fn smtputf8_required() -> Reply {
        Reply::new(553, "5.6.7", "Non-ASCII address needs SMTPUTF8 (RFC 6531)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_replies_carry_the_enhanced_code_on_each_line() {
        let mut r = Reply::new(550, "5.7.1", "first");
        r.lines.push("second\r\ninjected".into());
        assert_eq!(r.to_wire(), "550-5.7.1 first\r\n550 5.7.1 second  injected\r\n");
    }
}
