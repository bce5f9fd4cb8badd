//! AutoIt v3 compiled scripts (`AU3!EA05`, `AU3!EA06`), appended to the AutoIt interpreter:
//! the script and every file it installs (`FileInstall`), each encrypted (EA05 with a
//! Mersenne Twister key stream, EA06 with the "LAME" lagged generator) and usually
//! compressed with AutoIt's LZSS. Members are `autoit/001`, `autoit/002`, ...; the EA06
//! script is handed over tokenized, as stored (its strings are plain UTF-16 there).

use super::{Flow, Member, Visitor, le_u32};
use crate::limits::ReadError;

const MARKER: &[u8] = b"AU3!EA0";
const EA05_FILE: u32 = 0xceb0_6dff;
const EA06_FILE: u32 = 0x52ca_436b;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Ea05,
    Ea06,
}

/// Where the script data of an AutoIt program starts (just after `AU3!EA05`/`AU3!EA06`).
pub fn find(data: &[u8]) -> Option<(usize, Version)> {
    let mut from = 0;
    while let Some(at) = memchr::memmem::find(&data[from..], MARKER).map(|p| p + from) {
        match data.get(at + MARKER.len()) {
            Some(b'5') => return Some((at + MARKER.len() + 1, Version::Ea05)),
            Some(b'6') => return Some((at + MARKER.len() + 1, Version::Ea06)),
            _ => from = at + 1,
        }
    }
    None
}

fn malformed(why: &str) -> ReadError {
    ReadError::Malformed(format!("AutoIt: {why}"))
}

/// Keys of one version's records.
struct Keys {
    file_magic: u32,
    name_xor: u32,
    path_xor: u32,
    size_xor: u32,
    /// Strings are UTF-16 (two bytes per character) in EA06.
    wide: bool,
    compressed_magic: &'static [u8; 4],
}

const EA05: Keys = Keys {
    file_magic: EA05_FILE,
    name_xor: 0x29bc,
    path_xor: 0x29ac,
    size_xor: 0x45aa,
    wide: false,
    compressed_magic: b"EA05",
};

const EA06: Keys = Keys {
    file_magic: EA06_FILE,
    name_xor: 0xadbc,
    path_xor: 0xf820,
    size_xor: 0x87bc,
    wide: true,
    compressed_magic: b"EA06",
};

/// Visits every file of the script data starting at `start`.
pub fn extract(data: &[u8], start: usize, version: Version, visitor: &mut dyn Visitor) -> Result<(), ReadError> {
    let keys = if version == Version::Ea05 { &EA05 } else { &EA06 };
    let header = data.get(start..start + 16).ok_or_else(|| malformed("truncated header"))?;
    // EA05 keys its data with the sum of these 16 bytes; EA06 ignores them.
    let sum: u32 = header.iter().map(|&b| b as u32).sum();
    let mut pos = start + 16;
    let mut index = 0u64;
    loop {
        if le_u32(data, pos) != Some(keys.file_magic) {
            return Ok(());
        }
        if index >= visitor.max_members() {
            return Err(ReadError::Limit(format!("more than {} AutoIt files", visitor.max_members())));
        }
        let unit = if keys.wide { 2 } else { 1 };
        let name_length =
            (le_u32(data, pos + 4).ok_or_else(|| malformed("truncated record"))? ^ keys.name_xor) as usize;
        pos = skip(pos + 8, name_length, unit, data.len())?;
        let path_length = (le_u32(data, pos).ok_or_else(|| malformed("truncated record"))? ^ keys.path_xor) as usize;
        pos = skip(pos + 4, path_length, unit, data.len())?;
        let compressed = *data.get(pos).ok_or_else(|| malformed("truncated record"))? == 1;
        let size = (le_u32(data, pos + 1).ok_or_else(|| malformed("truncated record"))? ^ keys.size_xor) as usize;
        pos += 13 + 16;
        if size == 0 {
            continue;
        }
        let stored = pos
            .checked_add(size)
            .and_then(|end| data.get(pos..end))
            .ok_or_else(|| malformed("file data past the end"))?;
        pos += size;
        index += 1;
        let name = format!("autoit/{index:03}");
        let mut plain = stored.to_vec();
        match version {
            Version::Ea05 => mt_decrypt(&mut plain, 0x22af_u32.wrapping_add(sum)),
            Version::Ea06 => lame_decrypt(&mut plain, 0x2477),
        }
        let member = if compressed {
            if plain.get(..4) != Some(&keys.compressed_magic[..]) {
                continue;
            }
            match decompress(&plain, version, visitor.cap().max_bytes) {
                Ok(out) => Member::part(name, out),
                Err(error) => Member::Failed { name, error },
            }
        } else {
            Member::part(name, plain)
        };
        if visitor.member(member) == Flow::Stop {
            return Ok(());
        }
    }
}

fn skip(pos: usize, count: usize, unit: usize, len: usize) -> Result<usize, ReadError> {
    count
        .checked_mul(unit)
        .and_then(|bytes| pos.checked_add(bytes))
        .filter(|&end| end <= len)
        .ok_or_else(|| malformed("string past the end"))
}

