//! The query language's tokenizer as a tantivy tokenizer, so that the index and the archive
//! scanner split text identically.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

#[derive(Clone, Default)]
pub struct MamoriTokenizer {
    /// Reused between texts: the token texts back to back, and where each one ends.
    texts: String,
    spans: Vec<(usize, usize, usize)>,
}

/// Tokens of one text, handed out one at a time through a single reused `Token`.
pub struct MamoriTokenStream<'a> {
    texts: &'a str,
    spans: &'a [(usize, usize, usize)],
    next: usize,
    token: Token,
}

impl Tokenizer for MamoriTokenizer {
    type TokenStream<'a> = MamoriTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> MamoriTokenStream<'a> {
        self.texts.clear();
        self.spans.clear();
        let (texts, spans) = (&mut self.texts, &mut self.spans);
        mamori_query::text::for_each_token(text, |t, start, end| {
            texts.push_str(t);
            spans.push((start, end, texts.len()));
        });
        MamoriTokenStream { texts: &self.texts, spans: &self.spans, next: 0, token: Token::default() }
    }
}

impl TokenStream for MamoriTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(&(start, end, text_end)) = self.spans.get(self.next) else { return false };
        let text_start = if self.next == 0 { 0 } else { self.spans[self.next - 1].2 };
        self.token.offset_from = start;
        self.token.offset_to = end;
        self.token.position = self.next;
        self.token.position_length = 1;
        self.token.text.clear();
        self.token.text.push_str(&self.texts[text_start..text_end]);
        self.next += 1;
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_tokens_as_the_query_language() {
        let mut t = MamoriTokenizer::default();
        for text in ["Failed password for ROOT from 10.1.2.3", "ログイン失敗 ユーザー=taro", "", "ｶﾅ full-width ＡＢＣ"]
        {
            let mut stream = t.token_stream(text);
            let mut got = Vec::new();
            while stream.advance() {
                let tok = stream.token();
                got.push((tok.text.clone(), tok.position));
            }
            let want: Vec<(String, usize)> =
                mamori_query::text::tokenize(text).map(|t| (t.text, t.position as usize)).collect();
            assert_eq!(got, want, "{text}");
        }
    }
}
