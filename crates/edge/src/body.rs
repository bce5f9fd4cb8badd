//! The body type of every response the edge sends, and a body that replays what was read for
//! inspection before the rest of the origin's body.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full, combinators::BoxBody};

pub type EdgeBody = BoxBody<Bytes, hyper::Error>;

pub fn full(b: Bytes) -> EdgeBody {
    Full::new(b).map_err(|never| match never {}).boxed()
}

/// `prefix` first, then whatever `rest` still holds.
pub struct Prefixed<B> {
    pub prefix: Option<Bytes>,
    pub rest: B,
}

impl<B: Body<Data = Bytes> + Unpin> Body for Prefixed<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        if let Some(p) = self.prefix.take() {
            return Poll::Ready(Some(Ok(Frame::data(p))));
        }
        Pin::new(&mut self.rest).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none() && self.rest.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let mut h = self.rest.size_hint();
        let p = self.prefix.as_ref().map_or(0, |b| b.len() as u64);
        h.set_lower(h.lower() + p);
        if let Some(u) = h.upper() {
            h.set_upper(u + p);
        }
        h
    }
}
