//! The message text of DATA (RFC 5321 §4.1.1.4, §4.5.2) and BDAT (RFC 3030), with SMTP
//! smuggling protection: only `<CRLF>.<CRLF>` ends DATA, and a message holding a bare LF or a
//! bare CR is refused whole, so no second message can hide inside one (the
//! `<LF>.<LF>`, `<LF>.<CRLF>`, `<CR>.<CR>` ... sequences other servers read as an end).

use tokio::io::AsyncBufRead;

use super::lines::{Line, read_line};

/// RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets with its CRLF.
pub const MAX_TEXT_LINE: usize = 1000;

/// Why a message read to its end was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataProblem {
    TooBig,
    BareLineEnd,
    LineTooLong,
}

/// What reading DATA gave.
#[derive(Debug, PartialEq, Eq)]
pub enum DataOutcome {
    /// The message, CRLF line ends, dot-stuffing removed.
    Message(Vec<u8>),
    /// Read to its terminator but refused.
    Refused(DataProblem),
    /// The connection closed before the terminator.
    Eof,
}

/// Reads message text up to `<CRLF>.<CRLF>`. The terminator is only recognised at the start of
/// a line that followed a CRLF, and only as `.` CR LF exactly.
pub async fn read_data<R: AsyncBufRead + Unpin>(reader: &mut R, max_bytes: u64) -> std::io::Result<DataOutcome> {
    let mut message = Vec::new();
    let mut problem = None;
    // `.` CRLF ends the message only after a CRLF: after a bare LF it is the smuggler's
    // `<LF>.<CRLF>` and just text.
    let mut after_crlf = true;
    loop {
        // One more than the limit so that an over-long line is seen as such, not split.
        let line = match read_line(reader, MAX_TEXT_LINE + 1).await? {
            Line::Eof => return Ok(DataOutcome::Eof),
            Line::TooLong => {
                problem.get_or_insert(DataProblem::LineTooLong);
                after_crlf = true;
                continue;
            }
            Line::Complete(l) => l,
        };
        let was_after_crlf = std::mem::replace(&mut after_crlf, line.ends_with(b"\r\n"));
        if line == b".\r\n" && was_after_crlf {
            return Ok(match problem {
                Some(p) => DataOutcome::Refused(p),
                None => DataOutcome::Message(message),
            });
        }
        let body = &line[..line.len() - 1];
        let Some(text) = body.strip_suffix(b"\r") else {
            problem.get_or_insert(DataProblem::BareLineEnd);
            continue;
        };
        if text.contains(&b'\r') {
            problem.get_or_insert(DataProblem::BareLineEnd);
            continue;
        }
        if line.len() > MAX_TEXT_LINE {
            problem.get_or_insert(DataProblem::LineTooLong);
            continue;
        }
        if problem.is_some() {
            continue;
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        if message.len() as u64 + unstuffed.len() as u64 > max_bytes {
            problem = Some(DataProblem::TooBig);
            message = Vec::new();
            continue;
        }
        message.extend_from_slice(unstuffed);
    }
}

/// BDAT chunks carry no terminator, so they cannot smuggle; their bare LF and CR are
/// normalised to CRLF so that the message relayed on (over DATA) has none either.
pub fn normalise_line_ends(chunk: &[u8], out: &mut Vec<u8>, pending_cr: &mut bool) {
    for &b in chunk {
        match (b, *pending_cr) {
            (b'\n', true) => {
                out.extend_from_slice(b"\r\n");
                *pending_cr = false;
            }
            (b'\n', false) => out.extend_from_slice(b"\r\n"),
            (b'\r', true) => out.extend_from_slice(b"\r\n"),
            (b'\r', false) => *pending_cr = true,
            (other, true) => {
                out.extend_from_slice(b"\r\n");
                out.push(other);
                *pending_cr = false;
            }
            (other, false) => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn data(input: &[u8]) -> (DataOutcome, Vec<u8>) {
        let mut r = tokio::io::BufReader::new(input);
        let out = read_data(&mut r, 1 << 20).await.unwrap();
        let mut rest = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut r, &mut rest).await.unwrap();
        (out, rest)
    }

    #[tokio::test]
    async fn dot_stuffing_and_the_terminator() {
        let (out, rest) = data(b"Subject: x\r\n\r\n..hidden dot\r\n.\r\nQUIT\r\n").await;
        assert_eq!(out, DataOutcome::Message(b"Subject: x\r\n\r\n.hidden dot\r\n".to_vec()));
        assert_eq!(rest, b"QUIT\r\n");
    }

    /// The published smuggling sequences (SEC Consult, December 2023): none ends the message,
    /// and the message holding one is refused whole at the real terminator.
    #[tokio::test]
    async fn smuggling_terminators_are_refused() {
        for end in [&b"\n.\n"[..], b"\n.\r\n", b"\r.\r", b"\r\n.\r", b"\r.\r\n", b"\r\n\x00.\r\n"] {
            let mut input = b"Subject: one\r\n\r\nbody".to_vec();
            input.extend_from_slice(end);
            input.extend_from_slice(b"MAIL FROM:<evil@x.jp>\r\nRCPT TO:<v@y.jp>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n");
            let (out, rest) = data(&input).await;
            if end == b"\r\n\x00.\r\n" {
                // A NUL before the dot is just text; the message ends at the real terminator.
                assert!(matches!(out, DataOutcome::Message(_)), "{end:?}");
            } else {
                assert_eq!(out, DataOutcome::Refused(DataProblem::BareLineEnd), "{end:?}");
            }
            assert_eq!(rest, b"QUIT\r\n", "{end:?}");
        }
    }

    #[tokio::test]
    async fn size_and_line_limits() {
        let mut r = tokio::io::BufReader::new(&b"0123456789\r\n0123456789\r\n.\r\n"[..]);
        assert_eq!(read_data(&mut r, 15).await.unwrap(), DataOutcome::Refused(DataProblem::TooBig));
        let long = [vec![b'a'; 1001], b"\r\n.\r\n".to_vec()].concat();
        assert_eq!(data(&long).await.0, DataOutcome::Refused(DataProblem::LineTooLong));
        assert_eq!(data(b"abc\r\n").await.0, DataOutcome::Eof);
    }

    #[test]
    fn bdat_line_ends_are_normalised() {
        let (mut out, mut cr) = (Vec::new(), false);
        normalise_line_ends(b"a\nb\rc\r", &mut out, &mut cr);
        normalise_line_ends(b"\nd", &mut out, &mut cr);
        assert_eq!(out, b"a\r\nb\r\nc\r\nd");
    }
}
