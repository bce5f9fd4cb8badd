//! ARJ archives: a main header, then for each file a local header and its data, stored
//! (method 0), compressed with ARJ's LZ77 and Huffman coding (methods 1 to 3, one decoder)
//! or with its faster LZ77 and variable-length codes (method 4). Garbled (password) members
//! cannot be read and are reported as such.

use super::{Flow, Member, Visitor, le_u16, le_u32};
use crate::limits::ReadError;

pub const MAGIC: [u8; 2] = [0x60, 0xea];
/// Largest basic header ARJ writes (ClamAV's bound).
const MAX_HEADER: usize = 30 + 10 + 512 + 2048;
const GARBLED: u8 = 0x01;

/// Whether `data` starts like an ARJ archive: the marker and a plausible main header.
pub fn is_arj(data: &[u8]) -> bool {
    data.starts_with(&MAGIC)
        && le_u16(data, 2).is_some_and(|size| (30..=MAX_HEADER as u16).contains(&size))
        && data.get(4).is_some_and(|&first| first >= 30)
}

fn malformed(why: &str) -> ReadError {
    ReadError::Malformed(format!("ARJ: {why}"))
}

struct Header<'a> {
    flags: u8,
    method: u8,
    compressed: usize,
    original: usize,
    name: String,
    /// Offset of what follows the header (data, for a file header).
    end: usize,
    _fixed: &'a [u8],
}

/// Reads the header at `pos`; `None` at the end-of-archive header (size 0).
fn header(data: &[u8], pos: usize) -> Result<Option<Header<'_>>, ReadError> {
    if data.get(pos..pos + 2) != Some(&MAGIC[..]) {
        return Err(malformed("header marker missing"));
    }
    let size = le_u16(data, pos + 2).ok_or_else(|| malformed("truncated header"))? as usize;
    if size == 0 {
        return Ok(None);
    }
    if size > MAX_HEADER {
        return Err(malformed("header too large"));
    }
    let basic = data.get(pos + 4..pos + 4 + size).ok_or_else(|| malformed("truncated header"))?;
    let first = basic[0] as usize;
    if first < 30 || first > size {
        return Err(malformed("bad first header size"));
    }
    let fixed = &basic[..first];
    let rest = &basic[first..];
    let name_end = memchr::memchr(0, rest).ok_or_else(|| malformed("unterminated name"))?;
    let name = crate::names::decode_raw_name(&rest[..name_end]);
    // Header CRC, then extended headers (size, data, CRC) until a zero size.
    let mut end = pos + 4 + size + 4;
    loop {
        let extended = le_u16(data, end).ok_or_else(|| malformed("truncated extended header"))? as usize;
        end += 2;
        if extended == 0 {
            break;
        }
        end = end
            .checked_add(extended + 4)
            .filter(|&e| e <= data.len())
            .ok_or_else(|| malformed("truncated extended header"))?;
    }
    Ok(Some(Header {
        flags: fixed[4],
        method: fixed[5],
        compressed: le_u32(fixed, 12).unwrap_or(0) as usize,
        original: le_u32(fixed, 16).unwrap_or(0) as usize,
        name,
        end,
        _fixed: fixed,
    }))
}

pub fn extract(data: &[u8], visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let main = header(data, 0)?.ok_or_else(|| malformed("empty main header"))?;
    let mut pos = main.end;
    let mut count = 0u64;
    while pos < data.len() {
        let Some(file) = header(data, pos)? else { break };
        count += 1;
        if count > visitor.max_members() {
            return Err(ReadError::Limit(format!("more than {} files", visitor.max_members())));
        }
        let stored = file
            .end
            .checked_add(file.compressed)
            .and_then(|end| data.get(file.end..end))
            .ok_or_else(|| malformed("member data past the end"))?;
        pos = file.end + file.compressed;
        let name = file.name.clone();
        let member = if file.flags & GARBLED != 0 {
            Member::Unscannable { name, reason: "encrypted ARJ member (password), cannot be scanned".into() }
        } else if file.original as u64 > visitor.cap().max_bytes {
            Member::Failed {
                name,
                error: ReadError::Limit(format!("expands beyond {} bytes", visitor.cap().max_bytes)),
            }
        } else {
            let result = match file.method {
                0 => Ok(stored.to_vec()),
                1..=3 => decode(stored, file.original),
                4 => decode_fast(stored, file.original),
                other => Err(malformed(&format!("compression method {other}"))),
            };
            match result {
                Ok(out) => Member::file(name, out),
                Err(error) => Member::Failed { name, error },
            }
        };
        if visitor.member(member) == Flow::Stop {
            break;
        }
    }
    Ok(())
}

