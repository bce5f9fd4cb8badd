//! `t:phpArgsNames`: an argument name as PHP registers it, so that rules see the name the
//! application will (`a.b` and `a b` arrive as `a_b`; `a[x]junk` as `a[x]`).

use std::borrow::Cow;

pub fn php_args_names(i: &[u8]) -> Cow<'_, [u8]> {
    let name = &i[i.iter().take_while(|&&c| c == b' ').count()..];
    let mut out = Vec::with_capacity(name.len());
    let mut k = 0;
    // The base name: spaces and dots become underscores, up to the first `[`.
    while k < name.len() && name[k] != b'[' {
        out.push(if matches!(name[k], b' ' | b'.') { b'_' } else { name[k] });
        k += 1;
    }
    if out.is_empty() {
        // PHP drops a variable without a name.
        return Cow::Owned(out);
    }
    // Indexes: `[...]` groups, leading whitespace inside dropped; anything after the last
    // group that is not another group is dropped.
    while k < name.len() && name[k] == b'[' {
        let Some(close) = name[k..].iter().position(|&c| c == b']').map(|p| k + p) else {
            if out.contains(&b'[') {
                // An unterminated later index ends the name.
                break;
            }
            // Not an index: the `[` becomes `_`, the rest stays as sent.
            out.push(b'_');
            out.extend_from_slice(&name[k + 1..]);
            return Cow::Owned(out);
        };
        let index = &name[k + 1..close];
        let lead = index.iter().take_while(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n')).count();
        out.push(b'[');
        out.extend_from_slice(&index[lead..]);
        out.push(b']');
        k = close + 1;
    }
    if out == i { Cow::Borrowed(i) } else { Cow::Owned(out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_php_registers_them() {
        for (input, want) in [
            ("a_b.c", "a_b_c"),
            ("a[_b c.", "a__b c."),
            ("[a_[b][]c d_", ""),
            ("a_[b][ ]c d_", "a_[b][]"),
            ("   ] [a][c][f. _ ]", "]_[a][c][f. _ ]"),
            ("a[]b", "a[]"),
            ("sc ript._[a[_xss]", "sc_ript__[a[_xss]"),
        ] {
            assert_eq!(php_args_names(input.as_bytes()), want.as_bytes(), "{input}");
        }
    }
}
