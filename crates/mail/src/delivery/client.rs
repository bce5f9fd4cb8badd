//! The SMTP client that hands messages to next hops and MX hosts (RFC 5321 §3, §4.5.2 dot
//! stuffing), with opportunistic STARTTLS (RFC 3207).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

/// An answer of the remote server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub code: u16,
    pub text: String,
}

impl Answer {
    fn local(code: u16, text: impl Into<String>) -> Answer {
        Answer { code, text: text.into() }
    }

    pub fn is_ok(&self) -> bool {
        (200..400).contains(&self.code)
    }

    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }

    /// The RFC 3463 code in the text when the server gave one, else one derived from the code.
    pub fn status(&self) -> String {
        let first = self.text.split_whitespace().next().unwrap_or("");
        let parts: Vec<&str> = first.split('.').collect();
        if parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
            return first.to_string();
        }
        format!("{}.0.0", self.code / 100)
    }
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.text)
    }
}

/// One message for one host: who from, to whom, what.
pub struct Job<'a> {
    pub helo: &'a str,
    pub sender: &'a str,
    pub recipients: &'a [String],
    pub text: &'a [u8],
    pub eight_bit: bool,
    pub smtputf8: bool,
}

/// The result of one attempt at one host.
#[derive(Debug)]
pub enum HostResult {
    /// The host answered: one answer per recipient (in order).
    Answered { tls: bool, answers: Vec<Answer> },
    /// The host could not be used (connection, greeting, TLS); try the next one.
    Unusable(Answer),
}

pub struct Client {
    pub tls: Arc<rustls::ClientConfig>,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
}