const DICTIONARY: usize = 26624;
const THRESHOLD: usize = 3;
const MAX_MATCH: usize = 256;
const NC: usize = 255 + MAX_MATCH + 2 - THRESHOLD;
const NP: usize = 16 + 1;
const NT: usize = 16 + 3;
const NPT: usize = NT;
const CBIT: u32 = 9;
const TBIT: u32 = 5;
const PBIT: u32 = 4 + 1;
const CTABLE: usize = 4096;
const PTABLE: usize = 256;

/// ARJ's bit reader: a 16-bit window refilled a byte at a time; past the compressed data
/// it reads zeros, as the original does.
struct Bits<'a> {
    input: &'a [u8],
    at: usize,
    buf: u16,
    sub: u8,
    count: u32,
    /// Method 4's second-level buffer.
    get_len: i32,
    get_buf: u16,
}

impl<'a> Bits<'a> {
    fn new(input: &'a [u8]) -> Self {
        let mut bits = Bits { input, at: 0, buf: 0, sub: 0, count: 0, get_len: 0, get_buf: 0 };
        bits.fill(16);
        bits
    }

    fn fill(&mut self, mut n: u32) {
        self.buf = ((self.buf as u32) << n) as u16;
        while n > self.count {
            n -= self.count;
            self.buf |= ((self.sub as u32) << n) as u16;
            self.sub = self.input.get(self.at).copied().unwrap_or(0);
            self.at += 1;
            self.count = 8;
        }
        self.count -= n;
        self.buf |= ((self.sub as u32) >> self.count) as u16;
    }

    fn get(&mut self, n: u32) -> u16 {
        let value = if n == 0 { 0 } else { self.buf >> (16 - n) };
        self.fill(n);
        value
    }

    /// Reading far past the input means the stream is broken (it would decode zeros forever).
    fn exhausted(&self) -> bool {
        self.at > self.input.len() + 8
    }

    // Method 4.
    fn refill(&mut self) {
        self.get_buf |= self.buf >> self.get_len;
        self.fill((16 - self.get_len) as u32);
        self.get_len = 16;
    }

    fn bit(&mut self) -> u16 {
        if self.get_len <= 0 {
            self.refill();
        }
        let bit = u16::from(self.get_buf & 0x8000 != 0);
        self.get_buf <<= 1;
        self.get_len -= 1;
        bit
    }

    fn bits(&mut self, n: u32) -> u16 {
        if self.get_len < n as i32 {
            self.refill();
        }
        let value = self.get_buf >> (16 - n);
        self.get_buf = ((self.get_buf as u32) << n) as u16;
        self.get_len -= n as i32;
        value
    }
}

struct Tables {
    left: Vec<u16>,
    right: Vec<u16>,
    c_len: [u8; NC],
    c_table: Vec<u16>,
    pt_len: [u8; NPT],
    pt_table: [u16; PTABLE],
}

fn corrupt() -> ReadError {
    malformed("corrupt compressed data")
}

impl Tables {
    fn new() -> Self {
        Tables {
            left: vec![0; 2 * NC - 1],
            right: vec![0; 2 * NC - 1],
            c_len: [0; NC],
            c_table: vec![0; CTABLE],
            pt_len: [0; NPT],
            pt_table: [0; PTABLE],
        }
    }

