//! Check digits of national identity numbers, for `@verifyCPF` (Brazil), `@verifySSN` (US)
//! and `@verifySVNR` (Austria): the rule's regex finds candidates, these decide whether one is
//! a valid number, as libmodsecurity's operators do.

fn digits(candidate: &[u8]) -> Vec<u32> {
    candidate.iter().filter(|c| c.is_ascii_digit()).map(|&c| (c - b'0') as u32).collect()
}

/// All digits the same (`111-11-1111`) or counting up (`123-45-6789`): test data, not a number.
fn is_placeholder(d: &[u32]) -> bool {
    d.windows(2).all(|w| w[0] == w[1]) || d.windows(2).all(|w| w[0] + 1 == w[1])
}

/// A CPF: 11 digits whose last two are mod-11 check digits of the ones before.
pub fn cpf(candidate: &[u8]) -> bool {
    let d = digits(candidate);
    if d.len() != 11 || d.windows(2).all(|w| w[0] == w[1]) {
        return false;
    }
    let check = |n: usize| {
        let sum: u32 = d[..n].iter().enumerate().map(|(i, &x)| x * (n as u32 + 1 - i as u32)).sum();
        let r = sum * 10 % 11;
        if r == 10 { 0 } else { r }
    };
    check(9) == d[9] && check(10) == d[10]
}

/// A US social security number: area 001-739 but not 666, group and serial not zero.
pub fn ssn(candidate: &[u8]) -> bool {
    let d = digits(candidate);
    if d.len() != 9 || is_placeholder(&d) {
        return false;
    }
    let num = |r: std::ops::Range<usize>| d[r].iter().fold(0, |n, &x| n * 10 + x);
    let (area, group, serial) = (num(0..3), num(3..5), num(5..9));
    area != 0 && area != 666 && area < 740 && group != 0 && serial != 0
}

/// An Austrian social insurance number: 10 digits, the fourth a weighted mod-11 check digit.
pub fn svnr(candidate: &[u8]) -> bool {
    const WEIGHTS: [u32; 10] = [3, 7, 9, 0, 5, 8, 4, 2, 1, 6];
    let d = digits(candidate);
    if d.len() != 10 || is_placeholder(&d) {
        return false;
    }
    let sum: u32 = d.iter().zip(WEIGHTS).map(|(x, w)| x * w).sum();
    sum % 11 == d[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits() {
        assert!(cpf(b"010.817.514-60"));
        assert!(!cpf(b"010.817.514-61"));
        assert!(!cpf(b"111.111.111-11"));
        assert!(ssn(b"574-57-8065"));
        assert!(!ssn(b"800-57-8065"));
        assert!(!ssn(b"123-45-6789"));
        assert!(!ssn(b"574-00-8065"));
        assert!(svnr(b"1237010180"));
        assert!(!svnr(b"1238010180"));
    }
}
