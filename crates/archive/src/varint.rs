//! LEB128 varints, zigzag, and a bounds-checked reader.
//!
//! Every read checks what remains before it takes anything, so a damaged input gives an error
//! naming the field being read instead of a panic or a huge allocation.

use crate::error::{Error, Result};

/// Appends `v` as an unsigned LEB128 varint (7 bits a byte, low bits first).
pub fn put_u64(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` as an unsigned LEB128 varint of up to 19 bytes.
pub fn put_u128(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The number of bytes `put_u64` writes for `v`.
pub fn len_u64(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Zigzag: small magnitudes of either sign become small unsigned numbers.
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

pub fn zigzag128(v: i128) -> u128 {
    ((v << 1) ^ (v >> 127)) as u128
}

pub fn unzigzag128(v: u128) -> i128 {
    ((v >> 1) as i128) ^ -((v & 1) as i128)
}

/// A cursor over a byte slice; `what` names the stream in error messages.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, pos: 0, what }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    fn short(&self, wanted: &str) -> Error {
        Error::damaged(format!(
            "{}: {wanted} runs past the end (offset {}, {} bytes)",
            self.what,
            self.pos,
            self.buf.len()
        ))
    }

    pub fn u8(&mut self) -> Result<u8> {
        let b = *self.buf.get(self.pos).ok_or_else(|| self.short("a byte"))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn u64(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8().map_err(|_| self.short("a varint"))?;
            if shift == 63 && b > 1 {
                return Err(Error::damaged(format!("{}: varint at offset {} overflows 64 bits", self.what, self.pos)));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Error::damaged(format!("{}: varint at offset {} is too long", self.what, self.pos)))
    }

    pub fn u128(&mut self) -> Result<u128> {
        let mut v: u128 = 0;
        for shift in (0..128).step_by(7) {
            let b = self.u8().map_err(|_| self.short("a varint"))?;
            if shift == 126 && b > 3 {
                return Err(Error::damaged(format!("{}: varint at offset {} overflows 128 bits", self.what, self.pos)));
            }
            v |= u128::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Error::damaged(format!("{}: varint at offset {} is too long", self.what, self.pos)))
    }

    /// A varint that is a count or length of something in this input: it cannot exceed what
    /// remains, which bounds every allocation by the input's size.
    pub fn len(&mut self, what: &str) -> Result<usize> {
        let v = self.u64()?;
        if v > self.remaining() as u64 {
            return Err(Error::damaged(format!(
                "{}: {what} {v} is more than the {} bytes left",
                self.what,
                self.remaining()
            )));
        }
        Ok(v as usize)
    }

    /// A varint that must fit in `u32` and be at most `max`.
    pub fn bounded(&mut self, max: u64, what: &str) -> Result<u64> {
        let v = self.u64()?;
        if v > max {
            return Err(Error::damaged(format!("{}: {what} {v} is larger than {max}", self.what)));
        }
        Ok(v)
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.short(&format!("{n} bytes")));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// The bytes up to the next `end` byte, which is consumed too.
    pub fn until(&mut self, end: u8) -> Result<&'a [u8]> {
        let rest = &self.buf[self.pos..];
        let n = memchr::memchr(end, rest)
            .ok_or_else(|| Error::damaged(format!("{}: no end marker after offset {}", self.what, self.pos)))?;
        self.pos += n + 1;
        Ok(&rest[..n])
    }

    /// The rest of the input.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        let values = [0u64, 1, 127, 128, 300, 16383, 16384, u32::MAX as u64, u64::MAX];
        for v in values {
            let mut b = Vec::new();
            put_u64(&mut b, v);
            assert_eq!(b.len(), len_u64(v));
            let mut r = Reader::new(&b, "t");
            assert_eq!(r.u64().unwrap(), v);
            assert!(r.is_empty());
        }
        for v in [0i128, -1, i128::MAX, i128::MIN, 1 << 90] {
            let mut b = Vec::new();
            put_u128(&mut b, zigzag128(v));
            assert_eq!(unzigzag128(Reader::new(&b, "t").u128().unwrap()), v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }

    #[test]
    fn damaged_varints_are_errors() {
        assert!(Reader::new(&[0x80], "t").u64().is_err());
        assert!(Reader::new(&[0xff; 11], "t").u64().is_err());
        assert!(Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02], "t").u64().is_err());
        assert!(Reader::new(&[0xff; 20], "t").u128().is_err());
        assert!(Reader::new(&[5, 1, 2], "t").len("length").is_err());
    }
}