    /// Builds a lookup table of `table_bits` bits (and a tree for longer codes).
    fn make_table(&mut self, which: Which, table_bits: u32) -> Result<(), ReadError> {
        let lengths: Vec<u8> = match which {
            Which::C => self.c_len.to_vec(),
            Which::Pt(n) => self.pt_len[..n].to_vec(),
        };
        let mut count = [0u32; 17];
        for &len in &lengths {
            if len >= 17 {
                return Err(corrupt());
            }
            count[len as usize] += 1;
        }
        let mut start = [0u32; 18];
        for i in 1..=16 {
            start[i + 1] = start[i] + (count[i] << (16 - i));
        }
        if start[17] != 1 << 16 {
            return Err(corrupt());
        }
        let jut = 16 - table_bits;
        let mut weight = [0u32; 17];
        for i in 1..=16usize {
            if i as u32 <= table_bits {
                start[i] >>= jut;
                weight[i] = 1 << (table_bits - i as u32);
            } else {
                weight[i] = 1 << (16 - i);
            }
        }
        let table_size = match which {
            Which::C => CTABLE,
            Which::Pt(_) => PTABLE,
        };
        let table: &mut [u16] = match which {
            Which::C => &mut self.c_table,
            Which::Pt(_) => &mut self.pt_table,
        };
        let mut i = (start[table_bits as usize + 1] >> jut) as usize;
        if i != 1 << 16 {
            let k = 1usize << table_bits;
            while i != k {
                *table.get_mut(i).ok_or_else(corrupt)? = 0;
                i += 1;
            }
        }
        let mut avail = lengths.len();
        let mask = 1u32 << (15 - table_bits);
        for (ch, &len) in lengths.iter().enumerate() {
            let len = len as usize;
            if len == 0 {
                continue;
            }
            let k = start[len];
            let next = k + weight[len];
            if len as u32 <= table_bits {
                if next as usize > table_size {
                    return Err(corrupt());
                }
                for slot in &mut table[k as usize..next as usize] {
                    *slot = ch as u16;
                }
            } else {
                // Walk (and grow) the tree below the table entry.
                enum Slot {
                    Table(usize),
                    Left(usize),
                    Right(usize),
                }
                let mut slot = Slot::Table((k >> jut) as usize);
                let mut code = k;
                for _ in 0..(len as u32 - table_bits) {
                    let mut node = match slot {
                        Slot::Table(at) => *table.get(at).ok_or_else(corrupt)?,
                        Slot::Left(at) => self.left[at],
                        Slot::Right(at) => self.right[at],
                    } as usize;
                    if node == 0 {
                        if avail >= 2 * NC - 1 {
                            return Err(corrupt());
                        }
                        self.left[avail] = 0;
                        self.right[avail] = 0;
                        match slot {
                            Slot::Table(at) => table[at] = avail as u16,
                            Slot::Left(at) => self.left[at] = avail as u16,
                            Slot::Right(at) => self.right[at] = avail as u16,
                        }
                        node = avail;
                        avail += 1;
                    }
                    if node >= 2 * NC - 1 {
                        return Err(corrupt());
                    }
                    slot = if code & mask != 0 { Slot::Right(node) } else { Slot::Left(node) };
                    code <<= 1;
                }
                match slot {
                    Slot::Table(at) => *table.get_mut(at).ok_or_else(corrupt)? = ch as u16,
                    Slot::Left(at) => self.left[at] = ch as u16,
                    Slot::Right(at) => self.right[at] = ch as u16,
                }
            }
            start[len] = next;
        }
        Ok(())
    }

    fn walk(&self, mut j: u16, limit: usize, bits: &Bits, mut mask: u16) -> Result<u16, ReadError> {
        while j as usize >= limit {
            if j as usize >= 2 * NC - 1 || mask == 0 {
                return Err(corrupt());
            }
            j = if bits.buf & mask != 0 { self.right[j as usize] } else { self.left[j as usize] };
            mask >>= 1;
        }
        Ok(j)
    }

    fn read_pt_len(&mut self, bits: &mut Bits, nn: usize, nbit: u32, special: Option<usize>) -> Result<(), ReadError> {
        let n = bits.get(nbit) as usize;
        if n == 0 {
            let c = bits.get(nbit);
            self.pt_len[..nn].fill(0);
            self.pt_table.fill(c);
            return Ok(());
        }
        let mut i = 0;
        while i < n && i < NPT {
            let mut c = (bits.buf >> 13) as u32;
            if c == 7 {
                let mut mask = 1u16 << 12;
                while mask != 0 && mask & bits.buf != 0 {
                    mask >>= 1;
                    c += 1;
                }
            }
            bits.fill(if c < 7 { 3 } else { c - 3 });
            // Lengths over 16 are rejected by make_table, for the codes it builds.
            self.pt_len[i] = c as u8;
            i += 1;
            if Some(i) == special {
                let zeros = bits.get(2);
                for _ in 0..zeros {
                    if i >= NPT {
                        break;
                    }
                    self.pt_len[i] = 0;
                    i += 1;
                }
            }
        }
        while i < nn && i < NPT {
            self.pt_len[i] = 0;
            i += 1;
        }
        self.make_table(Which::Pt(nn), 8)
    }

