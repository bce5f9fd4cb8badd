//! Reads the header and question of a plain query straight from the packet, without decoding
//! a whole message: what the answer cache needs to find a finished answer. Anything unusual
//! (a compressed question, an option it does not know how to skip, trailing bytes, a name with
//! characters that need escaping in the log) is left to the full decoder.

use crate::service::Transport;

/// Longest key: a 255-byte name, type, class, EDNS, DO and CD flags and the UDP size limit.
pub const KEY_MAX: usize = 255 + 2 + 2 + 1 + 2;

const TYPE_OPT: u16 = 41;
const TYPE_IXFR: u16 = 251;
const TYPE_AXFR: u16 = 252;
const CLASS_IN: u16 = 1;

/// A plain query: one question in class IN, at most an EDNS version 0 OPT record.
pub struct PlainQuery {
    pub id: u16,
    pub recursion_desired: bool,
    pub checking_disabled: bool,
    /// Wire length of the question name, which starts at offset 12.
    pub name_len: usize,
    pub qtype: u16,
    pub edns: bool,
    key: [u8; KEY_MAX],
    key_len: usize,
}

impl PlainQuery {
    /// The lower-cased name, type, class, EDNS flag and size limit: everything an
    /// authoritative answer depends on apart from the id and the flags copied from the query.
    pub fn key(&self) -> &[u8] {
        &self.key[..self.key_len]
    }

    /// The question name in presentation form (`www.example.jp`), as the query log writes it.
    pub fn name_text(&self, packet: &[u8]) -> String {
        question_name(packet, &mut [0; NAME_TEXT_MAX]).to_string()
    }
}

/// Room for a question name in presentation form: a name of at most 255 wire bytes has at most
/// 254 characters and its final dot.
pub const NAME_TEXT_MAX: usize = 256;

/// The name of a plain query's question (in `packet`) in presentation form, written into
/// `buf`: the query log of a cached answer takes it from the packet without an allocation.
pub fn question_name<'b>(packet: &[u8], buf: &'b mut [u8; NAME_TEXT_MAX]) -> &'b str {
    let mut len = 0;
    let mut at = 12;
    while let Some(&label_len) = packet.get(at) {
        let label_len = usize::from(label_len);
        let Some(label) = packet.get(at + 1..at + 1 + label_len).filter(|_| label_len != 0) else { break };
        let Some(room) = buf.get_mut(len..len + label_len + 1) else { break };
        // Plain ASCII bytes (`plain_query` took no other): copied as they are.
        room[..label_len].copy_from_slice(label);
        room[label_len] = b'.';
        len += label_len + 1;
        at += 1 + label_len;
    }
    if len == 0 {
        buf[0] = b'.';
        len = 1;
    }
    std::str::from_utf8(&buf[..len]).unwrap_or(".")
}

pub(crate) fn u16_at(p: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*p.get(at)?, *p.get(at + 1)?]))
}

/// Characters the log writes as they are (hickory escapes the others).
const fn plain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'*'
}

/// Each byte as it goes into a key: plain bytes lower-cased, 0 for the others. One lookup per
/// byte of the name instead of a test and a case mapping: every query passes here.
static KEY_BYTE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        if plain_byte(b as u8) {
            table[b] = (b as u8).to_ascii_lowercase();
        }
        b += 1;
    }
    table
};

