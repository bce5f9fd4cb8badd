//! The event's `event.original` as a base for references.
//!
//! Parsed fields are usually whole tokens of the raw line (the host name, the program, the pid,
//! the message after the header). Byte offsets of those tokens move with every variable-length
//! part before them, but their *token numbers* do not, so a reference that starts and ends on
//! token boundaries is stored as boundary numbers, which are the same for every line of one
//! format and cost almost nothing once compressed.
//!
//! A boundary is a byte position `p` (`0 <= p <= len`) where `p == 0`, `p == len`, or the bytes
//! on either side are of different classes: "word" (ASCII letters and digits, and every byte of
//! a multi-byte UTF-8 character), "space" (ASCII space and tab) or "other" (the rest of ASCII).
//! Boundaries are therefore always character boundaries.

use std::cell::OnceCell;

/// An event's `event.original` and its boundaries, computed when first needed.
pub struct Original<'a> {
    pub text: &'a str,
    bounds: OnceCell<Vec<u32>>,
}

/// The class of every byte: 0 word, 1 space, 2 other.
const CLASS: [u8; 256] = {
    let mut t = [2u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c == b' ' || c == b'\t' {
            t[b] = 1;
        } else if c.is_ascii_alphanumeric() || c >= 0x80 {
            t[b] = 0;
        }
        b += 1;
    }
    t
};

impl<'a> Original<'a> {
    pub fn new(text: &'a str) -> Self {
        Original { text, bounds: OnceCell::new() }
    }

    /// The boundary positions, ascending.
    pub fn bounds(&self) -> &[u32] {
        self.bounds.get_or_init(|| {
            let b = self.text.as_bytes();
            let mut out = Vec::with_capacity(b.len() / 3 + 2);
            out.push(0);
            for p in 1..b.len() {
                if CLASS[b[p - 1] as usize] != CLASS[b[p] as usize] {
                    out.push(p as u32);
                }
            }
            if !b.is_empty() {
                out.push(b.len() as u32);
            }
            out
        })
    }

    /// The number of the boundary at byte `pos`, if `pos` is one.
    pub fn bound_index(&self, pos: usize) -> Option<usize> {
        let pos = u32::try_from(pos).ok()?;
        self.bounds().binary_search(&pos).ok()
    }

    /// The byte position of boundary `index`.
    pub fn bound_pos(&self, index: u64) -> Option<usize> {
        let i = usize::try_from(index).ok()?;
        self.bounds().get(i).map(|p| *p as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        let o = Original::new("<38>Nov 21 web01 sshd[123]: 日本 x");
        let b = o.bounds();
        let t = o.text;
        let tokens: Vec<&str> = b.windows(2).map(|w| &t[w[0] as usize..w[1] as usize]).collect();
        assert_eq!(
            tokens,
            ["<", "38", ">", "Nov", " ", "21", " ", "web01", " ", "sshd", "[", "123", "]:", " ", "日本", " ", "x"]
        );
        assert_eq!(o.bound_index(11), Some(7));
        assert_eq!(o.bound_pos(7), Some(11));
        assert_eq!(o.bound_index(12), None);
        assert_eq!(Original::new("").bounds(), &[0]);
    }
}
