//! Reading on a thread of its own: the reading thread fills buffers and finds the frames in
//! them; the caller's thread gets each buffer whole, with the places of its frames, and hands it
//! back when done. No frame is copied (only the partial record at a buffer's end moves to the
//! next buffer), so reading (the `read()` copy out of page cache or a decompressor, and record
//! framing) runs beside the analysis instead of before it. For a regular file the caller's
//! thread also reads chunks of the file ahead whenever no frames are waiting for it, so that
//! the `read()` copy, the largest cost of reading, is split between the two threads (see
//! `shared.rs`).

use std::sync::mpsc;

use super::{CaptureReader, Frame, FrameMeta};

/// Batches waiting for the consumer, at most: with buffers of about 1 MiB, memory stays a few
/// MiB whatever the capture's size.
const QUEUE: usize = 2;

/// Frames the reading thread prepares between two attempts to hand a batch over.
const PREPARE_STEP: usize = 64;

/// Work on a frame that the reading thread may do for the consumer while the consumer is
/// behind (see [`CaptureReader::for_each_frame_prepared`]). What `prepare` returns must depend
/// on the frame alone: the consumer gets it for some frames and not for others, depending on
/// which thread was ahead, and must reach the same result either way.
pub trait Prepare: Sync {
    /// What is handed to the consumer with a prepared frame.
    type Out: Send;
    /// Room shared by the prepared frames of one batch (their text, say), handed to the
    /// consumer with each of them and reused batch after batch: what is prepared needs no
    /// memory of its own, and none is freed on the other thread.
    type Scratch: Default + Send;
    /// The work for one frame; `None` when there is nothing to hand over.
    fn prepare(&self, frame: &Frame<'_>, scratch: &mut Self::Scratch) -> Option<Self::Out>;
    /// Empties `scratch` for another batch, keeping its capacity.
    fn clear(&self, scratch: &mut Self::Scratch);
}

/// Prepares nothing.
struct Nothing;

impl Prepare for Nothing {
    type Out = ();
    type Scratch = ();
    fn prepare(&self, _: &Frame<'_>, _: &mut ()) -> Option<()> {
        None
    }
    fn clear(&self, _: &mut ()) {}
}

/// One retired buffer and the frames found in it, in order, with what was prepared for the
/// first of them.
struct Batch<P: Prepare> {
    buf: Vec<u8>,
    frames: Vec<FrameMeta>,
    /// One entry per frame from the first, for as many frames as the reading thread got to.
    prepared: Vec<Option<P::Out>>,
    /// What the prepared frames share.
    scratch: P::Scratch,
}

/// A batch's lists and scratch, back from the consumer for reuse.
type Spare<P> = (
    Vec<FrameMeta>,
    Vec<Option<<P as Prepare>::Out>>,
    <P as Prepare>::Scratch,
);

impl CaptureReader {
    /// Calls `f` on every frame, in order, like a loop over [`CaptureReader::next_frame`], but
    /// with the reading done on a second thread. The frames, the warnings and the counters are
    /// the same as those of the plain loop; for a capture in memory, or a reader already partly
    /// read, it is the plain loop.
    ///
    /// A panic in `f` stops the reading thread and is passed on to the caller.
    pub fn for_each_frame_read_ahead(&mut self, mut f: impl FnMut(&Frame<'_>)) {
        self.for_each_frame_prepared(&Nothing, |frame, _, _| f(frame));
    }

    /// [`CaptureReader::for_each_frame_read_ahead`], where the reading thread also runs
    /// `prep` on the frames of a batch while the consumer is still busy with earlier ones, and
    /// `f` gets what it made. When the consumer is the slower, most frames come prepared and
    /// the work is shared by the two threads; when the reading is the slower, frames come
    /// unprepared (`None`) as soon as they are read. For the plain loop (a capture in memory,
    /// or a reader already partly read) nothing is prepared.
    pub fn for_each_frame_prepared<P: Prepare>(
        &mut self,
        prep: &P,
        mut f: impl FnMut(&Frame<'_>, Option<P::Out>, &mut P::Scratch),
    ) {
        if self.stats.frames > 0 || matches!(self.src, super::Source::Mapped { .. }) {
            let mut scratch = P::Scratch::default();
            while let Some(frame) = self.next_frame() {
                f(&frame, None, &mut scratch);
            }
            return;
        }
        // A regular file is read by both threads: this one reads ahead whenever it would
        // otherwise wait for frames.
        let shared = self.file.take().and_then(|f| self.src.share_reads(f));
        let (tx, rx) = mpsc::sync_channel::<Batch<P>>(QUEUE);
        let (back_tx, back_rx) = mpsc::channel::<Batch<P>>();
        std::thread::scope(|scope| {
            // The receiver belongs to this closure: if `f` panics, it is dropped before the
            // scope waits for the reading thread, which then stops instead of waiting forever
            // to send.
            let rx = rx;
            scope.spawn(move || self.read_batches(prep, &tx, &back_rx));
            loop {
                let mut batch = match rx.try_recv() {
                    Ok(b) => b,
                    Err(mpsc::TryRecvError::Disconnected) => break,
                    Err(mpsc::TryRecvError::Empty) => {
                        if shared.as_ref().is_some_and(|s| s.help()) {
                            continue;
                        }
                        match rx.recv() {
                            Ok(b) => b,
                            Err(_) => break,
                        }
                    }
                };
                let Batch {
                    buf,
                    frames,
                    prepared,
                    scratch,
                } = &mut batch;
                // The prepared frames (a prefix of the batch), then the rest: a loop that moved an
                // `Option` of a prepared frame out per frame copied it for every frame.
                let (ready, rest) = frames.split_at(prepared.len().min(frames.len()));
                for (m, made) in ready.iter().zip(prepared.drain(..)) {
                    f(&m.frame(buf), made, scratch);
                }
                for m in rest {
                    f(&m.frame(buf), None, scratch);
                }
                // The reader may have finished: a batch that cannot go back is just dropped.
                let _ = back_tx.send(batch);
            }
        });
    }

    /// The reading thread: sends each buffer with its frames when the source retires it, and
    /// the last one at the end, preparing frames while the queue is full. Stops early when the
    /// consumer has gone.
    fn read_batches<P: Prepare>(
        &mut self,
        prep: &P,
        tx: &mpsc::SyncSender<Batch<P>>,
        back: &mpsc::Receiver<Batch<P>>,
    ) {
        self.src.enable_handoff();
        let mut frames = Vec::new();
        // Frame lists come back with their buffers and are reused: allocating them here and
        // freeing them on the other thread let memory grow with the capture (measured on gzip
        // input).
        let mut spare: Vec<Spare<P>> = Vec::new();
        loop {
            let next = self.next_meta();
            // Frames found so far lie in the first buffer retired while finding `next` (any
            // later one was only skipped through); `next` lies in the current buffer.
            let mut retired = self.src.take_retired().into_iter();
            if let Some(buf) = retired.next() {
                // Buffers and lists back from the consumer, looked for once a batch (a poll of
                // the channel per frame left the reading thread less time to prepare frames).
                for b in back.try_iter() {
                    self.src.give_spare(b.buf);
                    if spare.len() < 2 {
                        spare.push((b.frames, b.prepared, b.scratch));
                    }
                }
                let (mut next_frames, prepared, scratch) = spare.pop().unwrap_or_default();
                next_frames.clear();
                let batch = Batch {
                    buf,
                    frames: std::mem::replace(&mut frames, next_frames),
                    prepared,
                    scratch,
                };
                if !send(prep, tx, batch) {
                    return;
                }
            }
            for b in retired {
                self.src.give_spare(b);
            }
            match next {
                Some(m) => frames.push(m),
                None => break,
            }
        }
        if let Some(buf) = self.src.take_buffer() {
            let batch = Batch {
                buf,
                frames,
                prepared: Vec::new(),
                scratch: P::Scratch::default(),
            };
            send(prep, tx, batch);
        }
    }
}

/// Hands `batch` over, preparing its frames in steps for as long as the queue is full. Returns
/// false when the consumer has gone.
fn send<P: Prepare>(prep: &P, tx: &mpsc::SyncSender<Batch<P>>, mut batch: Batch<P>) -> bool {
    batch.prepared.clear();
    prep.clear(&mut batch.scratch);
    loop {
        match tx.try_send(batch) {
            Ok(()) => return true,
            Err(mpsc::TrySendError::Disconnected(_)) => return false,
            Err(mpsc::TrySendError::Full(b)) => batch = b,
        }
        let done = batch.prepared.len();
        if done == batch.frames.len() {
            return tx.send(batch).is_ok();
        }
        let end = (done + PREPARE_STEP).min(batch.frames.len());
        for m in &batch.frames[done..end] {
            let made = prep.prepare(&m.frame(&batch.buf), &mut batch.scratch);
            batch.prepared.push(made);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{self, Read};

    use super::*;
    use crate::capture::ReadLimits;

    /// A reader that hands out at most `step` bytes per call (a pipe).
    struct Chunky(io::Cursor<Vec<u8>>, usize);
    impl Read for Chunky {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(self.1);
            self.0.read(&mut out[..n])
        }
    }

    /// A pcap of `n` frames of varied sizes (some large, so that records straddle buffers).
    fn capture(n: usize) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&4u16.to_le_bytes());
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&262_144u32.to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        for i in 0..n {
            let len = [60usize, 1514, 9000, 200_000, 333][i % 5] + i % 7;
            let data: Vec<u8> = (0..len).map(|k| (k ^ i) as u8).collect();
            record(&mut v, i as u32, (i * 7) as u32 % 1_000_000, &data, 4);
        }
        v
    }

    /// Appends one pcap record (`missing` bytes were not captured).
    fn record(v: &mut Vec<u8>, secs: u32, usecs: u32, data: &[u8], missing: u32) {
        let len = data.len() as u32;
        for word in [secs, usecs, len, len + missing] {
            v.extend_from_slice(&word.to_le_bytes());
        }
        v.extend_from_slice(data);
    }

    type Seen = (
        Vec<(u64, u64, u32, Vec<u8>)>,
        super::super::ReadStats,
        usize,
    );

    fn collect(bytes: Vec<u8>, step: usize, ahead: bool) -> Seen {
        let src = Chunky(io::Cursor::new(bytes), step);
        let mut r =
            CaptureReader::from_reader_with("t".into(), src, ReadLimits::default()).expect("opens");
        let mut seen = Vec::new();
        let mut push = |f: &Frame<'_>| seen.push((f.number, f.offset, f.orig_len, f.data.to_vec()));
        if ahead {
            r.for_each_frame_read_ahead(&mut push);
        } else {
            while let Some(f) = r.next_frame() {
                push(&f);
            }
        }
        let warnings = r.warnings().len();
        (seen, r.stats(), warnings)
    }

    #[test]
    fn same_frames_as_the_plain_loop() {
        let whole = capture(120);
        for step in [usize::MAX, 65_536, 4_099] {
            let plain = collect(whole.clone(), step, false);
            let ahead = collect(whole.clone(), step, true);
            assert_eq!(plain.0.len(), 120);
            assert_eq!(plain, ahead, "step {step}");
        }
    }

    /// A reader that returns little at a time (a decompressor, a pipe) must not make a buffer
    /// grow: every buffer handed over stays near the chunk size.
    #[test]
    fn buffers_stay_bounded_under_short_reads() {
        let mut v = capture(0);
        for i in 0..9_000u32 {
            let len = 60 + (i as usize * 37) % 1400;
            record(&mut v, i, 0, &vec![7u8; len], 0);
        }
        assert!(v.len() > 6 << 20);
        let src = Chunky(io::Cursor::new(v), 1_000);
        let mut r =
            CaptureReader::from_reader_with("t".into(), src, ReadLimits::default()).expect("opens");
        let (tx, rx) = mpsc::sync_channel::<Batch<Nothing>>(QUEUE);
        let (back_tx, back_rx) = mpsc::channel::<Batch<Nothing>>();
        let (mut frames, mut batches, mut largest) = (0, 0, 0);
        std::thread::scope(|scope| {
            let r = &mut r;
            scope.spawn(move || r.read_batches(&Nothing, &tx, &back_rx));
            for b in rx.iter() {
                frames += b.frames.len();
                batches += 1;
                largest = largest.max(b.buf.len());
                let _ = back_tx.send(b);
            }
        });
        assert_eq!(frames, 9_000);
        assert!(batches > 4, "{batches} batches");
        assert!(largest <= 2 << 20, "a buffer grew to {largest} bytes");
    }

    /// Frames of a capture file opened by path, read ahead or in a plain loop; `slow` makes the
    /// consumer take its time on every 50th frame, so that the reading thread does more of the
    /// reads itself.
    fn collect_file(bytes: &[u8], ahead: bool, slow: bool) -> Seen {
        let path = std::env::temp_dir().join(format!(
            "phonehome-ahead-{}-{ahead}-{slow}-{}.pcap",
            std::process::id(),
            bytes.len()
        ));
        std::fs::write(&path, bytes).expect("writes");
        let mut r = CaptureReader::open(&path).expect("opens");
        assert!(r.file.is_some(), "a regular file is read by both threads");
        let mut seen = Vec::new();
        let mut push = |f: &Frame<'_>| {
            if slow && f.number % 50 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            seen.push((f.number, f.offset, f.orig_len, f.data.to_vec()))
        };
        if ahead {
            r.for_each_frame_read_ahead(&mut push);
        } else {
            while let Some(f) = r.next_frame() {
                push(&f);
            }
        }
        let _ = std::fs::remove_file(&path);
        let warnings = r.warnings().len();
        (seen, r.stats(), warnings)
    }

