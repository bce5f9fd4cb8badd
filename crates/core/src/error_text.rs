//! Error messages for logs and events: the whole chain of causes, since the outermost message
//! alone ("error sending request") rarely says what went wrong.

/// `e` with its causes, `outer: inner: innermost`.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn causes_follow_the_message() {
        let outer = Wrapped(std::io::Error::other("connection refused"));
        assert_eq!(super::chain(&outer), "wrapped: connection refused");
    }

    #[derive(Debug)]
    struct Wrapped(std::io::Error);
    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("wrapped")
        }
    }
    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
}
