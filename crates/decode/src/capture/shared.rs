//! Reading a regular file from two threads at once.
//!
//! The `read()` copy out of page cache is the largest single cost of a run on a big capture,
//! and the only one that can be split without splitting the analysis: the file is cut into
//! chunks at fixed offsets, and either thread may read the next chunk nobody has claimed (with
//! `pread`, so neither disturbs the other's place). The reading thread takes the chunks in
//! order and adopts each one as its next buffer; the analysing thread reads a chunk ahead
//! whenever it would otherwise wait for frames. Each chunk keeps room in front of its data
//! for the previous buffer's unfinished record, so no byte is copied twice.
//!
//! A chunk that comes back short marks the end of the file *as it was then*: the chunks
//! claimed after it are dropped and reading resumes at the exact byte where it stopped, so a
//! file that grows while it is read (tcpdump still writing) gives the same bytes as one
//! sequential `read()` loop, and one that shrinks ends cleanly where the bytes end, never with
//! a signal as a memory map would.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::{Condvar, Mutex, MutexGuard};

/// Room before a chunk's data for the unfinished record of the buffer before it (records up
/// to 64 KiB, the largest an Ethernet capture holds, move into it; a longer one is copied into
/// a buffer of its own).
pub(crate) const HEADROOM: usize = (64 + 4) << 10;

/// Bytes read into each chunk.
pub(crate) const CHUNK: usize = 1 << 20;

/// Chunks the helping thread may read past the one the reading thread takes next (which it
/// leaves to the reading thread).
const AHEAD: u64 = 2;

/// Buffers kept for reuse, at most.
const SPARE: usize = 6;

/// A chunk of the file: `buf[HEADROOM..HEADROOM + len]` holds the bytes at `offset`. `len` is
/// below [`CHUNK`] only where the file ended when it was read.
pub(crate) struct Chunk {
    pub(crate) buf: Vec<u8>,
    pub(crate) len: usize,
    pub(crate) offset: u64,
}

/// A file whose chunks two threads read (see the module's documentation).
pub(crate) struct SharedReads {
    file: File,
    state: Mutex<State>,
    /// Signalled when a chunk read by the helping thread is ready.
    ready: Condvar,
}

/// Which chunks are read, being read, and taken. Chunk `n` lies at `first_offset + (n -
/// first) * CHUNK`.
struct State {
    /// Number of the chunk the reading thread takes next.
    next_take: u64,
    /// Number and offset of the first chunk since the last restart.
    first: u64,
    first_offset: u64,
    /// Chunks the helping thread is reading.
    helping: Vec<u64>,
    /// Chunks read by the helping thread, not yet taken.
    done: Vec<(u64, io::Result<Chunk>)>,
    /// Buffers ready to be filled again.
    spare: Vec<Vec<u8>>,
    /// No more chunks are to be read ahead (the input ended or failed).
    closed: bool,
}

impl State {
    fn offset_of(&self, n: u64) -> u64 {
        self.first_offset + (n - self.first) * CHUNK as u64
    }

    fn buffer(&mut self) -> Vec<u8> {
        self.spare.pop().unwrap_or_default()
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        // A buffer grown for an unusually long record is not kept.
        if self.spare.len() < SPARE && buf.capacity() <= 2 * (HEADROOM + CHUNK) {
            self.spare.push(buf);
        }
    }

    /// Chunks from number `next_take` on lie from `offset` on; chunks read or being read for the
    /// old numbering are dropped.
    fn restart_at(&mut self, offset: u64) {
        self.drop_done();
        let next = self
            .helping
            .iter()
            .map(|h| h + 1)
            .fold(self.next_take, u64::max);
        self.next_take = next;
        self.first = next;
        self.first_offset = offset;
    }

    fn drop_done(&mut self) {
        for (_, c) in std::mem::take(&mut self.done) {
            if let Ok(c) = c {
                self.recycle(c.buf);
            }
        }
    }

    /// The chunk the helping thread should read now, if any: never the one the reading thread
    /// takes next (it would only wait for it; one further on is ready by the time it is
    /// wanted), at most [`AHEAD`] past it.
    fn to_help(&self) -> Option<u64> {
        if self.closed {
            return None;
        }
        let from = self.next_take + 1;
        (from..=self.next_take + AHEAD)
            .find(|n| !self.helping.contains(n) && !self.done.iter().any(|(d, _)| d == n))
    }
}

