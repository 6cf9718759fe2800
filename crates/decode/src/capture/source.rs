//! Byte sources: bytes in memory or a buffered stream (files, stdin, decompressors), both seen by
//! the record parsers as one sliding window over the capture's bytes.

use std::fs::File;
use std::io::{self, Read};
use std::sync::Arc;

use super::shared::{SharedReads, CHUNK, HEADROOM};

/// How many bytes a streaming source asks the reader for at a time.
pub(crate) const READ_CHUNK: usize = 1 << 20;

/// Size of the buffers handed over whole (see [`Handoff`]); 256 KiB and 4 MiB measured slower
/// on two cores.
const HANDOFF_CHUNK: usize = 1 << 20;

/// A window over the capture's bytes that record parsers consume from the front.
///
/// `window()` returns the bytes not yet consumed that are in memory now; `fill(n)` makes at least
/// `n` bytes available unless the input ends first. In-memory bytes are all there from the start;
/// a stream keeps one buffer and reads on demand, so that memory is bounded by the largest
/// record, not by the capture.
pub(crate) enum Source {
    /// A whole capture already in memory.
    Mapped {
        /// The bytes.
        bytes: Bytes,
        /// Consumed so far.
        pos: usize,
    },
    /// A reader, read in chunks into `buf[start..end]`.
    Stream {
        reader: Box<dyn Read + Send>,
        buf: Vec<u8>,
        start: usize,
        end: usize,
        /// Absolute offset of `buf[start]`.
        base: u64,
        eof: bool,
        /// Set when the buffers are handed to another thread (see [`Handoff`]).
        handoff: Option<Handoff>,
        /// Set when a regular file is read in chunks by two threads (see [`SharedReads`]);
        /// `reader` is then no longer used.
        shared: Option<Arc<SharedReads>>,
    },
}

/// Buffers that move whole to a consumer instead of being compacted in place: once frames have
/// been handed out from a buffer, it is never written again; when more bytes are needed and it
/// has no room, it is *retired* (the consumer gets it with its frames) and the unconsumed tail
/// moves to a spare buffer. Only that tail (less than one record) is ever copied.
#[derive(Default)]
pub(crate) struct Handoff {
    /// Buffers back from the consumer, ready to be filled again.
    pub(crate) spare: Vec<Vec<u8>>,
    /// Buffers retired since the last [`Source::take_retired`], oldest first.
    pub(crate) retired: Vec<Vec<u8>>,
}

/// Owned bytes behind a [`Source::Mapped`].
pub(crate) enum Bytes {
    Vec(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Vec(v) => v,
        }
    }
}

impl Source {
    /// A stream source over `reader`, with `prefix` (bytes already read to sniff the format) first.
    pub(crate) fn stream(prefix: Vec<u8>, reader: Box<dyn Read + Send>) -> Source {
        let end = prefix.len();
        let mut buf = prefix;
        buf.resize(end.max(READ_CHUNK), 0);
        Source::Stream {
            reader,
            buf,
            start: 0,
            end,
            base: 0,
            eof: false,
            handoff: None,
            shared: None,
        }
    }

    /// Switches a stream to handing its buffers over whole (a no-op for bytes in memory).
    pub(crate) fn enable_handoff(&mut self) {
        if let Source::Stream { handoff, .. } = self {
            handoff.get_or_insert_with(Handoff::default);
        }
    }

    /// Switches a stream over `file` (the same file, not yet read past the window) to chunks
    /// read by two threads and handed over whole; returns the reads for the helping thread to
    /// share. `None` for bytes in memory or an input already at its end.
    pub(crate) fn share_reads(&mut self, file: File) -> Option<Arc<SharedReads>> {
        self.enable_handoff();
        match self {
            Source::Stream {
                base,
                start,
                end,
                eof: false,
                shared,
                ..
            } => {
                let next = *base + (*end - *start) as u64;
                Some(
                    shared
                        .insert(Arc::new(SharedReads::new(file, next)))
                        .clone(),
                )
            }
            _ => None,
        }
    }

    /// Buffers retired since the last call, oldest first.
    pub(crate) fn take_retired(&mut self) -> Vec<Vec<u8>> {
        match self {
            Source::Stream {
                handoff: Some(h), ..
            } if !h.retired.is_empty() => std::mem::take(&mut h.retired),
            _ => Vec::new(),
        }
    }