    fn read_c_len(&mut self, bits: &mut Bits) -> Result<(), ReadError> {
        let n = bits.get(CBIT) as usize;
        if n == 0 {
            let c = bits.get(CBIT);
            self.c_len.fill(0);
            self.c_table.fill(c);
            return Ok(());
        }
        let mut i = 0;
        while i < n {
            let c = self.walk(self.pt_table[(bits.buf >> 8) as usize], NT, bits, 1 << 7)? as usize;
            if c >= NT {
                return Err(corrupt());
            }
            bits.fill(self.pt_len[c] as u32);
            if c <= 2 {
                let zeros = match c {
                    0 => 1,
                    1 => bits.get(4) as usize + 3,
                    _ => bits.get(CBIT) as usize + 20,
                };
                for _ in 0..zeros {
                    *self.c_len.get_mut(i).ok_or_else(corrupt)? = 0;
                    i += 1;
                }
            } else {
                *self.c_len.get_mut(i).ok_or_else(corrupt)? = (c - 2) as u8;
                i += 1;
            }
        }
        self.c_len[i.min(NC)..].fill(0);
        self.make_table(Which::C, 12)
    }
}

#[derive(Clone, Copy)]
enum Which {
    C,
    Pt(usize),
}

/// Methods 1 to 3.
fn decode(input: &[u8], original: usize) -> Result<Vec<u8>, ReadError> {
    let mut bits = Bits::new(input);
    let mut tables = Tables::new();
    let mut out: Vec<u8> = Vec::with_capacity(original.min(input.len().saturating_mul(64)));
    let mut block = 0u16;
    while out.len() < original {
        if bits.exhausted() {
            return Err(malformed("compressed data ends early"));
        }
        if block == 0 {
            block = bits.get(16);
            tables.read_pt_len(&mut bits, NT, TBIT, Some(3))?;
            tables.read_c_len(&mut bits)?;
            tables.read_pt_len(&mut bits, NP, PBIT, None)?;
        }
        block = block.wrapping_sub(1);
        let c = tables.walk(tables.c_table[(bits.buf >> 4) as usize], NC, &bits, 1 << 3)? as usize;
        if c >= NC {
            return Err(corrupt());
        }
        bits.fill(tables.c_len[c] as u32);
        if c <= 255 {
            out.push(c as u8);
            continue;
        }
        let length = c - (255 + 1 - THRESHOLD);
        let p = tables.walk(tables.pt_table[(bits.buf >> 8) as usize], NP, &bits, 1 << 7)? as usize;
        if p >= NPT {
            return Err(corrupt());
        }
        bits.fill(tables.pt_len[p] as u32);
        let distance = if p == 0 { 0 } else { (1usize << (p - 1)) + bits.get(p as u32 - 1) as usize } + 1;
        copy_match(&mut out, distance, length, original)?;
    }
    out.truncate(original);
    Ok(out)
}

/// Method 4.
fn decode_fast(input: &[u8], original: usize) -> Result<Vec<u8>, ReadError> {
    let mut bits = Bits::new(input);
    let mut out: Vec<u8> = Vec::with_capacity(original.min(input.len().saturating_mul(64)));
    while out.len() < original {
        if bits.exhausted() {
            return Err(malformed("compressed data ends early"));
        }
        let length = variable(&mut bits, 0, 7);
        if length == 0 {
            out.push(bits.bits(8) as u8);
            continue;
        }
        let distance = variable(&mut bits, 9, 13) as usize + 1;
        copy_match(&mut out, distance, length as usize - 1 + THRESHOLD, original)?;
    }
    out.truncate(original);
    Ok(out)
}

