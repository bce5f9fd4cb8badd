use super::*;

fn decode_all(chunks: &[&[u8]], limit: usize) -> Vec<Frame> {
    let mut d = FrameDecoder::new(limit);
    let mut out = Vec::new();
    for chunk in chunks {
        d.push(chunk, &mut out);
        assert!(d.buffered() <= limit + MAX_LEN_DIGITS as usize + 1);
    }
    d.finish(&mut out);
    out
}

fn datas(frames: &[Frame]) -> Vec<&[u8]> {
    frames.iter().map(|f| f.data.as_slice()).collect()
}

/// A stream mixing every framing, including a frame whose content holds LF and NUL.
const MIXED: &[u8] = b"10 <13>hello\n<14>line one\r\n\n\n<15>line two\0\
18 <13>multi\nline\0end<9>no terminator";

fn mixed_expected() -> Vec<&'static [u8]> {
    vec![b"<13>hello\n", b"<14>line one", b"<15>line two", b"<13>multi\nline\0end", b"<9>no terminator"]
}

#[test]
fn mixed_framing_in_one_read() {
    let frames = decode_all(&[MIXED], 1024);
    assert_eq!(datas(&frames), mixed_expected());
    assert_eq!(frames[0].framing, Framing::OctetCounting);
    assert_eq!(frames[1].framing, Framing::NonTransparent);
    assert!(frames.iter().all(|f| !f.is_truncated() && !f.incomplete));
}

#[test]
fn split_at_every_byte_boundary() {
    for cut in 0..=MIXED.len() {
        let frames = decode_all(&[&MIXED[..cut], &MIXED[cut..]], 1024);
        assert_eq!(datas(&frames), mixed_expected(), "cut at {cut}");
    }
    for a in 0..=MIXED.len() {
        for b in a..=MIXED.len() {
            let frames = decode_all(&[&MIXED[..a], &MIXED[a..b], &MIXED[b..]], 1024);
            assert_eq!(datas(&frames), mixed_expected(), "cuts at {a}, {b}");
        }
    }
    let bytes: Vec<&[u8]> = MIXED.chunks(1).collect();
    assert_eq!(datas(&decode_all(&bytes, 1024)), mixed_expected());
}

#[test]
fn octet_counting_back_to_back() {
    let frames = decode_all(&[b"5 <1>ab5 <2>cd"], 100);
    assert_eq!(datas(&frames), vec![b"<1>ab", b"<2>cd"]);
}

#[test]
fn digits_not_followed_by_a_pri_are_a_line() {
    let frames = decode_all(&[b"123 hello\n2024-01-01 x\n1234567890123 <1>y\n"], 100);
    assert_eq!(datas(&frames), vec![&b"123 hello"[..], b"2024-01-01 x", b"1234567890123 <1>y"]);
    assert!(frames.iter().all(|f| f.framing == Framing::NonTransparent));
}

#[test]
fn digits_at_eof_are_a_line() {
    assert_eq!(datas(&decode_all(&[b"42"], 100)), vec![b"42"]);
    assert_eq!(datas(&decode_all(&[b"42 "], 100)), vec![b"42 "]);
}

#[test]
fn oversized_line_is_cut_and_the_rest_discarded() {
    let mut input = vec![b'x'; 1000];
    input.extend_from_slice(b"\r\n<13>next\n");
    for chunk in [1, 7, 64, 2000] {
        let chunks: Vec<&[u8]> = input.chunks(chunk).collect();
        let frames = decode_all(&chunks, 100);
        assert_eq!(frames.len(), 2, "chunk {chunk}");
        assert_eq!(frames[0].data, vec![b'x'; 100]);
        assert_eq!(frames[0].original_len, 1000);
        assert!(frames[0].is_truncated());
        assert_eq!(frames[1].data, b"<13>next");
    }
}

#[test]
fn oversized_octet_frame_is_cut_and_the_rest_discarded() {
    let mut input = b"1000 <".to_vec();
    input.extend(std::iter::repeat_n(b'y', 999));
    input.extend_from_slice(b"5 <1>ok");
    let frames = decode_all(&[&input], 100);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].data.len(), 100);
    assert_eq!(frames[0].original_len, 1000);
    assert!(frames[0].is_truncated() && !frames[0].incomplete);
    assert_eq!(frames[1].data, b"<1>ok");
    assert_eq!(frames[1].original_len, 5);
}

#[test]
fn eof_inside_an_octet_frame_is_incomplete() {
    let frames = decode_all(&[b"50 <13>only part"], 100);
    assert_eq!(frames.len(), 1);
    assert!(frames[0].incomplete);
    assert_eq!(frames[0].original_len, 50);
    assert_eq!(frames[0].received_len, 13);
    assert_eq!(frames[0].data, b"<13>only part");
}

#[test]
fn blank_lines_and_separators_are_skipped() {
    let frames = decode_all(&[b"\n\r\n\0   \n\t\n<1>a\n  \r\n"], 100);
    assert_eq!(datas(&frames), vec![b"<1>a"]);
    assert!(decode_all(&[b""], 100).is_empty());
}

#[test]
fn crlf_split_across_reads_is_removed() {
    let frames = decode_all(&[b"<1>a\r", b"\n<2>b\r"], 100);
    assert_eq!(datas(&frames), vec![b"<1>a", b"<2>b"]);
}

#[test]
fn a_cr_in_the_middle_is_kept() {
    let frames = decode_all(&[b"<1>a\rb\n"], 100);
    assert_eq!(datas(&frames), vec![b"<1>a\rb"]);
}

#[test]
fn zero_limit_never_panics() {
    let frames = decode_all(&[MIXED], 0);
    assert!(frames.iter().all(|f| f.data.is_empty() && f.is_truncated()));
}

#[test]
fn a_digit_run_longer_than_the_limit_is_cut_too() {
    // Found by fuzzing: digits held while deciding on octet counting, then a line.
    let frames = decode_all(&[b"5?"], 0);
    assert_eq!(frames.len(), 1);
    assert!(frames[0].data.is_empty() && frames[0].is_truncated());
    assert_eq!(frames[0].original_len, 2);
    let frames = decode_all(&[b"123456 x\n"], 3);
    assert_eq!(frames[0].data, b"123");
    assert_eq!(frames[0].original_len, 8);
}