    /// Gives back a buffer the consumer is done with (a few are kept for reuse).
    pub(crate) fn give_spare(&mut self, b: Vec<u8>) {
        if let Source::Stream {
            handoff: Some(h),
            shared,
            ..
        } = self
        {
            if let Some(sh) = shared {
                sh.recycle(b);
            } else if h.spare.len() < 4 {
                h.spare.push(b);
            }
        }
    }

    /// The whole buffer behind the window: `buffer()[window_index()..]` starts the window.
    #[inline]
    pub(crate) fn buffer(&self) -> &[u8] {
        match self {
            Source::Mapped { bytes, .. } => bytes,
            Source::Stream { buf, end, .. } => &buf[..*end],
        }
    }

    /// Where the window starts in [`Source::buffer`].
    #[inline]
    pub(crate) fn window_index(&self) -> usize {
        match self {
            Source::Mapped { bytes, pos } => (*pos).min(bytes.len()),
            Source::Stream { start, .. } => *start,
        }
    }

    /// Takes the current buffer out of a finished stream (its last frames go to the consumer);
    /// the window is empty afterwards. `None` for bytes in memory.
    pub(crate) fn take_buffer(&mut self) -> Option<Vec<u8>> {
        match self {
            Source::Mapped { .. } => None,
            Source::Stream {
                buf,
                start,
                end,
                eof,
                shared,
                ..
            } => {
                *eof = true;
                if let Some(sh) = shared {
                    sh.close();
                }
                let b = std::mem::take(buf);
                *start = 0;
                *end = 0;
                Some(b)
            }
        }
    }

    /// The unconsumed bytes now in memory.
    #[inline]
    pub(crate) fn window(&self) -> &[u8] {
        match self {
            Source::Mapped { bytes, pos } => bytes.get(*pos..).unwrap_or(&[]),
            Source::Stream {
                buf, start, end, ..
            } => &buf[*start..*end],
        }
    }

    /// Absolute offset of the first unconsumed byte.
    #[inline]
    pub(crate) fn offset(&self) -> u64 {
        match self {
            Source::Mapped { pos, .. } => *pos as u64,
            Source::Stream { base, .. } => *base,
        }
    }