    /// Prepares a frame by writing its number and length into the batch's scratch.
    struct Note;

    impl Prepare for Note {
        type Out = usize;
        type Scratch = Vec<(u64, usize)>;
        fn prepare(&self, f: &Frame<'_>, s: &mut Vec<(u64, usize)>) -> Option<usize> {
            // Every third frame has nothing to hand over.
            (f.number % 3 != 0).then(|| {
                s.push((f.number, f.data.len()));
                s.len() - 1
            })
        }
        fn clear(&self, s: &mut Vec<(u64, usize)>) {
            s.clear();
        }
    }

    /// With a consumer slower than the reading, the reading thread prepares frames, each with
    /// its own entry in the scratch it is handed with; the frames are those of the plain loop.
    #[test]
    fn a_slow_consumer_gets_frames_prepared_with_their_scratch() {
        let mut v = capture(0);
        for i in 0..30_000u32 {
            let len = 60 + (i as usize * 13) % 200;
            record(&mut v, i, 0, &vec![1u8; len], 0);
        }
        let path =
            std::env::temp_dir().join(format!("phonehome-prepared-{}.pcap", std::process::id()));
        std::fs::write(&path, &v).expect("writes");
        let mut r = CaptureReader::open(&path).expect("opens");
        let (mut frames, mut prepared) = (0u64, 0u64);
        r.for_each_frame_prepared(&Note, |f, made, scratch| {
            frames += 1;
            assert_eq!(f.number, frames);
            if f.number % 500 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            if let Some(i) = made {
                prepared += 1;
                assert_eq!(scratch[i], (f.number, f.data.len()), "frame {}", f.number);
            }
        });
        let _ = std::fs::remove_file(&path);
        assert_eq!(frames, 30_000);
        assert!(prepared > 1_000, "{prepared} frames prepared");
        assert!(prepared <= 20_000, "every third frame has nothing");
        // A capture in memory is the plain loop: nothing is prepared.
        let mut r = CaptureReader::from_bytes("m", v).expect("opens");
        let mut none = true;
        r.for_each_frame_prepared(&Note, |_, made, _| none &= made.is_none());
        assert!(none);
    }

