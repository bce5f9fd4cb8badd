//! The body type of every response the edge sends, and a body that replays what was read for
//! inspection before the rest of the origin's body.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;

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

/// Reads up to a little more than `limit` bytes of a body. Returns what was read, whether that
/// was all of it, and the unread rest (None when complete or when reading failed).
pub async fn read_prefix(mut body: Incoming, limit: usize) -> (Bytes, bool, Option<Incoming>) {
    let mut buf = BytesMut::new();
    loop {
        if buf.len() > limit {
            return (buf.freeze(), false, Some(body));
        }
        match body.frame().await {
            None => return (buf.freeze(), true, None),
            Some(Ok(f)) => {
                if let Ok(d) = f.into_data() {
                    buf.extend_from_slice(&d);
                }
            }
            Some(Err(e)) => {
                tracing::debug!(error = %e, "reading the origin's response body failed");
                return (buf.freeze(), false, None);
            }
        }
    }
}
