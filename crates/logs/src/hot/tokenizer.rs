//! The query language's tokenizer as a tantivy tokenizer, so that the index and the archive
//! scanner split text identically.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

#[derive(Clone, Default)]
pub struct MamoriTokenizer;

pub struct MamoriTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for MamoriTokenizer {
    type TokenStream<'a> = MamoriTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> MamoriTokenStream {
        let mut tokens = Vec::new();
        mamori_query::text::for_each_token(text, |t, start, end| {
            tokens.push(Token {
                offset_from: start,
                offset_to: end,
                position: tokens.len(),
                text: t.to_string(),
                position_length: 1,
            });
        });
        MamoriTokenStream { tokens, next: 0 }
    }
}

impl TokenStream for MamoriTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}