    /// A record cut by each chunk boundary with an exact number of its bytes before the
    /// boundary: none, part of its header, all of the room the next chunk keeps in front
    /// (68 KiB), one byte more, and more than a whole chunk.
    #[test]
    fn records_cut_by_chunk_boundaries_at_every_tail_size() {
        use crate::capture::shared::{CHUNK, HEADROOM as ROOM};
        // The sniffed bytes and the header's first read come before the shared chunks.
        let first = crate::capture::sniff::SNIFF_LEN + crate::capture::source::READ_CHUNK;
        let tails = [
            1usize,
            15,
            16,
            17,
            1_000,
            ROOM - 1,
            ROOM,
            ROOM + 1,
            200_000,
            0,
            7,
        ];
        let mut v = capture(0);
        let mut n = 0u32;
        for (k, &tail) in tails.iter().enumerate() {
            let start = first + k * CHUNK - tail;
            // Fillers up to the record's start (each record is 16 bytes of header and data).
            while v.len() < start {
                let gap = start - v.len();
                let len = if gap >= 2_000 { 1_000 } else { gap - 16 };
                assert!(gap >= 16, "fillers land exactly");
                record(&mut v, n, 0, &vec![1; len], 0);
                n += 1;
            }
            assert_eq!(v.len(), start);
            record(&mut v, n, 1, &vec![(k + 2) as u8; tail + 40_000], 0);
            n += 1;
        }
        let plain = collect_file(&v, false, false);
        assert_eq!(plain.0.len(), n as usize);
        assert!(collect_file(&v, true, false) == plain);
    }