/// The plain query in `packet`, or `None` when the full decoder must look at it.
pub fn plain_query(packet: &[u8], transport: Transport, max_udp_payload: u16) -> Option<PlainQuery> {
    let header = packet.get(..12)?;
    // QR clear, opcode QUERY.
    if header[2] & 0x80 != 0 || (header[2] >> 3) & 0x0f != 0 {
        return None;
    }
    let (qd, an, ns, ar) = (u16_at(header, 4)?, u16_at(header, 6)?, u16_at(header, 8)?, u16_at(header, 10)?);
    if qd != 1 || an != 0 || ns != 0 || ar > 1 {
        return None;
    }
    let mut key = [0u8; KEY_MAX];
    let mut key_len = 0;
    let mut at = 12;
    loop {
        let len = usize::from(*packet.get(at)?);
        if len == 0 {
            key[key_len] = 0;
            key_len += 1;
            at += 1;
            break;
        }
        // A compression pointer or a reserved label type in a question: unusual, decode fully.
        if len > 63 || key_len + 1 + len >= 255 {
            return None;
        }
        let label = packet.get(at + 1..at + 1 + len)?;
        key[key_len] = len as u8;
        let mut plain = true;
        for (k, &b) in key[key_len + 1..key_len + 1 + len].iter_mut().zip(label) {
            *k = KEY_BYTE[usize::from(b)];
            plain &= *k != 0;
        }
        if !plain {
            return None;
        }
        key_len += 1 + len;
        at += 1 + len;
    }
    let name_len = at - 12;
    let qtype = u16_at(packet, at)?;
    let qclass = u16_at(packet, at + 2)?;
    if qclass != CLASS_IN || matches!(qtype, TYPE_AXFR | TYPE_IXFR | TYPE_OPT) {
        return None;
    }
    at += 4;
    let mut edns_payload = None;
    let mut dnssec_ok = false;
    if ar == 1 {
        // The OPT record (RFC 6891 §6.1.2): root owner, type 41, class = payload size,
        // TTL = extended rcode, version, flags; options are skipped but must be well formed.
        if *packet.get(at)? != 0 || u16_at(packet, at + 1)? != TYPE_OPT {
            return None;
        }
        let payload = u16_at(packet, at + 3)?;
        if *packet.get(at + 6)? != 0 {
            return None; // EDNS version above 0: BADVERS from the full path
        }
        dnssec_ok = *packet.get(at + 7)? & 0x80 != 0;
        let rdlen = usize::from(u16_at(packet, at + 9)?);
        at += 11;
        let end = at + rdlen;
        while at < end {
            let option_len = usize::from(u16_at(packet, at + 2)?);
            at += 4 + option_len;
        }
        if at != end {
            return None;
        }
        edns_payload = Some(payload);
    }
    if at != packet.len() {
        return None;
    }
    let limit = match transport {
        Transport::Tcp => u16::MAX,
        Transport::Udp => edns_payload.map_or(512, |p| p.max(512).min(max_udp_payload)),
    };
    key[key_len..key_len + 2].copy_from_slice(&qtype.to_be_bytes());
    key[key_len + 2..key_len + 4].copy_from_slice(&qclass.to_be_bytes());
    // DO, CD and AD change the answer (signatures, AD, a bogus answer's SERVFAIL).
    let checking_disabled = header[3] & 0x10 != 0;
    let authentic_data = header[3] & 0x20 != 0;
    key[key_len + 4] = u8::from(edns_payload.is_some())
        | (u8::from(dnssec_ok) << 1)
        | (u8::from(checking_disabled) << 2)
        | (u8::from(authentic_data) << 3);
    key[key_len + 5..key_len + 7].copy_from_slice(&limit.to_be_bytes());
    key_len += 7;
    Some(PlainQuery {
        id: u16::from_be_bytes([header[0], header[1]]),
        recursion_desired: header[2] & 0x01 != 0,
        checking_disabled,
        name_len,
        qtype,
        edns: edns_payload.is_some(),
        key,
        key_len,
    })
}

/// Skips a (possibly compressed) name; the offset after it.
pub(crate) fn skip_name(p: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *p.get(at)?;
        match len {
            0 => return Some(at + 1),
            l if l & 0xc0 == 0xc0 => return Some(at + 2),
            l if l <= 63 => at += 1 + usize::from(l),
            _ => return None,
        }
    }
}