/// Method 4's codes: unary prefix of up to `stop - start` ones, then that many more bits.
fn variable(bits: &mut Bits, start: u32, stop: u32) -> u16 {
    let mut plus = 0u32;
    let mut power = 1u32 << start;
    let mut width = start;
    while width < stop {
        if bits.bit() == 0 {
            break;
        }
        plus += power;
        power <<= 1;
        width += 1;
    }
    let value = if width != 0 { bits.bits(width) as u32 } else { 0 };
    (value + plus) as u16
}

fn copy_match(out: &mut Vec<u8>, distance: usize, length: usize, original: usize) -> Result<(), ReadError> {
    if distance > out.len() || distance > DICTIONARY {
        return Err(corrupt());
    }
    let from = out.len() - distance;
    for i in 0..length.min(original.saturating_sub(out.len())) {
        out.push(out[from + i]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::test_support::Collect;

    fn basic_header(method: u8, flags: u8, compressed: usize, original: usize, name: &str) -> Vec<u8> {
        let mut fixed = vec![30u8, 11, 1, 2, flags, method, 0, 0];
        fixed.extend_from_slice(&0u32.to_le_bytes());
        fixed.extend_from_slice(&(compressed as u32).to_le_bytes());
        fixed.extend_from_slice(&(original as u32).to_le_bytes());
        fixed.extend_from_slice(&[0; 10]);
        fixed.extend_from_slice(name.as_bytes());
        fixed.extend_from_slice(&[0, 0]);
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&(fixed.len() as u16).to_le_bytes());
        header.extend_from_slice(&fixed);
        header.extend_from_slice(&[0; 4]);
        header.extend_from_slice(&[0, 0]);
        header
    }

    fn archive(members: &[(u8, u8, &[u8], usize, &str)]) -> Vec<u8> {
        let mut data = basic_header(2, 0, 0, 0, "test.arj");
        for &(method, flags, stored, original, name) in members {
            data.extend(basic_header(method, flags, stored.len(), original, name));
            data.extend_from_slice(stored);
        }
        data.extend_from_slice(&MAGIC);
        data.extend_from_slice(&[0, 0]);
        data
    }

    #[test]
    fn stored_and_garbled_members() {
        let data = archive(&[(0, 0, b"hello arj", 9, "a.txt"), (1, GARBLED, b"xxxx", 10, "b.txt")]);
        assert!(is_arj(&data));
        let mut visitor = Collect::default();
        extract(&data, &mut visitor).unwrap();
        assert_eq!(visitor.0, vec![("a.txt".to_string(), b"hello arj".to_vec())]);
        assert!(visitor.1[0].contains("encrypted"));
    }

    #[test]
    fn method_four_literals_and_match() {
        // length code 0 + 8-bit literal; then a match: length code 1 ("10" + 1 bit), distance.
        let mut bits = String::new();
        for &c in b"ab" {
            bits += "0";
            bits += &format!("{c:08b}");
        }
        // Length: one 1 bit then a 0 bit -> width 1, plus 1, then 1 bit value 0 => 1 -> copy 3.
        bits += "10";
        bits += "0";
        // Distance: a 0 bit at width 9 -> 9 bits of value 1 => distance 2.
        bits += "0";
        bits += &format!("{:09b}", 1);
        while !bits.len().is_multiple_of(8) {
            bits.push('0');
        }
        let stream: Vec<u8> = bits
            .as_bytes()
            .chunks(8)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap())
            .collect();
        assert_eq!(decode_fast(&stream, 5).unwrap(), b"ababa");
    }

    #[test]
    fn truncated_and_garbage_input_is_an_error_not_a_panic() {
        let data = archive(&[(0, 0, b"hello arj", 9, "a.txt")]);
        for cut in 0..data.len() {
            let mut visitor = Collect::default();
            let _ = extract(&data[..cut], &mut visitor);
        }
        for seed in 0..200u32 {
            let noise: Vec<u8> =
                (0..96u32).map(|i| (i.wrapping_mul(seed.wrapping_mul(2654435761) | 1) >> 7) as u8).collect();
            let _ = decode(&noise, 4000);
            let _ = decode_fast(&noise, 4000);
        }
        assert!(decode(&[], 100).is_err());
    }
}