    /// Random captures: record sizes clustered around the room (68 KiB) and the chunk (1 MiB),
    /// cut at a random place, read with a consumer that sometimes lags; always the plain
    /// loop's frames and warnings.
    #[test]
    fn random_files_read_by_both_threads_give_the_frames_of_the_plain_loop() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..12 {
            let mut v = capture(0);
            let mut total = 0;
            let mut i = 0u32;
            while total < 3 << 20 {
                let len = match next() % 20 {
                    0 => 69_632 - 64 + (next() % 128) as usize,
                    1 => (1 << 20) - 64 + (next() % 128) as usize,
                    2 => 30_000 + (next() % 100_000) as usize,
                    _ => 40 + (next() % 1_600) as usize,
                };
                record(&mut v, i, i, &vec![(i % 251) as u8; len], 0);
                total += len;
                i += 1;
            }
            let cut = (next() % 3_000) as usize;
            v.truncate(v.len() - cut);
            let plain = collect_file(&v, false, false);
            let ahead = collect_file(&v, true, round % 3 == 0);
            assert!(plain == ahead, "round {round}: {i} records, cut {cut}");
        }
    }

    /// Records of every size against the 1 MiB chunks and their 68 KiB of room: small ones,
    /// ones longer than the room, ones longer than a chunk, and a truncated end.
    #[test]
    fn a_file_read_by_both_threads_gives_the_frames_of_the_plain_loop() {
        let mut whole = capture(150);
        for (i, len) in [1_500_000usize, 3_300_000, 70_000, 69_632]
            .into_iter()
            .enumerate()
        {
            record(&mut whole, 1000 + i as u32, 0, &vec![i as u8 + 1; len], 0);
            for k in 0..300u32 {
                record(&mut whole, k, k, &vec![(k % 251) as u8; 60 + k as usize], 0);
            }
        }
        let plain = collect_file(&whole, false, false);
        assert_eq!(plain.0.len(), 150 + 4 * 301);
        assert_eq!(plain.2, 0);
        for slow in [false, true] {
            assert!(collect_file(&whole, true, slow) == plain, "slow {slow}");
        }
        let cut = &whole[..whole.len() - 1_000_000];
        let plain = collect_file(cut, false, false);
        assert_eq!(plain.2, 1, "the cut is reported");
        assert!(collect_file(cut, true, false) == plain);
    }

