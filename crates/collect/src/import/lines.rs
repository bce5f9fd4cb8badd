//! Reading a file line by line with bounded memory, and counting the bytes taken from the file
//! for a progress bar.

use std::io::{self, BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Reads one line into `buf` (without its `\n`), keeping at most `max` bytes of it and
/// skipping the rest. Returns the full length of the line, or `None` at the end of the input.
/// However long the line, memory stays at `max` plus the reader's buffer.
pub fn read_line_bounded(reader: &mut dyn BufRead, max: usize, buf: &mut Vec<u8>) -> io::Result<Option<usize>> {
    buf.clear();
    let mut total = 0usize;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(any.then_some(total));
        }
        any = true;
        let (chunk, consumed, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        total = total.saturating_add(chunk.len());
        reader.consume(consumed);
        if done {
            return Ok(Some(total));
        }
    }
}

/// Counts the bytes read through it into a shared counter.
pub struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> CountingReader<R> {
    pub fn new(inner: R, count: Arc<AtomicU64>) -> Self {
        CountingReader { inner, count }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    fn lines(input: &[u8], max: usize, capacity: usize) -> Vec<(Vec<u8>, usize)> {
        let mut reader = BufReader::with_capacity(capacity, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(full) = read_line_bounded(&mut reader, max, &mut buf).unwrap() {
            assert!(buf.len() <= max);
            out.push((buf.clone(), full));
        }
        out
    }

    #[test]
    fn splits_and_bounds() {
        for capacity in [1, 2, 3, 5, 64] {
            let got = lines(b"ab\nlonger line\n\nlast", 5, capacity);
            assert_eq!(
                got,
                vec![(b"ab".to_vec(), 2), (b"longe".to_vec(), 11), (b"".to_vec(), 0), (b"last".to_vec(), 4)],
                "capacity {capacity}"
            );
        }
        assert!(lines(b"", 5, 8).is_empty());
        assert_eq!(lines(b"\n", 5, 8), vec![(b"".to_vec(), 0)]);
    }

    #[test]
    fn counts_bytes() {
        let count = Arc::new(AtomicU64::new(0));
        let mut r = CountingReader::new(&b"hello"[..], count.clone());
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(count.load(Ordering::Relaxed), 5);
    }
}
