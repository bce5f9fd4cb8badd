//! The SMTP command parser (`mamori_mail::smtp::command::parse`) takes any line without
//! panicking; every refusal is a 5xx reply whose enhanced code (RFC 3463) has the same class;
//! every accepted address prints back to one that parses to the same mailbox.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_mail::smtp::address::{Path, parse_path};
use mamori_mail::smtp::command::{Command, parse};

fuzz_target!(|data: &[u8]| {
    match parse(data) {
        Err(reply) => {
            assert!((500..600).contains(&reply.code), "{reply:?}");
            assert!(reply.enhanced.starts_with('5'), "{reply:?}");
            let wire = reply.to_wire();
            assert!(wire.ends_with("\r\n") && wire.matches("\r\n").count() == reply.lines.len());
        }
        Ok(Command::Mail(Path::Mailbox { mailbox, .. }, _) | Command::Rcpt(Path::Mailbox { mailbox, .. })) => {
            let again = parse_path(&format!("<{mailbox}>"), true);
            match again {
                Ok(Path::Mailbox { mailbox: m2, .. }) => assert_eq!(m2, mailbox),
                other => panic!("{mailbox} printed as something else: {other:?}"),
            }
        }
        Ok(_) => {}
    }
    let mut out = Vec::new();
    let mut cr = false;
    mamori_mail::smtp::data::normalise_line_ends(data, &mut out, &mut cr);
    assert!(!out.windows(2).enumerate().any(|(i, w)| w[1] == b'\n' && w[0] != b'\r' && i + 1 < out.len()));
});