impl SharedReads {
    /// Chunks of `file` from byte `offset` on.
    pub(crate) fn new(file: File, offset: u64) -> SharedReads {
        SharedReads {
            file,
            state: Mutex::new(State {
                next_take: 0,
                first: 0,
                first_offset: offset,
                helping: Vec::new(),
                done: Vec::new(),
                spare: Vec::new(),
                closed: false,
            }),
            ready: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The lock guards plain bookkeeping that a panic cannot leave half-done.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next chunk in file order, for the reading thread: one read ahead by the other thread,
    /// or else read here (waiting only while the other thread is reading it). A chunk of length
    /// zero is the end of the file: it is always read here, at the moment it is wanted (one
    /// read ahead may have found the end before the file grew).
    pub(crate) fn take(&self) -> io::Result<Chunk> {
        let mut st = self.lock();
        loop {
            let n = st.next_take;
            if let Some(i) = st.done.iter().position(|(d, _)| *d == n) {
                st.next_take += 1;
                match st.done.swap_remove(i).1 {
                    Ok(c) if c.len == 0 => {
                        st.recycle(c.buf);
                        st.restart_at(c.offset);
                        continue;
                    }
                    taken => return taken,
                }
            }
            if !st.helping.contains(&n) {
                let (offset, buf) = (st.offset_of(n), st.buffer());
                st.next_take += 1;
                drop(st);
                return self.read_chunk(offset, buf);
            }
            st = self.ready.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// For the analysing thread when it has nothing to do: reads a chunk ahead of the reading
    /// thread, if one may be read now. Returns whether it read one.
    pub(crate) fn help(&self) -> bool {
        let (n, offset, buf) = {
            let mut st = self.lock();
            let Some(n) = st.to_help() else {
                return false;
            };
            st.helping.push(n);
            (n, st.offset_of(n), st.buffer())
        };
        let chunk = self.read_chunk(offset, buf);
        let mut st = self.lock();
        st.helping.retain(|h| *h != n);
        if n >= st.next_take {
            st.done.push((n, chunk));
        } else if let Ok(c) = chunk {
            // Read before a restart: the reading thread no longer wants it.
            st.recycle(c.buf);
        }
        drop(st);
        self.ready.notify_one();
        true
    }

    /// Resumes reading at `offset` (after a short chunk): chunks read or being read past it
    /// are dropped.
    pub(crate) fn restart_at(&self, offset: u64) {
        self.lock().restart_at(offset);
    }

    /// Stops all further reading ahead (the input ended or failed).
    pub(crate) fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        st.drop_done();
    }

    /// Gives back a buffer to be filled again.
    pub(crate) fn recycle(&self, buf: Vec<u8>) {
        self.lock().recycle(buf);
    }

    /// Reads up to [`CHUNK`] bytes at `offset` into `buf` after the headroom. Bytes read before
    /// a failure are kept (the chunk is then short, and the failure comes again on the retry).
    fn read_chunk(&self, offset: u64, mut buf: Vec<u8>) -> io::Result<Chunk> {
        buf.resize(HEADROOM + CHUNK, 0);
        let mut len = 0;
        while len < CHUNK {
            match self.file.read_at(
                &mut buf[HEADROOM + len..HEADROOM + CHUNK],
                offset + len as u64,
            ) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if len == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(Chunk { buf, len, offset })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// A file in the temporary directory, removed when dropped.
    struct TempFile(std::path::PathBuf);
    impl TempFile {
        fn new(tag: &str, bytes: &[u8]) -> TempFile {
            let path = std::env::temp_dir()
                .join(format!("phonehome-shared-{tag}-{}.bin", std::process::id()));
            std::fs::write(&path, bytes).expect("writes");
            TempFile(path)
        }
        fn open(&self) -> File {
            File::open(&self.0).expect("opens")
        }
        fn append(&self, bytes: &[u8]) {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&self.0)
                .expect("opens");
            f.write_all(bytes).expect("appends");
        }
    }
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn bytes(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
    }

    /// Takes chunks until the end, restarting after short ones as the stream does; `help`
    /// decides before each take how many chunks the other side reads ahead.
    fn read_all(r: &SharedReads, start: u64, mut help: impl FnMut(usize) -> usize) -> Vec<u8> {
        let mut out = Vec::new();
        for round in 0.. {
            for _ in 0..help(round) {
                r.help();
            }
            let c = r.take().expect("reads");
            assert_eq!(
                c.offset,
                start + out.len() as u64,
                "chunks come in file order"
            );
            out.extend_from_slice(&c.buf[HEADROOM..HEADROOM + c.len]);
            if c.len == 0 {
                break;
            }
            if c.len < CHUNK {
                r.restart_at(c.offset + c.len as u64);
            }
        }
        out
    }

    #[test]
    fn chunks_read_by_either_side_give_the_file_in_order() {
        let data = bytes(5 * CHUNK + 12_345, 7);
        let f = TempFile::new("order", &data);
        for pattern in [0usize, 1, 2, 3] {
            let r = SharedReads::new(f.open(), 10);
            let got = read_all(&r, 10, |round| match pattern {
                0 => 0,
                1 => 1,
                2 => round % 3,
                _ => 5,
            });
            assert_eq!(got, &data[10..], "pattern {pattern}");
        }
    }

    #[test]
    fn a_file_that_grows_while_read_gives_every_byte_once() {
        let first = bytes(CHUNK + CHUNK / 2, 1);
        let f = TempFile::new("grow", &first);
        let r = SharedReads::new(f.open(), 10);
        let mut out = Vec::new();
        // Chunk 0 is whole; the helper reads chunks 2 and 3 ahead, empty now.
        let c = r.take().expect("reads");
        out.extend_from_slice(&c.buf[HEADROOM..HEADROOM + c.len]);
        assert!(r.help() && r.help());
        assert!(!r.help(), "no more than {AHEAD} chunks ahead");
        // The file grows before the short chunk is taken: the empty chunk read ahead must not
        // be taken for the end.
        let more = bytes(3 * CHUNK, 2);
        f.append(&more);
        out.extend(read_all(&r, (CHUNK + 10) as u64, |_| 1));
        let mut all = first[10..].to_vec();
        all.extend_from_slice(&more);
        assert_eq!(out.len(), all.len());
        assert!(out == all);
    }

    #[test]
    fn nothing_is_claimed_after_close() {
        let f = TempFile::new("close", &bytes(3 * CHUNK, 3));
        let r = SharedReads::new(f.open(), 0);
        r.close();
        assert!(!r.help());
        // The reading thread may still take what it needs.
        assert_eq!(r.take().expect("reads").len, CHUNK);
    }
}
