//! Programs inside programs (self-extractors, droppers, installers that store files as
//! they are): the first PE file that starts after offset 0 is a member reaching to the end of
//! its host, as ClamAV takes it. Only the first: that member is searched the same way in
//! turn, which keeps a file full of headers linear instead of quadratic.

use super::{le_u16, le_u32};

/// ClamAV's MaxEmbeddedPE default: longer tails are cut there.
const MAX_EMBEDDED: usize = 10 << 20;

/// The offset and bytes of the first embedded PE file in `data`.
pub fn first(data: &[u8]) -> Option<(usize, &[u8])> {
    let offset =
        memchr::memmem::find_iter(data.get(1..)?, b"MZ").map(|at| at + 1).find(|&at| plausible(&data[at..]))?;
    let tail = &data[offset..];
    Some((offset, &tail[..tail.len().min(MAX_EMBEDDED)]))
}

/// A DOS header whose `e_lfanew` points at `PE\0\0` with a known machine and a sane
/// section count, so that the letters "MZ" in data are not taken for a program.
fn plausible(candidate: &[u8]) -> bool {
    let Some(pe) = le_u32(candidate, 0x3c).map(|offset| offset as usize) else { return false };
    if !(0x40..=0x1000).contains(&pe) || candidate.get(pe..pe + 4) != Some(b"PE\0\0") {
        return false;
    }
    let machine_known =
        le_u16(candidate, pe + 4).is_some_and(|m| matches!(m, 0x14c | 0x8664 | 0x1c0 | 0x1c4 | 0xaa64 | 0x200));
    machine_known && le_u16(candidate, pe + 6).is_some_and(|count| (1..=96).contains(&count))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_pe() -> Vec<u8> {
        let mut pe = vec![0u8; 0x80];
        pe[0..2].copy_from_slice(b"MZ");
        pe[0x3c] = 0x40;
        pe[0x40..0x44].copy_from_slice(b"PE\0\0");
        pe[0x44..0x46].copy_from_slice(&0x14cu16.to_le_bytes());
        pe[0x46] = 1;
        pe
    }

    #[test]
    fn finds_the_first_program_after_the_start() {
        let mut host = tiny_pe();
        host.extend_from_slice(b"MZ but no header here ");
        let at = host.len();
        host.extend_from_slice(&tiny_pe());
        host.extend_from_slice(&tiny_pe());
        let (offset, member) = first(&host).expect("found");
        assert_eq!(offset, at);
        assert_eq!(member.len(), host.len() - at);
        assert_eq!(first(&tiny_pe()), None, "the host itself is not embedded");
    }

    #[test]
    fn headers_pointing_outside_are_ignored() {
        let mut host = b"xxMZ".to_vec();
        host.extend_from_slice(&[0xff; 0x40]);
        assert_eq!(first(&host), None);
        assert_eq!(first(b""), None);
        assert_eq!(first(b"M"), None);
    }
}