impl Client {
    pub async fn deliver(&self, addr: SocketAddr, host_name: &str, job: &Job<'_>) -> HostResult {
        let stream = match tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                return HostResult::Unusable(Answer::local(421, format!("4.4.1 cannot connect to {addr}: {e}")));
            }
            Err(_) => return HostResult::Unusable(Answer::local(421, format!("4.4.1 connection to {addr} timed out"))),
        };
        let mut io = BufReader::new(stream);
        let greeting = self.read(&mut io).await;
        if greeting.code != 220 {
            return HostResult::Unusable(greeting);
        }
        let ehlo = self.command(&mut io, &format!("EHLO {}\r\n", job.helo)).await;
        if !ehlo.is_ok() {
            let helo = self.command(&mut io, &format!("HELO {}\r\n", job.helo)).await;
            if !helo.is_ok() {
                return HostResult::Unusable(helo);
            }
            return self.transact(&mut io, &Extensions::default(), job, false).await;
        }
        let ext = Extensions::from(&ehlo.text);
        if !ext.starttls {
            return self.transact(&mut io, &ext, job, false).await;
        }
        let answer = self.command(&mut io, "STARTTLS\r\n").await;
        if answer.code != 220 {
            return self.transact(&mut io, &ext, job, false).await;
        }
        let name = rustls::pki_types::ServerName::try_from(host_name.to_string())
            .unwrap_or_else(|_| rustls::pki_types::ServerName::IpAddress(addr.ip().into()));
        let connector = tokio_rustls::TlsConnector::from(self.tls.clone());
        let tls = match tokio::time::timeout(self.command_timeout, connector.connect(name, io.into_inner())).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                return HostResult::Unusable(Answer::local(
                    421,
                    format!("4.7.5 TLS handshake with {addr} failed: {e}"),
                ));
            }
            Err(_) => {
                return HostResult::Unusable(Answer::local(421, format!("4.7.5 TLS handshake with {addr} timed out")));
            }
        };
        let mut io = BufReader::new(tls);
        let ehlo = self.command(&mut io, &format!("EHLO {}\r\n", job.helo)).await;
        if !ehlo.is_ok() {
            return HostResult::Unusable(ehlo);
        }
        self.transact(&mut io, &Extensions::from(&ehlo.text), job, true).await
    }

    async fn transact<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: &mut BufReader<S>,
        ext: &Extensions,
        job: &Job<'_>,
        tls: bool,
    ) -> HostResult {
        let all = |a: &Answer| HostResult::Answered { tls, answers: vec![a.clone(); job.recipients.len()] };
        if job.smtputf8 && !ext.smtputf8 {
            return all(&Answer::local(553, "5.6.7 the next hop does not support SMTPUTF8 (RFC 6531)"));
        }
        let mut mail = format!("MAIL FROM:<{}>", job.sender);
        if job.eight_bit && ext.eight_bit_mime {
            mail.push_str(" BODY=8BITMIME");
        }
        if job.smtputf8 {
            mail.push_str(" SMTPUTF8");
        }
        if ext.size {
            mail.push_str(&format!(" SIZE={}", job.text.len()));
        }
        mail.push_str("\r\n");
        let answer = self.command(io, &mail).await;
        if !answer.is_ok() {
            return all(&answer);
        }
        let mut answers = Vec::with_capacity(job.recipients.len());
        for r in job.recipients {
            answers.push(self.command(io, &format!("RCPT TO:<{r}>\r\n")).await);
        }
        if !answers.iter().any(Answer::is_ok) {
            let _ = self.command(io, "QUIT\r\n").await;
            return HostResult::Answered { tls, answers };
        }
        let go = self.command(io, "DATA\r\n").await;
        let final_answer = if go.code != 354 {
            go
        } else {
            match self.send_text(io, job.text).await {
                Ok(()) => self.read(io).await,
                Err(e) => Answer::local(451, format!("4.4.2 connection lost while sending: {e}")),
            }
        };
        let _ = self.command(io, "QUIT\r\n").await;
        for a in answers.iter_mut() {
            if a.is_ok() {
                *a = final_answer.clone();
            }
        }
        HostResult::Answered { tls, answers }
    }

    /// Sends the message dot-stuffed, ending with `.` CRLF.
    async fn send_text<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: &mut BufReader<S>,
        text: &[u8],
    ) -> std::io::Result<()> {
        let mut out = Vec::with_capacity(text.len() + 64);
        let mut at_line_start = true;
        for &b in text {
            if at_line_start && b == b'.' {
                out.push(b'.');
            }
            out.push(b);
            at_line_start = b == b'\n';
        }
        if !text.ends_with(b"\r\n") {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
        let w = io.get_mut();
        tokio::time::timeout(self.command_timeout * 2, async {
            w.write_all(&out).await?;
            w.flush().await
        })
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
    }

    async fn command<S: AsyncRead + AsyncWrite + Unpin>(&self, io: &mut BufReader<S>, line: &str) -> Answer {
        let w = io.get_mut();
        let sent = tokio::time::timeout(self.command_timeout, async {
            w.write_all(line.as_bytes()).await?;
            w.flush().await
        })
        .await;
        match sent {
            Ok(Ok(())) => self.read(io).await,
            Ok(Err(e)) => Answer::local(421, format!("4.4.2 connection lost: {e}")),
            Err(_) => Answer::local(421, "4.4.2 timeout while sending a command"),
        }
    }

    /// Reads one (possibly multi-line) reply; its lines' texts joined by newlines.
    async fn read<S: AsyncRead + Unpin>(&self, io: &mut BufReader<S>) -> Answer {
        let mut text = String::new();
        loop {
            let mut line = Vec::new();
            let read = tokio::time::timeout(self.command_timeout, async {
                let mut limited = tokio::io::AsyncReadExt::take(&mut *io, 4096);
                limited.read_until(b'\n', &mut line).await
            })
            .await;
            match read {
                Err(_) => return Answer::local(421, "4.4.2 timeout waiting for the server"),
                Ok(Err(e)) => return Answer::local(421, format!("4.4.2 connection lost: {e}")),
                Ok(Ok(0)) => return Answer::local(421, "4.4.2 connection closed by the server"),
                Ok(Ok(_)) => {}
            }
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end();
            let code = line.get(..3).and_then(|c| c.parse::<u16>().ok()).filter(|c| (200..600).contains(c));
            let Some(code) = code else {
                return Answer::local(421, format!("4.5.0 bad reply from the server: {line}"));
            };
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(line.get(4..).unwrap_or(""));
            if line.as_bytes().get(3) != Some(&b'-') {
                return Answer { code, text };
            }
        }
    }
}

/// What the server's EHLO reply offers.
#[derive(Debug, Default)]
struct Extensions {
    starttls: bool,
    eight_bit_mime: bool,
    smtputf8: bool,
    size: bool,
}

impl Extensions {
    fn from(text: &str) -> Extensions {
        let mut e = Extensions::default();
        for line in text.lines().skip(1) {
            let kw = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            match kw.as_str() {
                "STARTTLS" => e.starttls = true,
                "8BITMIME" => e.eight_bit_mime = true,
                "SMTPUTF8" => e.smtputf8 = true,
                "SIZE" => e.size = true,
                _ => {}
            }
        }
        e
    }
}