    /// Marks `n` bytes as consumed (`n` must not exceed `window().len()`).
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        match self {
            Source::Mapped { bytes, pos } => *pos = (*pos + n).min(bytes.len()),
            Source::Stream {
                start, end, base, ..
            } => {
                let n = n.min(*end - *start);
                *start += n;
                *base += n as u64;
            }
        }
    }

    /// Tries to have at least `want` unconsumed bytes in memory. Returns `Ok(true)` when they are,
    /// `Ok(false)` when the input ended first (the window then holds all that is left).
    pub(crate) fn fill(&mut self, want: usize) -> io::Result<bool> {
        match self {
            Source::Mapped { bytes, pos } => Ok(bytes.len().saturating_sub(*pos) >= want),
            Source::Stream {
                reader,
                buf,
                start,
                end,
                base,
                eof,
                handoff,
                shared,
            } => {
                if let (Some(sh), Some(h)) = (shared.as_deref(), handoff.as_mut()) {
                    let mut window = Window {
                        buf,
                        start,
                        end,
                        eof,
                    };
                    return window.fill_shared(sh, &mut h.retired, want);
                }
                while *end - *start < want {
                    if *eof {
                        return Ok(false);
                    }
                    if let Some(h) = handoff.as_mut() {
                        // Frames may have been handed out from `buf[..start]`: such a buffer is
                        // never moved or grown (it would grow without bound under a reader
                        // that returns little at a time, like a decompressor). It is read on
                        // into its free room, or retired when that is short.
                        let needed = want - (*end - *start);
                        if buf.len() - *end < needed.max(HANDOFF_CHUNK / 4) {
                            if *start > 0 {
                                let tail = *end - *start;
                                let mut fresh = h.spare.pop().unwrap_or_default();
                                // One size for every buffer (unless a record is larger), so that
                                // recycled buffers are never reallocated.
                                let size =
                                    want.max(tail + HANDOFF_CHUNK).max(HANDOFF_CHUNK * 5 / 4);
                                if fresh.len() < size {
                                    fresh.resize(size, 0);
                                }
                                fresh[..tail].copy_from_slice(&buf[*start..*end]);
                                h.retired.push(std::mem::replace(buf, fresh));
                                *start = 0;
                                *end = tail;
                            } else {
                                // Nothing handed out yet: one record larger than the buffer.
                                let size = want.max(*end + HANDOFF_CHUNK);
                                buf.resize(size, 0);
                            }
                        }
                    } else {
                        if *start > 0 {
                            // Compact, then grow to hold `want` bytes plus a chunk of read-ahead.
                            // The tail goes where each byte's address has its file offset's
                            // place within a page, so that `read()` copies whole pages to whole
                            // pages (measured: about 2% less time on one thread).
                            let tail = *end - *start;
                            let mut at = page_phase(buf.as_ptr(), *base);
                            if at + tail > buf.len() {
                                // No room to shift a tail nearly as long as the buffer: to the
                                // front, which always fits.
                                at = 0;
                            }
                            if *start != at {
                                buf.copy_within(*start..*end, at);
                            }
                            *start = at;
                            *end = at + tail;
                        }
                        let need = want.max(*end + READ_CHUNK);
                        if buf.len() < need {
                            buf.resize(need, 0);
                        }
                    }
                    match reader.read(&mut buf[*end..]) {
                        Ok(0) => *eof = true,
                        Ok(n) => *end += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            *eof = true;
                            return Err(e);
                        }
                    }
                }
                Ok(true)
            }
        }
    }

    /// Consumes `n` bytes, reading past the window in chunks (never holding more than one
    /// chunk) when they are not all in memory. Returns how many were skipped: fewer than `n`
    /// only when the input ended.
    pub(crate) fn skip(&mut self, n: usize) -> io::Result<usize> {
        let mut left = n;
        loop {
            let have = self.window().len().min(left);
            self.consume(have);
            left -= have;
            if left == 0 || !self.fill(left.min(READ_CHUNK))? && self.window().is_empty() {
                return Ok(n - left);
            }
        }
    }

    /// Whether the input is known to have no bytes past the window.
    #[cfg(test)]
    pub(crate) fn at_end(&mut self) -> io::Result<bool> {
        Ok(!self.fill(1)?)
    }
}

/// Where in a buffer at `ptr` the byte at file offset `offset` goes for its address to have
/// the offset's place within a 4 KiB page.
fn page_phase(ptr: *const u8, offset: u64) -> usize {
    const PAGE: usize = 4096;
    (offset as usize).wrapping_sub(ptr as usize) % PAGE
}

/// The parts of a stream that [`Window::fill_shared`] changes.
struct Window<'a> {
    buf: &'a mut Vec<u8>,
    start: &'a mut usize,
    end: &'a mut usize,
    eof: &'a mut bool,
}

