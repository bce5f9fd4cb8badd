//! The RFC 6587 frame decoder must never panic, never hold more than its limit (plus the length
//! prefix), and give the same frames however the stream is split into reads. Every frame is
//! then parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_collect::framing::{Frame, FrameDecoder};
use mamori_collect::syslog::{self, ParseContext};

fn decode(chunks: &[&[u8]], limit: usize) -> Vec<Frame> {
    let mut decoder = FrameDecoder::new(limit);
    let mut frames = Vec::new();
    for chunk in chunks {
        decoder.push(chunk, &mut frames);
        assert!(decoder.buffered() <= limit + 16, "decoder holds more than its limit");
    }
    decoder.finish(&mut frames);
    frames
}

fuzz_target!(|data: &[u8]| {
    // Byte 0 picks the limit, byte 1 the read size; the rest is the stream.
    let [a, b, stream @ ..] = data else {
        return;
    };
    let limit = usize::from(*a) * 4;
    let read_size = usize::from(*b).max(1);
    let whole = decode(&[stream], limit);
    let chunks: Vec<&[u8]> = stream.chunks(read_size).collect();
    let split = decode(&chunks, limit);
    assert_eq!(whole, split, "frames depend on how the stream was split");
    let ctx = ParseContext::new(jiff::Timestamp::UNIX_EPOCH, syslog::default_timezone(), limit);
    for frame in &whole {
        assert!(frame.data.len() <= limit);
        assert!(frame.received_len >= frame.data.len());
        let _ = syslog::parse_frame(frame, &ctx);
    }
});