    #[test]
    fn truncated_capture_keeps_what_was_read_and_warns() {
        let mut cut = capture(60);
        cut.truncate(cut.len() - 100);
        let plain = collect(cut.clone(), 65_536, false);
        let ahead = collect(cut, 65_536, true);
        assert_eq!(plain.0.len(), 59);
        assert_eq!(plain.2, 1);
        assert_eq!(plain, ahead);
    }

    /// The same with the reads shared: the reading thread, perhaps waiting for a chunk, stops.
    #[test]
    fn a_panic_in_a_consumer_sharing_the_reads_reaches_the_caller() {
        let path =
            std::env::temp_dir().join(format!("phonehome-panic-{}.pcap", std::process::id()));
        std::fs::write(&path, capture(200)).expect("writes");
        let mut r = CaptureReader::open(&path).expect("opens");
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            r.for_each_frame_read_ahead(|f| assert!(f.number < 30, "stop"))
        }));
        let _ = std::fs::remove_file(&path);
        assert!(res.is_err());
    }

    #[test]
    fn a_panic_in_the_consumer_reaches_the_caller() {
        let src = Chunky(io::Cursor::new(capture(40)), 65_536);
        let mut r =
            CaptureReader::from_reader_with("t".into(), src, ReadLimits::default()).expect("opens");
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            r.for_each_frame_read_ahead(|f| assert!(f.number < 10, "stop"))
        }));
        assert!(res.is_err());
    }
}