impl Window<'_> {
    /// [`Source::fill`] for chunks read by two threads: each chunk becomes the next buffer
    /// whole, with the unconsumed tail of the one before copied into the room in front of it;
    /// the buffer before is retired.
    fn fill_shared(
        &mut self,
        sh: &SharedReads,
        retired: &mut Vec<Vec<u8>>,
        want: usize,
    ) -> io::Result<bool> {
        while *self.end - *self.start < want {
            if *self.eof {
                return Ok(false);
            }
            let chunk = match sh.take() {
                Ok(c) => c,
                Err(e) => {
                    *self.eof = true;
                    sh.close();
                    return Err(e);
                }
            };
            if chunk.len == 0 {
                *self.eof = true;
                sh.close();
                sh.recycle(chunk.buf);
                continue;
            }
            if chunk.len < CHUNK {
                // The file ended there when the chunk was read; it may have grown since.
                sh.restart_at(chunk.offset + chunk.len as u64);
            }
            let tail = *self.end - *self.start;
            let data = HEADROOM..HEADROOM + chunk.len;
            let fresh = if tail <= HEADROOM {
                let mut b = chunk.buf;
                b[HEADROOM - tail..HEADROOM].copy_from_slice(&self.buf[*self.start..*self.end]);
                *self.start = HEADROOM - tail;
                *self.end = data.end;
                b
            } else {
                // An unfinished record longer than the room: it and the chunk are copied
                // into a buffer of their own (rare: records over 64 KiB).
                let mut b = Vec::with_capacity(tail + chunk.len);
                b.extend_from_slice(&self.buf[*self.start..*self.end]);
                b.extend_from_slice(&chunk.buf[data]);
                sh.recycle(chunk.buf);
                *self.start = 0;
                *self.end = b.len();
                b
            };
            retired.push(std::mem::replace(self.buf, fresh));
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte per call, to exercise refills.
    struct Trickle(Vec<u8>, usize);
    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.1 >= self.0.len() || out.is_empty() {
                return Ok(0);
            }
            out[0] = self.0[self.1];
            self.1 += 1;
            Ok(1)
        }
    }

    #[test]
    fn stream_refills_and_tracks_offsets() {
        let data: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let mut s = Source::stream(vec![], Box::new(Trickle(data.clone(), 0)));
        assert!(s.fill(10).unwrap());
        assert_eq!(&s.window()[..10], &data[..10]);
        s.consume(7);
        assert_eq!(s.offset(), 7);
        assert!(s.fill(4000).unwrap());
        assert_eq!(&s.window()[..4000], &data[7..4007]);
        s.consume(4000);
        assert!(!s.fill(2000).unwrap());
        assert_eq!(s.window(), &data[4007..]);
        assert_eq!(s.offset(), 4007);
    }

    /// Compaction puts the unconsumed tail where its addresses match its file offsets within a
    /// page, and to the front when that would not fit (a record nearly as long as the buffer,
    /// consumed from a few bytes in); the bytes come out the same either way.
    #[test]
    fn compaction_keeps_the_bytes_whatever_the_tail() {
        let data: Vec<u8> = (0..3 * READ_CHUNK + 777).map(|i| (i % 251) as u8).collect();
        for (first, want) in [
            (3, READ_CHUNK + 5000),
            (5000, 10),
            (READ_CHUNK - 1, 2 * READ_CHUNK),
            (1, READ_CHUNK),
        ] {
            let mut s = Source::stream(vec![], Box::new(io::Cursor::new(data.clone())));
            assert!(s.fill(READ_CHUNK).unwrap());
            s.consume(first);
            assert!(s.fill(want).unwrap());
            assert_eq!(&s.window()[..want], &data[first..first + want]);
            s.consume(want);
            let at = first + want;
            assert_eq!(s.offset(), at as u64);
            assert!(!s.fill(data.len()).unwrap());
            assert_eq!(s.window(), &data[at..]);
        }
    }

    /// A file that grows while it is read in shared chunks (tcpdump still writing): the end
    /// seen first is not taken for the end of the input, and every byte comes once, in order.
    #[test]
    fn shared_reads_follow_a_growing_file() {
        use std::io::Write;
        let path = std::env::temp_dir().join(format!("phonehome-grow-{}.bin", std::process::id()));
        let data: Vec<u8> = (0..CHUNK + 1000).map(|i| (i % 253) as u8).collect();
        std::fs::write(&path, &data).expect("writes");
        let file = File::open(&path).expect("opens");
        let mut s = Source::stream(vec![], Box::new(file.try_clone().expect("dup")));
        let sh = s.share_reads(file).expect("a stream");
        assert!(s.fill(CHUNK + 1000).unwrap());
        assert!(s.window() == &data[..]);
        s.consume(CHUNK + 1000);
        // The helping thread has looked past the end already.
        assert!(sh.help());
        let more: Vec<u8> = (0..5000).map(|i| (i % 7) as u8).collect();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("opens");
        f.write_all(&more).expect("appends");
        assert!(s.fill(5000).unwrap());
        assert_eq!(s.window(), &more[..]);
        assert_eq!(s.offset(), (CHUNK + 1000) as u64);
        assert!(!s.fill(5001).unwrap());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn mapped_never_reads() {
        let mut s = Source::Mapped {
            bytes: Bytes::Vec(vec![1, 2, 3]),
            pos: 0,
        };
        assert!(s.fill(3).unwrap());
        assert!(!s.fill(4).unwrap());
        s.consume(5);
        assert_eq!(s.window(), &[] as &[u8]);
        assert!(s.at_end().unwrap());
    }
}