/// The offset and value of the TTL field of every record of a message but OPT (whose TTL
/// field holds flags), so that a stored answer's TTLs can be counted down in place.
pub fn ttl_fields(m: &[u8]) -> Option<Vec<(u32, u32)>> {
    let count = |i: usize| u16_at(m, 4 + 2 * i).map(usize::from);
    let (qd, records) = (count(0)?, count(1)? + count(2)? + count(3)?);
    let mut at = 12;
    for _ in 0..qd {
        at = skip_name(m, at)? + 4;
    }
    let mut out = Vec::with_capacity(records);
    for _ in 0..records {
        at = skip_name(m, at)?;
        let rtype = u16_at(m, at)?;
        let ttl = u32::from_be_bytes(m.get(at + 4..at + 8)?.try_into().ok()?);
        if rtype != TYPE_OPT {
            out.push((u32::try_from(at + 4).ok()?, ttl));
        }
        at += 10 + usize::from(u16_at(m, at + 8)?);
    }
    (at == m.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, edns: Option<u16>) -> Vec<u8> {
        let mut m = hickory_proto::op::Message::query();
        m.metadata.id = 0x1234;
        m.metadata.recursion_desired = true;
        m.add_query(hickory_proto::op::Query::query(
            hickory_proto::rr::Name::from_ascii(name).unwrap(),
            hickory_proto::rr::RecordType::A,
        ));
        if let Some(p) = edns {
            let mut e = hickory_proto::op::Edns::new();
            e.set_max_payload(p);
            m.set_edns(e);
        }
        m.to_vec().unwrap()
    }

    #[test]
    fn a_plain_query_is_read_and_its_key_ignores_case() {
        let upper = query("WWW.Example.JP.", None);
        let lower = query("www.example.jp.", None);
        let (a, b) =
            (plain_query(&upper, Transport::Udp, 1232).unwrap(), plain_query(&lower, Transport::Udp, 1232).unwrap());
        assert_eq!(a.key(), b.key());
        assert_eq!(a.id, 0x1234);
        assert!(a.recursion_desired);
        assert_eq!(a.name_text(&upper), "WWW.Example.JP.");
        assert_eq!(a.name_len, 16);
    }

    /// Every byte value in a label: plain ones are taken and lower-cased in the key, the
    /// others leave the query to the decoder.
    #[test]
    fn each_byte_of_a_name_is_taken_only_when_plain() {
        let reference = plain_query(&query("xa.jp.", None), Transport::Udp, 1232).unwrap();
        for b in 0..=255u8 {
            let mut packet = query("xa.jp.", None);
            packet[14] = b;
            match plain_query(&packet, Transport::Udp, 1232) {
                Some(q) => {
                    assert!(plain_byte(b), "byte {b:#04x} was taken");
                    let mut key = reference.key().to_vec();
                    key[2] = b.to_ascii_lowercase();
                    assert_eq!(q.key(), key, "byte {b:#04x}");
                }
                None => assert!(!plain_byte(b), "byte {b:#04x} was refused"),
            }
        }
    }

    #[test]
    fn the_question_name_is_read_from_any_packet_without_running_past_it() {
        let mut buf = [0; NAME_TEXT_MAX];
        assert_eq!(question_name(&query(".", None), &mut buf), ".");
        let full = query("www.Example.jp.", None);
        assert_eq!(question_name(&full, &mut buf), "www.Example.jp.");
        for cut in 0..full.len() {
            let name = question_name(&full[..cut], &mut buf);
            assert!("www.Example.jp.".starts_with(name.trim_start_matches('.')), "{cut}: {name}");
        }
        // A longest name (127 one-letter labels) fills the buffer exactly.
        let mut longest = vec![0u8; 12];
        (0..127).for_each(|_| longest.extend_from_slice(&[1, b'a']));
        longest.push(0);
        assert_eq!(question_name(&longest, &mut buf).len(), 254);
    }

    #[test]
    fn the_size_limit_is_part_of_the_key() {
        let small = plain_query(&query("a.jp.", Some(512)), Transport::Udp, 1232).unwrap();
        let large = plain_query(&query("a.jp.", Some(4096)), Transport::Udp, 1232).unwrap();
        let tcp = plain_query(&query("a.jp.", Some(4096)), Transport::Tcp, 1232).unwrap();
        assert_ne!(small.key(), large.key());
        assert_ne!(large.key(), tcp.key());
        assert!(large.edns);
    }

    #[test]
    fn unusual_packets_are_left_to_the_decoder() {
        let mut trailing = query("a.jp.", None);
        trailing.push(0);
        assert!(plain_query(&trailing, Transport::Udp, 1232).is_none());
        let mut response = query("a.jp.", None);
        response[2] |= 0x80;
        assert!(plain_query(&response, Transport::Udp, 1232).is_none());
        let mut spaced = query("ab.jp.", None);
        spaced[13] = b' ';
        assert!(plain_query(&spaced, Transport::Udp, 1232).is_none());
        assert!(plain_query(&[0u8; 5], Transport::Udp, 1232).is_none());
        let full = query("a.jp.", Some(1232));
        for cut in 0..full.len() {
            assert!(plain_query(&full[..cut], Transport::Udp, 1232).is_none());
        }
    }
}
