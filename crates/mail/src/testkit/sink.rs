//! An SMTP server that records what it receives and answers as told: the next hop and MX
//! host of delivery tests. Offers STARTTLS with a throwaway certificate when asked to.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;

/// One message as the sink got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
    pub tls: bool,
}

/// How the sink answers the next transactions: each entry is used once, then `250`.
#[derive(Debug, Clone)]
pub enum Script {
    /// Answer RCPT with this line (e.g. `450 4.2.0 try later`).
    Rcpt(String),
    /// Answer the end of DATA with this line.
    Data(String),
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    script: VecDeque<Script>,
    connections: usize,
}

#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl SmtpSink {
    pub async fn start(tls: bool) -> std::io::Result<SmtpSink> {
        Self::start_at("127.0.0.1:0".parse().expect("an address"), tls).await
    }

    pub async fn start_at(addr: SocketAddr, tls: bool) -> std::io::Result<SmtpSink> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let acceptor = if tls {
            let pair = rcgen::generate_simple_self_signed(vec!["localhost".into()]).map_err(std::io::Error::other)?;
            let key = rustls::pki_types::PrivateKeyDer::try_from(pair.signing_key.serialize_der())
                .map_err(std::io::Error::other)?;
            let config =
                rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                    .with_safe_default_protocol_versions()
                    .map_err(std::io::Error::other)?
                    .with_no_client_auth()
                    .with_single_cert(vec![pair.cert.der().clone()], key)
                    .map_err(std::io::Error::other)?;
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
        } else {
            None
        };
        let st = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                st.lock().unwrap().connections += 1;
                let (st, acceptor) = (st.clone(), acceptor.clone());
                tokio::spawn(async move {
                    let mut io = BufReader::new(stream);
                    if let Ok(Some(())) = session(&mut io, &st, acceptor.is_some(), false).await
                        && let Some(acceptor) = acceptor
                        && let Ok(tls) = acceptor.accept(io.into_inner()).await
                    {
                        let mut io = BufReader::new(tls);
                        let _ = session(&mut io, &st, false, true).await;
                    }
                });
            }
        });
        Ok(SmtpSink { addr, state })
    }

    pub fn push_script(&self, s: Script) {
        self.state.lock().unwrap().script.push_back(s);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    /// Waits until `n` messages arrived (or panics after `secs`).
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        for _ in 0..secs * 20 {
            let r = self.received();
            if r.len() >= n {
                return r;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the sink got {} messages, expected {n}", self.received().len());
    }
}

/// Returns `Some(())` when the client asked for STARTTLS.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    st: &Mutex<State>,
    offer_tls: bool,
    tls: bool,
) -> std::io::Result<Option<()>> {
    if !tls {
        io.get_mut().write_all(b"220 sink ESMTP\r\n").await?;
    }
    let (mut from, mut to) = (String::new(), Vec::new());
    loop {
        let mut line = String::new();
        if io.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let upper = line.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            let tls_line = if offer_tls { "250-STARTTLS\r\n" } else { "" };
            format!("250-sink\r\n{tls_line}250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 100000000\r\n")
        } else if upper.starts_with("STARTTLS") {
            io.get_mut().write_all(b"220 2.0.0 go ahead\r\n").await?;
            return Ok(Some(()));
        } else if upper.starts_with("MAIL FROM:") {
            from = between(&line);
            to.clear();
            "250 2.1.0 ok\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            let scripted = next_scripted(st, |s| matches!(s, Script::Rcpt(_)));
            match scripted {
                Some(r) => format!("{r}\r\n"),
                None => {
                    to.push(between(&line));
                    "250 2.1.5 ok\r\n".into()
                }
            }
        } else if upper.starts_with("DATA") {
            io.get_mut().write_all(b"354 go\r\n").await?;
            let mut data = Vec::new();
            loop {
                let mut l = Vec::new();
                if io.read_until(b'\n', &mut l).await? == 0 {
                    return Ok(None);
                }
                if l == b".\r\n" {
                    break;
                }
                data.extend_from_slice(l.strip_prefix(b".").unwrap_or(&l));
            }
            let scripted = next_scripted(st, |s| matches!(s, Script::Data(_)));
            match scripted {
                Some(r) => format!("{r}\r\n"),
                None => {
                    st.lock().unwrap().received.push(Received { from: from.clone(), to: to.clone(), data, tls });
                    "250 2.0.0 stored\r\n".into()
                }
            }
        } else if upper.starts_with("QUIT") {
            io.get_mut().write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(None);
        } else {
            "250 2.0.0 ok\r\n".into()
        };
        io.get_mut().write_all(reply.as_bytes()).await?;
    }
}

fn between(line: &str) -> String {
    match (line.find('<'), line.rfind('>')) {
        (Some(a), Some(b)) if b > a => line[a + 1..b].to_string(),
        _ => String::new(),
    }
}

/// The reply the script holds next for this step (`is_step` says which), taken off the script.
fn next_scripted(st: &Mutex<State>, is_step: impl Fn(&Script) -> bool) -> Option<String> {
    let mut s = st.lock().unwrap();
    if !s.script.front().is_some_and(is_step) {
        return None;
    }
    match s.script.pop_front()? {
        Script::Rcpt(r) | Script::Data(r) => Some(r),
    }
}