/// MSB-first bit reader over 16-bit big-endian words, as AutoIt's decompressor reads.
struct Bits<'a> {
    input: &'a [u8],
    at: usize,
    word: u32,
    available: u32,
}

impl Bits<'_> {
    fn get(&mut self, mut count: u32) -> Option<u32> {
        let mut value = 0;
        while count > 0 {
            if self.available == 0 {
                let pair = self.input.get(self.at..self.at + 2)?;
                self.word = u16::from_be_bytes([pair[0], pair[1]]) as u32;
                self.at += 2;
                self.available = 16;
            }
            self.available -= 1;
            value = (value << 1) | ((self.word >> self.available) & 1);
            count -= 1;
        }
        Some(value)
    }
}

/// AutoIt's LZSS: `EA0x`, the size (big-endian), then literals and back references; EA05
/// marks a reference with a 1 bit, EA06 with a 0 bit. A stream that breaks gives what was
/// decoded up to there (as ClamAV does).
fn decompress(plain: &[u8], version: Version, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    let size =
        u32::from_be_bytes(plain.get(4..8).ok_or_else(|| malformed("truncated stream"))?.try_into().unwrap_or([0; 4]))
            as u64;
    let size = if size == 0 { plain.len() as u64 } else { size };
    if size > max_bytes {
        return Err(ReadError::Limit(format!("expands beyond {max_bytes} bytes")));
    }
    let size = size as usize;
    let mut out: Vec<u8> = Vec::with_capacity(size.min(plain.len().saturating_mul(64)));
    let mut bits = Bits { input: &plain[8..], at: 0, word: 0, available: 0 };
    let reference_bit = if version == Version::Ea05 { 1 } else { 0 };
    while out.len() < size {
        let Some(flag) = bits.get(1) else { break };
        if flag != reference_bit {
            let Some(byte) = bits.get(8) else { break };
            out.push(byte as u8);
            continue;
        }
        let Some(distance) = bits.get(15) else { break };
        let Some(length) = reference_length(&mut bits) else { break };
        let distance = distance as usize;
        if distance == 0 || distance > out.len() || out.len() + length > size {
            break;
        }
        let from = out.len() - distance;
        for i in 0..length {
            out.push(out[from + i]);
        }
    }
    Ok(out)
}

fn reference_length(bits: &mut Bits) -> Option<usize> {
    let mut add = 0usize;
    let mut value = bits.get(2)?;
    if value == 3 {
        add = 3;
        value = bits.get(3)?;
        if value == 7 {
            add = 10;
            value = bits.get(5)?;
            if value == 31 {
                add = 41;
                value = bits.get(8)?;
                if value == 255 {
                    add = 296;
                    loop {
                        value = bits.get(8)?;
                        if value != 255 {
                            break;
                        }
                        add = add.checked_add(255)?;
                    }
                }
            }
        }
    }
    Some(value as usize + 3 + add)
}

/// EA05's key stream: MT19937 seeded with `seed`, each output's bits 1..8.
fn mt_decrypt(buffer: &mut [u8], seed: u32) {
    let mut state = [0u32; 624];
    state[0] = seed;
    for i in 1..624 {
        state[i] = (i as u32).wrapping_add(0x6c07_8965_u32.wrapping_mul((state[i - 1] >> 30) ^ state[i - 1]));
    }
    let mut next = 624;
    for byte in buffer.iter_mut() {
        if next == 624 {
            twist(&mut state);
            next = 0;
        }
        let mut r = state[next];
        next += 1;
        r ^= r >> 11;
        r ^= (r & 0xff3a_58ad) << 7;
        r ^= (r & 0xffff_df8c) << 15;
        r ^= r >> 18;
        *byte ^= (r >> 1) as u8;
    }
}

fn twist(mt: &mut [u32; 624]) {
    let mix =
        |a: u32, b: u32, c: u32| ((((a ^ b) & 0x7fff_fffe) ^ a) >> 1) ^ ((0u32.wrapping_sub(b & 1)) & 0x9908_b0df) ^ c;
    for i in 0..227 {
        mt[i] = mix(mt[i], mt[i + 1], mt[i + 397]);
    }
    for i in 227..623 {
        mt[i] = mix(mt[i], mt[i + 1], mt[i - 227]);
    }
    mt[623] = mix(mt[623], mt[0], mt[396]);
}

/// EA06's key stream ("LAME"): a lagged generator read through a double, as AutoIt does.
struct Lame {
    c0: usize,
    c1: usize,
    group: [u32; 17],
}

impl Lame {
    fn new(seed: u32) -> Lame {
        let mut lame = Lame { c0: 0, c1: 10, group: [0; 17] };
        let mut seed = seed;
        for slot in lame.group.iter_mut() {
            seed = 1u32.wrapping_sub(seed.wrapping_mul(0x53a9_b4fb));
            *slot = seed;
        }
        for _ in 0..9 {
            lame.step();
        }
        lame
    }

