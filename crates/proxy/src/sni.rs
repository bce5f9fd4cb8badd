//! The server name a TLS client asks for (RFC 8446 §4.1.2, RFC 6066 §3), read from the first
//! record of a `CONNECT` tunnel so that an undecrypted tunnel is filtered by the name the
//! browser really wants, not only by the `CONNECT` host.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SniError {
    #[error("more bytes are needed ({0} at least)")]
    Incomplete(usize),
    #[error("not a TLS handshake record")]
    NotTls,
    #[error("malformed ClientHello: {0}")]
    Malformed(&'static str),
}

/// The first TLS record's length in full (header included), once its header is there.
pub fn record_len(buf: &[u8]) -> Result<usize, SniError> {
    if buf.len() < 5 {
        return Err(SniError::Incomplete(5));
    }
    if buf[0] != 0x16 || buf[1] != 3 {
        return Err(SniError::NotTls);
    }
    Ok(5 + u16::from_be_bytes([buf[3], buf[4]]) as usize)
}

/// The server name of the ClientHello at the start of `buf`; `Ok(None)` when it names none.
pub fn server_name(buf: &[u8]) -> Result<Option<String>, SniError> {
    let len = record_len(buf)?;
    if buf.len() < len {
        return Err(SniError::Incomplete(len));
    }
    let mut r = Reader(&buf[5..len]);
    if r.u8()? != 1 {
        return Err(SniError::Malformed("the first handshake message is not a ClientHello"));
    }
    let body_len = r.u24()?;
    let mut hello = Reader(r.take(body_len).map_err(|_| SniError::Malformed("a ClientHello split over records"))?);
    hello.take(2 + 32)?; // version, random
    let sid = hello.u8()? as usize;
    hello.take(sid)?;
    let suites = hello.u16()? as usize;
    hello.take(suites)?;
    let compression = hello.u8()? as usize;
    hello.take(compression)?;
    if hello.0.is_empty() {
        return Ok(None);
    }
    let ext_len = hello.u16()? as usize;
    let mut exts = Reader(hello.take(ext_len)?);
    while !exts.0.is_empty() {
        let kind = exts.u16()?;
        let len = exts.u16()? as usize;
        let data = exts.take(len)?;
        if kind != 0 {
            continue;
        }
        let mut list = Reader(data);
        let list_len = list.u16()? as usize;
        let mut names = Reader(list.take(list_len)?);
        while !names.0.is_empty() {
            let name_type = names.u8()?;
            let n = names.u16()? as usize;
            let name = names.take(n)?;
            if name_type == 0 {
                let s = std::str::from_utf8(name).map_err(|_| SniError::Malformed("a server name that is not text"))?;
                return Ok(Some(s.to_ascii_lowercase()));
            }
        }
    }
    Ok(None)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SniError> {
        if self.0.len() < n {
            return Err(SniError::Malformed("a length beyond the end"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, SniError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, SniError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u24(&mut self) -> Result<usize, SniError> {
        let b = self.take(3)?;
        Ok((b[0] as usize) << 16 | (b[1] as usize) << 8 | b[2] as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ClientHello naming `name`.
    pub(crate) fn client_hello(name: &str) -> Vec<u8> {
        let n = name.as_bytes();
        let mut sni = vec![0, 0];
        sni.extend(((n.len() + 5) as u16).to_be_bytes());
        sni.extend(((n.len() + 3) as u16).to_be_bytes());
        sni.push(0);
        sni.extend((n.len() as u16).to_be_bytes());
        sni.extend(n);
        let mut body = vec![3, 3];
        body.extend([7u8; 32]);
        body.push(0);
        body.extend([0, 2, 0x13, 0x01]);
        body.extend([1, 0]);
        body.extend((sni.len() as u16).to_be_bytes());
        body.extend(sni);
        let mut hs = vec![1, 0];
        hs.extend((body.len() as u16).to_be_bytes());
        hs.extend(body);
        let mut rec = vec![0x16, 3, 1];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    #[test]
    fn reads_the_server_name() {
        let hello = client_hello("Www.Example.JP");
        assert_eq!(server_name(&hello), Ok(Some("www.example.jp".into())));
        assert_eq!(server_name(&hello[..10]), Err(SniError::Incomplete(hello.len())));
        assert_eq!(server_name(b"GET / HTTP/1.1\r\n"), Err(SniError::NotTls));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let hello = client_hello("a.example");
        for cut in 0..hello.len() {
            let mut h = hello[..cut].to_vec();
            if h.len() >= 5 {
                let l = (h.len() - 5) as u16;
                h[3..5].copy_from_slice(&l.to_be_bytes());
            }
            assert!(server_name(&h).is_err() || server_name(&h) == Ok(None), "cut at {cut}");
        }
    }
}
