//! Reading lines with a length limit from a buffered stream, so that a client sending an
//! endless line costs a bounded amount of memory.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// One line as read, its end included.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The bytes up to and including the LF.
    Complete(Vec<u8>),
    /// The line was longer than the limit; it has been read to its LF and dropped.
    TooLong,
    /// The peer closed the connection (possibly mid-line).
    Eof,
}

/// Reads one line of at most `max` bytes (LF included).
pub async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R, max: usize) -> std::io::Result<Line> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(Line::Eof);
        }
        let (take, done) = match memchr(buf) {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if !too_long {
            if line.len() + take > max {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(&buf[..take]);
            }
        }
        reader.consume(take);
        if done {
            return Ok(if too_long { Line::TooLong } else { Line::Complete(line) });
        }
    }
}

fn memchr(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == b'\n')
}

/// A command line without its line end. A bare LF ends a command too: refusing it would gain
/// nothing (commands carry no message text) and old clients send it.
pub fn strip_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn long_lines_are_dropped_whole() {
        let input = b"short\r\nxxxxxxxxxxxxxxxxxxxx\r\nnext\r\npartial".to_vec();
        let mut r = tokio::io::BufReader::with_capacity(4, &input[..]);
        assert_eq!(read_line(&mut r, 10).await.unwrap(), Line::Complete(b"short\r\n".to_vec()));
        assert_eq!(read_line(&mut r, 10).await.unwrap(), Line::TooLong);
        assert_eq!(read_line(&mut r, 10).await.unwrap(), Line::Complete(b"next\r\n".to_vec()));
        assert_eq!(read_line(&mut r, 10).await.unwrap(), Line::Eof);
    }
}
