//! Splits an action list (`id:1,phase:2,msg:'a, b',t:none`) into names and values.

/// One `name[:value]` of an action list, the value unquoted.
#[derive(Debug, Clone, PartialEq)]
pub struct RawAction {
    pub name: String,
    pub value: Option<String>,
}

pub fn split_actions(s: &str) -> Result<Vec<RawAction>, String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b',' || b[i].is_ascii_whitespace()) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && b[i] != b':' && b[i] != b',' {
            i += 1;
        }
        let name = s[start..i].trim().to_ascii_lowercase();
        if name.is_empty() {
            return Err(format!("empty action name at offset {start}"));
        }
        let mut value = None;
        if i < b.len() && b[i] == b':' {
            i += 1;
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            if i < b.len() && b[i] == b'\'' {
                i += 1;
                let mut v = String::new();
                let mut closed = false;
                while i < b.len() {
                    if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\'' {
                        v.push('\'');
                        i += 2;
                        continue;
                    }
                    if b[i] == b'\'' {
                        closed = true;
                        i += 1;
                        break;
                    }
                    let ch = s[i..].chars().next().unwrap_or('\0');
                    v.push(ch);
                    i += ch.len_utf8();
                }
                if !closed {
                    return Err(format!("unterminated quote in the value of action '{name}'"));
                }
                value = Some(v);
            } else {
                let vs = i;
                while i < b.len() && b[i] != b',' {
                    i += 1;
                }
                value = Some(s[vs..i].trim_end().to_string());
            }
        }
        out.push(RawAction { name, value });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_keep_commas() {
        let a = split_actions("id:1, msg:'a, b',t:none,  pass,setvar:'tx.x=%{tx.y}'").unwrap();
        let names: Vec<_> = a.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["id", "msg", "t", "pass", "setvar"]);
        assert_eq!(a[1].value.as_deref(), Some("a, b"));
        assert_eq!(a[4].value.as_deref(), Some("tx.x=%{tx.y}"));
    }

    #[test]
    fn unterminated_quote() {
        assert!(split_actions("msg:'abc").is_err());
    }
}
