//! RFC 6587 framing of syslog over TCP and TLS: an incremental decoder that finds message
//! boundaries in a byte stream.
//!
//! Each frame is recognised on its own, because relays and appliances mix the two methods:
//! - octet counting, `MSG-LEN SP SYSLOG-MSG` (always used by RFC 5425 TLS senders): a frame
//!   that starts with a non-zero digit, digits, a space and then `<`;
//! - non-transparent framing: a frame ending in LF, CRLF or NUL (the "traditional" method).
//!
//! Memory is bounded: the decoder holds at most `limit` bytes of the current frame (plus a few
//! bytes of length prefix). Beyond that, bytes are counted and discarded; the frame comes out
//! cut to the limit with its real length, so the parser can flag it. Blank lines between frames
//! are skipped.

/// How a frame was delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    OctetCounting,
    NonTransparent,
}

/// One message from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The message, without length prefix or terminator, at most `limit` bytes.
    pub data: Vec<u8>,
    /// The length of the message as the sender meant it: the announced MSG-LEN for octet
    /// counting, the bytes before the terminator otherwise.
    pub original_len: usize,
    /// The bytes of the message that actually arrived (less than `original_len` only when the
    /// stream ended inside an octet-counted frame).
    pub received_len: usize,
    /// The stream ended before the announced length was reached.
    pub incomplete: bool,
    pub framing: Framing,
}

impl Frame {
    /// Whether the decoder cut the data to its limit.
    pub fn is_truncated(&self) -> bool {
        self.received_len > self.data.len()
    }
}

/// The longest MSG-LEN accepted, in digits; a longer digit run is taken as the start of a
/// non-transparent frame.
const MAX_LEN_DIGITS: u8 = 9;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between frames.
    Start,
    /// Reading a MSG-LEN; its digits are also kept in `buf` in case this is not octet counting.
    Count { len: usize, digits: u8 },
    /// Read `MSG-LEN SP`; the next byte decides.
    CountSpace { len: usize },
    /// Inside an octet-counted frame.
    Octets { remaining: usize, total: usize },
    /// Inside a non-transparent frame.
    Line,
}

/// The incremental decoder; one per connection.
#[derive(Debug)]
pub struct FrameDecoder {
    limit: usize,
    state: State,
    buf: Vec<u8>,
    /// Bytes of the current frame seen, kept or not.
    received: usize,
    /// The last byte of the current non-transparent frame (to drop the CR of CRLF).
    last: u8,
}

impl FrameDecoder {
    /// A decoder keeping at most `limit` bytes of each frame.
    pub fn new(limit: usize) -> Self {
        FrameDecoder { limit, state: State::Start, buf: Vec::new(), received: 0, last: 0 }
    }

    /// Bytes currently held for an unfinished frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Feeds bytes from the stream; complete frames are appended to `out`.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<Frame>) {
        let mut i = 0;
        while i < input.len() {
            let byte = input[i];
            match self.state {
                State::Start => {
                    if matches!(byte, b'\n' | b'\r' | b'\0') {
                        i += 1;
                    } else if (b'1'..=b'9').contains(&byte) {
                        self.buf.push(byte);
                        self.state = State::Count { len: usize::from(byte - b'0'), digits: 1 };
                        i += 1;
                    } else {
                        self.begin_line();
                    }
                }
                State::Count { len, digits } => {
                    if byte.is_ascii_digit() && digits < MAX_LEN_DIGITS {
                        self.buf.push(byte);
                        self.state = State::Count { len: len * 10 + usize::from(byte - b'0'), digits: digits + 1 };
                        i += 1;
                    } else if byte == b' ' {
                        self.buf.push(byte);
                        self.state = State::CountSpace { len };
                        i += 1;
                    } else {
                        self.begin_line();
                    }
                }
                State::CountSpace { len } => {
                    if byte == b'<' {
                        self.buf.clear();
                        self.received = 0;
                        self.state = State::Octets { remaining: len, total: len };
                    } else {
                        self.begin_line();
                    }
                }
                State::Octets { remaining, total } => {
                    let take = remaining.min(input.len() - i);
                    self.keep(&input[i..i + take]);
                    i += take;
                    let remaining = remaining - take;
                    if remaining == 0 {
                        out.push(self.finish_frame(total, false, Framing::OctetCounting));
                    } else {
                        self.state = State::Octets { remaining, total };
                    }
                }
                State::Line => {
                    let rest = &input[i..];
                    match memchr::memchr2(b'\n', b'\0', rest) {
                        Some(end) => {
                            self.keep(&rest[..end]);
                            i += end + 1;
                            self.end_line(out);
                        }
                        None => {
                            self.keep(rest);
                            i = input.len();
                        }
                    }
                }
            }
        }
    }

    /// The stream has ended: whatever is pending becomes a last frame.
    pub fn finish(&mut self, out: &mut Vec<Frame>) {
        match self.state {
            State::Start => {}
            State::Count { .. } | State::CountSpace { .. } | State::Line => {
                if self.state != State::Line {
                    self.begin_line();
                }
                self.end_line(out);
            }
            State::Octets { total, .. } => {
                out.push(self.finish_frame(total, true, Framing::OctetCounting));
            }
        }
    }

    /// Switches to a non-transparent frame; bytes already in `buf` (a digit run) belong to it.
    fn begin_line(&mut self) {
        self.received = self.buf.len();
        self.last = self.buf.last().copied().unwrap_or(0);
        // The digit run may already be longer than a (tiny) limit.
        self.buf.truncate(self.limit);
        self.state = State::Line;
    }

    /// Keeps as much of `bytes` as the limit allows and counts all of it.
    fn keep(&mut self, bytes: &[u8]) {
        let room = self.limit.saturating_sub(self.buf.len());
        self.buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.received += bytes.len();
        if let Some(&b) = bytes.last() {
            self.last = b;
        }
    }

    /// Ends a non-transparent frame: drops the CR of CRLF, skips frames of only spaces/tabs.
    fn end_line(&mut self, out: &mut Vec<Frame>) {
        if self.last == b'\r' {
            self.received -= 1;
            if self.buf.len() > self.received {
                self.buf.pop();
            }
        }
        let blank = self.received == self.buf.len() && self.buf.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
        let total = self.received;
        let frame = self.finish_frame(total, false, Framing::NonTransparent);
        if !blank {
            out.push(frame);
        }
    }

    fn finish_frame(&mut self, total: usize, incomplete: bool, framing: Framing) -> Frame {
        let frame = Frame {
            data: std::mem::take(&mut self.buf),
            original_len: total,
            received_len: self.received,
            incomplete,
            framing,
        };
        self.state = State::Start;
        self.received = 0;
        self.last = 0;
        frame
    }
}

#[cfg(test)]
#[path = "framing_tests.rs"]
mod tests;
