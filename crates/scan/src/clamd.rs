//! A second engine: a running clamd, asked over its socket with `zINSTREAM`, for the full
//! ClamAV coverage (unpackers, bytecode) this engine does not have.

use std::io::{Read, Write};
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum ClamdAddress {
    Unix(std::path::PathBuf),
    Tcp(String),
}

#[derive(Debug, Clone)]
pub struct Clamd {
    pub address: ClamdAddress,
    pub timeout: Duration,
}

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

impl Clamd {
    /// `unix:/run/clamav/clamd.ctl`, a path starting with `/`, or `host:port`.
    pub fn parse(address: &str) -> Clamd {
        let address = match address.strip_prefix("unix:") {
            Some(path) => ClamdAddress::Unix(path.into()),
            None if address.starts_with('/') => ClamdAddress::Unix(address.into()),
            None => ClamdAddress::Tcp(address.to_string()),
        };
        Clamd { address, timeout: Duration::from_secs(60) }
    }

    fn connect(&self) -> std::io::Result<Box<dyn Stream>> {
        match &self.address {
            ClamdAddress::Unix(path) => {
                let stream = std::os::unix::net::UnixStream::connect(path)?;
                stream.set_read_timeout(Some(self.timeout))?;
                stream.set_write_timeout(Some(self.timeout))?;
                Ok(Box::new(stream))
            }
            ClamdAddress::Tcp(address) => {
                let stream = std::net::TcpStream::connect(address)?;
                stream.set_read_timeout(Some(self.timeout))?;
                stream.set_write_timeout(Some(self.timeout))?;
                Ok(Box::new(stream))
            }
        }
    }

    /// `Ok(Some(name))` when clamd finds something, `Ok(None)` when clean.
    pub fn scan(&self, data: &[u8]) -> Result<Option<String>, String> {
        let mut stream = self.connect().map_err(|e| format!("cannot connect: {e}"))?;
        let mut send = || -> std::io::Result<()> {
            stream.write_all(b"zINSTREAM\0")?;
            for chunk in data.chunks(64 * 1024) {
                stream.write_all(&(chunk.len() as u32).to_be_bytes())?;
                stream.write_all(chunk)?;
            }
            stream.write_all(&0u32.to_be_bytes())?;
            stream.flush()
        };
        send().map_err(|e| format!("cannot send: {e}"))?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).map_err(|e| format!("no reply: {e}"))?;
        parse_reply(&String::from_utf8_lossy(&reply))
    }
}

/// `stream: OK`, `stream: Eicar-Test-Signature FOUND`, `INSTREAM size limit exceeded. ERROR`.
fn parse_reply(reply: &str) -> Result<Option<String>, String> {
    let reply = reply.trim_end_matches(['\0', '\n']).trim();
    if reply.ends_with(" OK") || reply == "stream: OK" {
        return Ok(None);
    }
    if let Some(found) = reply.strip_suffix(" FOUND") {
        let name = found.rsplit_once(": ").map_or(found, |(_, name)| name);
        return Ok(Some(name.to_string()));
    }
    Err(reply.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies() {
        assert_eq!(parse_reply("stream: OK\0"), Ok(None));
        assert_eq!(parse_reply("stream: Eicar-Test-Signature FOUND\0"), Ok(Some("Eicar-Test-Signature".into())));
        assert!(parse_reply("INSTREAM size limit exceeded. ERROR\0").is_err());
    }

    #[test]
    fn a_fake_clamd_over_tcp() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut command = [0u8; 10];
            socket.read_exact(&mut command).unwrap();
            assert_eq!(&command, b"zINSTREAM\0");
            let mut received = Vec::new();
            loop {
                let mut size = [0u8; 4];
                socket.read_exact(&mut size).unwrap();
                let size = u32::from_be_bytes(size) as usize;
                if size == 0 {
                    break;
                }
                let mut chunk = vec![0u8; size];
                socket.read_exact(&mut chunk).unwrap();
                received.extend(chunk);
            }
            let reply: &[u8] = if received == b"bad" { b"stream: Test.Bad FOUND\0" } else { b"stream: OK\0" };
            socket.write_all(reply).unwrap();
        });
        assert_eq!(Clamd::parse(&address).scan(b"bad"), Ok(Some("Test.Bad".into())));
        server.join().unwrap();
    }
}