    fn step(&mut self) -> f64 {
        let rolled = self.group[self.c0].rotate_left(9).wrapping_add(self.group[self.c1].rotate_left(13));
        self.group[self.c0] = rolled;
        self.c0 = if self.c0 == 0 { 16 } else { self.c0 - 1 };
        self.c1 = if self.c1 == 0 { 16 } else { self.c1 - 1 };
        let high = 0x3ff0_0000 | (rolled >> 12);
        let low = rolled << 20;
        f64::from_bits(((high as u64) << 32) | low as u64) - 1.0
    }

    fn next_byte(&mut self) -> u8 {
        self.step();
        let x = self.step() * 256.0;
        if (x as i32) < 256 { x as u8 } else { 0xff }
    }
}

fn lame_decrypt(buffer: &mut [u8], seed: u32) {
    let mut lame = Lame::new(seed);
    for byte in buffer.iter_mut() {
        *byte ^= lame.next_byte();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::test_support::Collect;

    /// Builds an EA05 record of `content`, stored (not compressed).
    fn ea05_archive(content: &[u8]) -> Vec<u8> {
        let mut data = b"MZ...AU3!EA05".to_vec();
        let header = [7u8; 16];
        let sum: u32 = header.iter().map(|&b| b as u32).sum();
        data.extend_from_slice(&header);
        data.extend_from_slice(&EA05_FILE.to_le_bytes());
        data.extend_from_slice(&(4 ^ 0x29bc_u32).to_le_bytes());
        data.extend_from_slice(b"FILE");
        data.extend_from_slice(&(3 ^ 0x29ac_u32).to_le_bytes());
        data.extend_from_slice(b"a.b");
        data.push(0);
        data.extend_from_slice(&(content.len() as u32 ^ 0x45aa).to_le_bytes());
        data.extend_from_slice(&[0; 8 + 16]);
        let mut encrypted = content.to_vec();
        mt_decrypt(&mut encrypted, 0x22af + sum);
        data.extend_from_slice(&encrypted);
        data
    }

    #[test]
    fn stored_ea05_file() {
        let data = ea05_archive(b"installed file");
        let (start, version) = find(&data).unwrap();
        assert_eq!(version, Version::Ea05);
        let mut visitor = Collect::default();
        extract(&data, start, version, &mut visitor).unwrap();
        assert_eq!(
            visitor.0.iter().map(|(_, data)| data.clone()).collect::<Vec<_>>(),
            vec![b"installed file".to_vec()]
        );
    }

    #[test]
    fn key_streams_are_involutions_and_differ() {
        let mut a = *b"0123456789";
        mt_decrypt(&mut a, 1234);
        assert_ne!(&a, b"0123456789");
        mt_decrypt(&mut a, 1234);
        assert_eq!(&a, b"0123456789");
        let mut b = *b"0123456789";
        lame_decrypt(&mut b, 0x2477);
        assert_ne!(&b, b"0123456789");
        lame_decrypt(&mut b, 0x2477);
        assert_eq!(&b, b"0123456789");
    }

    #[test]
    fn lzss_literals_and_references() {
        // EA06: 0 bit = reference. Literal 'a' (1, 0x61), literal 'b', then a reference
        // distance 2, length 3+0 (bits 00): "ababa".
        let mut bits = String::new();
        bits += "1";
        bits += &format!("{:08b}", b'a');
        bits += "1";
        bits += &format!("{:08b}", b'b');
        bits += "0";
        bits += &format!("{:015b}", 2);
        bits += "00";
        while !bits.len().is_multiple_of(16) {
            bits.push('0');
        }
        let mut stream = b"EA06".to_vec();
        stream.extend_from_slice(&5u32.to_be_bytes());
        for chunk in bits.as_bytes().chunks(8) {
            stream.push(u8::from_str_radix(std::str::from_utf8(chunk).unwrap(), 2).unwrap());
        }
        assert_eq!(decompress(&stream, Version::Ea06, 1 << 20).unwrap(), b"ababa");
        // A reference before the start ends the stream.
        assert!(decompress(&stream, Version::Ea05, 1 << 20).unwrap().len() < 5);
        assert!(decompress(&stream, Version::Ea06, 2).is_err());
    }

    #[test]
    fn truncated_and_garbage_input_is_an_error_not_a_panic() {
        let data = ea05_archive(b"installed file");
        let (start, version) = find(&data).unwrap();
        for cut in 0..data.len() {
            let mut visitor = Collect::default();
            let _ = extract(&data[..cut], start.min(cut), version, &mut visitor);
        }
        let mut garbage = b"AU3!EA06".to_vec();
        garbage.extend((0..400u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
        let (start, version) = find(&garbage).unwrap();
        let mut visitor = Collect::default();
        let _ = extract(&garbage, start, version, &mut visitor);
        for seed in 0..50u8 {
            let noise: Vec<u8> = (0..64u32).map(|i| (i.wrapping_mul(seed as u32 + 7) >> 3) as u8).collect();
            let mut stream = b"EA05".to_vec();
            stream.extend_from_slice(&0xffffu32.to_be_bytes());
            stream.extend_from_slice(&noise);
            let _ = decompress(&stream, Version::Ea05, 1 << 20);
        }
    }
}
