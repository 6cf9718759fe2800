//! Capture reading: pcap and pcapng (optionally gzip- or zstd-compressed), from a file, from
//! memory or from a stream such as stdin, as one sequence of [`Frame`]s.
//!
//! Files, compressed files and stdin are all streamed through one buffer that grows only to the
//! largest record (streaming measured faster than memory-mapping from page cache, see
//! `docs/benchmarks.md`); in-memory captures are parsed in place. With
//! [`CaptureReader::for_each_frame_read_ahead`] the reading (and decompression) runs on a
//! thread of its own and whole buffers move to the caller's thread, uncopied; a regular file's
//! reads are then shared by both threads (the caller's reads ahead whenever it would wait).
//!
//! Damage never aborts a read: a truncated or impossible record ends the capture with a
//! [`Warning`] that names the byte offset, and every frame before it is delivered.

mod ahead;
mod pcap;
mod pcapng;
mod shared;
mod sniff;
mod source;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

pub use ahead::Prepare;
pub use sniff::{Compression, Format};

use crate::error::{display_name, CaptureError, Warning, WarningKind};
use crate::time::Timestamp;
use sniff::{hex_prefix, sniff, Sniffed, SNIFF_LEN};
use source::{Bytes, Source};

/// Limits that keep a hostile capture from costing unbounded memory.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    /// Largest record or pcapng block accepted, in bytes. Larger ones end the read with a
    /// warning. Default 64 MiB (Wireshark's largest snapshot length is 256 KiB; pcapng blocks
    /// with big options are rarely over a few MiB).
    pub max_record: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_record: 64 << 20,
        }
    }
}

/// One captured frame, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// When it was captured.
    pub ts: Timestamp,
    /// The link type of its interface (`LINKTYPE_*` number).
    pub link_type: u16,
    /// pcapng interface id (0 for pcap).
    pub interface: u32,
    /// Length on the wire, as the record states it.
    pub orig_len: u32,
    /// The captured bytes (may be shorter than `orig_len`: snapshot length).
    pub data: &'a [u8],
    /// Byte offset of the record in the (decompressed) capture stream.
    pub offset: u64,
    /// Number of the frame in the capture, from 1 (as Wireshark numbers them).
    pub number: u64,
}

/// Counters kept while reading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Frames delivered.
    pub frames: u64,
    /// Sum of captured lengths.
    pub captured_bytes: u64,
    /// Sum of original (wire) lengths.
    pub wire_bytes: u64,
    /// Frames whose captured length is below the original length (snapshot length).
    pub snapped_frames: u64,
    /// Frames per link type.
    pub link_types: BTreeMap<u16, u64>,
    /// Bytes of capture stream consumed (decompressed bytes for compressed input).
    pub stream_bytes: u64,
    /// pcapng blocks skipped because they were larger than [`ReadLimits::max_record`].
    pub oversized_blocks: u64,
}

/// Reads the frames of one capture.
pub struct CaptureReader {
    name: String,
    src: Source,
    format: Format,
    compression: Compression,
    limits: ReadLimits,
    state: State,
    warnings: Vec<Warning>,
    stats: ReadStats,
    /// Frames per link type, in order of first appearance.
    link_counts: Vec<(u16, u64)>,
    /// Bytes of the frame handed out last, consumed on the next call.
    pending: usize,
    done: bool,
    /// The capture file itself, when it is a regular, uncompressed file: reading ahead then
    /// splits the reads between two threads (see [`shared`]).
    file: Option<File>,
}

enum State {
    Pcap(pcap::PcapState),
    Pcapng(pcapng::PcapngState),
}

/// Where the next frame lies in the window, found before it is borrowed.
pub(crate) struct Located {
    /// Total bytes of the record or block.
    pub(crate) record_len: usize,
    /// Start of the packet bytes within the record.
    pub(crate) data_start: usize,
    /// Captured length.
    pub(crate) caplen: usize,
    pub(crate) orig_len: u32,
    pub(crate) ts: Timestamp,
    pub(crate) link_type: u16,
    pub(crate) interface: u32,
}

/// A frame located in a buffer: [`Frame`] with the bytes as a range.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameMeta {
    ts: Timestamp,
    link_type: u16,
    interface: u32,
    orig_len: u32,
    start: usize,
    len: usize,
    offset: u64,
    number: u64,
}

impl FrameMeta {
    /// The frame, its bytes taken from `buf`.
    #[inline]
    pub(crate) fn frame(self, buf: &[u8]) -> Frame<'_> {
        Frame {
            ts: self.ts,
            link_type: self.link_type,
            interface: self.interface,
            orig_len: self.orig_len,
            data: buf.get(self.start..self.start + self.len).unwrap_or(&[]),
            offset: self.offset,
            number: self.number,
        }
    }
}

/// What a format-specific step found.
pub(crate) enum Step {
    /// A frame at the window's start.
    Frame(Located),
    /// A record that carries no frame (pcapng metadata); skip this many bytes.
    Skip(usize),
    /// Nothing more can be read; the warning, if any, says why.
    End(Option<(WarningKind, String)>),
}

impl CaptureReader {
    /// Opens a capture file, or stdin when `path` is `-`.
    pub fn open(path: impl AsRef<Path>) -> Result<CaptureReader, CaptureError> {
        Self::open_with(path, ReadLimits::default())
    }

    /// Opens a capture file, or stdin when `path` is `-`, with explicit limits.
    pub fn open_with(
        path: impl AsRef<Path>,
        limits: ReadLimits,
    ) -> Result<CaptureReader, CaptureError> {
        let path = path.as_ref();
        let name = display_name(path);
        if path == Path::new("-") {
            return Self::from_reader_with(name, io::stdin(), limits);
        }
        let file = File::open(path).map_err(|e| CaptureError::io(&name, e))?;
        let meta = file.metadata().map_err(|e| CaptureError::io(&name, e))?;
        if meta.is_dir() {
            return Err(CaptureError::io(&name, io::Error::other("is a directory")));
        }
        // Regular files are streamed too: reading into a buffer that stays in cache measured
        // about 1.8x faster than a memory map, whose page faults dominate (docs/benchmarks.md).
        let again = if meta.is_file() {
            file.try_clone().ok()
        } else {
            None
        };
        let mut reader = Self::from_reader_with(name, file, limits)?;
        if reader.compression == Compression::None {
            reader.file = again;
        }
        Ok(reader)
    }

    /// Reads a capture held in memory (tests, fuzzing, embedded use).
    pub fn from_bytes(
        name: impl Into<String>,
        bytes: Vec<u8>,
    ) -> Result<CaptureReader, CaptureError> {
        Self::from_bytes_with(name, bytes, ReadLimits::default())
    }

    /// Reads a capture held in memory with explicit limits.
    pub fn from_bytes_with(
        name: impl Into<String>,
        bytes: Vec<u8>,
        limits: ReadLimits,
    ) -> Result<CaptureReader, CaptureError> {
        let name = name.into();
        match sniff(&bytes[..bytes.len().min(SNIFF_LEN)]) {
            Sniffed::Compressed(_) => Self::from_reader_with(name, io::Cursor::new(bytes), limits),
            _ => Self::from_source(
                name,
                Source::Mapped {
                    bytes: Bytes::Vec(bytes),
                    pos: 0,
                },
                Compression::None,
                limits,
            ),
        }
    }

    /// Reads a capture from any reader (stdin, a socket, a decompressor), streaming.
    pub fn from_reader(
        name: impl Into<String>,
        reader: impl Read + Send + 'static,
    ) -> Result<CaptureReader, CaptureError> {
        Self::from_reader_with(name.into(), reader, ReadLimits::default())
    }

    fn from_reader_with(
        name: String,
        mut reader: impl Read + Send + 'static,
        limits: ReadLimits,
    ) -> Result<CaptureReader, CaptureError> {
        let mut head = vec![0u8; SNIFF_LEN];
        let n = read_up_to(&mut reader, &mut head).map_err(|e| CaptureError::io(&name, e))?;
        head.truncate(n);
        let compression = match sniff(&head) {
            Sniffed::Compressed(c) => c,
            _ => {
                return Self::from_source(
                    name,
                    Source::stream(head, Box::new(reader)),
                    Compression::None,
                    limits,
                );
            }
        };
        let raw = io::Cursor::new(head).chain(reader);
        let inner: Box<dyn Read + Send> = match compression {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(raw)),
            Compression::Zstd => Box::new(ZstdReader::new(raw)),
            Compression::None => unreachable!("handled above"),
        };
        let mut inner = inner;
        let mut head = vec![0u8; SNIFF_LEN];
        let n = read_up_to(&mut inner, &mut head).map_err(|e| CaptureError::io(&name, e))?;
        head.truncate(n);
        if let Sniffed::Compressed(_) = sniff(&head) {
            return Err(CaptureError::UnknownFormat {
                file: name,
                format: format!(
                    "{}-compressed data that is itself compressed",
                    compression.name()
                ),
                magic: hex_prefix(&head),
            });
        }
        Self::from_source(name, Source::stream(head, inner), compression, limits)
    }

    fn from_source(
        name: String,
        mut src: Source,
        compression: Compression,
        limits: ReadLimits,
    ) -> Result<CaptureReader, CaptureError> {
        src.fill(SNIFF_LEN)
            .map_err(|e| CaptureError::io(&name, e))?;
        let head = &src.window()[..src.window().len().min(SNIFF_LEN)];
        let format = match sniff(head) {
            Sniffed::Capture(f) => f,
            Sniffed::Compressed(c) => {
                return Err(CaptureError::UnknownFormat {
                    file: name,
                    format: format!(
                        "{}-compressed data inside a stream that was not decompressed",
                        c.name()
                    ),
                    magic: hex_prefix(head),
                })
            }
            Sniffed::Other(what) => {
                let what = if compression == Compression::None {
                    what
                } else {
                    format!("{} inside {}", what, compression.name())
                };
                return Err(CaptureError::UnknownFormat {
                    file: name,
                    format: what,
                    magic: hex_prefix(head),
                });
            }
        };
        let state = match format {
            Format::Pcap { .. } => {
                State::Pcap(pcap::PcapState::read_header(&name, &mut src, format)?)
            }
            Format::Pcapng => State::Pcapng(pcapng::PcapngState::default()),
        };
        Ok(CaptureReader {
            name,
            src,
            format,
            compression,
            limits,
            state,
            warnings: Vec::new(),
            stats: ReadStats::default(),
            link_counts: Vec::new(),
            pending: 0,
            done: false,
            file: None,
        })
    }

    /// The capture's name as used in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The container format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The compression around the container.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Warnings so far (truncation, malformed records), each with its byte offset.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Counters so far.
    pub fn stats(&self) -> ReadStats {
        let mut s = self.stats.clone();
        s.link_types = self.link_counts.iter().copied().collect();
        s
    }

    /// The next frame, or `None` at the end of the capture (clean or not: see [`warnings`]).
    ///
    /// [`warnings`]: CaptureReader::warnings
    #[inline(always)]
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        let m = self.next_meta()?;
        Some(m.frame(self.src.buffer()))
    }

    /// Finds the next frame and says where its bytes lie in [`Source::buffer`].
    #[inline(always)]
    fn next_meta(&mut self) -> Option<FrameMeta> {
        if self.pending > 0 {
            self.src.consume(self.pending);
            self.stats.stream_bytes += self.pending as u64;
            self.pending = 0;
        }
        let fast = match &self.state {
            State::Pcap(st) if !self.done => st.locate_in(self.src.window(), &self.limits),
            _ => None,
        };
        let loc = match fast {
            Some(loc) => loc,
            None => self.locate_slowly()?,
        };
        self.pending = loc.record_len;
        self.stats.frames += 1;
        self.stats.captured_bytes += loc.caplen as u64;
        self.stats.wire_bytes += u64::from(loc.orig_len.max(loc.caplen as u32));
        if (loc.caplen as u64) < u64::from(loc.orig_len) {
            self.stats.snapped_frames += 1;
        }
        self.count_link_type(loc.link_type);
        let window = self.src.window().len();
        // A frame whose bytes are not all in the window (the format step vouches that they
        // are) is handed out empty rather than cut.
        let (start, len) = if loc.data_start.saturating_add(loc.caplen) <= window {
            (self.src.window_index() + loc.data_start, loc.caplen)
        } else {
            (0, 0)
        };
        Some(FrameMeta {
            ts: loc.ts,
            link_type: loc.link_type,
            interface: loc.interface,
            orig_len: loc.orig_len,
            start,
            len,
            offset: self.src.offset(),
            number: self.stats.frames,
        })
    }

    /// The format's step, for every record the inline pcap path leaves: pcapng, refills,
    /// damage, warnings and the end. `None` at the end.
    #[inline(never)]
    fn locate_slowly(&mut self) -> Option<Located> {
        loop {
            if self.done {
                return None;
            }
            let step = match &mut self.state {
                State::Pcap(st) => st.step(&mut self.src, &self.limits),
                State::Pcapng(st) => st.step(&mut self.src, &self.limits),
            };
            match step {
                Ok(Step::Frame(loc)) => return Some(loc),
                Ok(Step::Skip(n)) => self.skip(n),
                Ok(Step::End(w)) => {
                    if let Some((kind, message)) = w {
                        self.warn(kind, message);
                    }
                    self.done = true;
                }
                Err(StepWarning {
                    kind,
                    message,
                    skip,
                }) => {
                    if kind == WarningKind::OversizedBlock {
                        self.stats.oversized_blocks += 1;
                        if self.stats.oversized_blocks == 1 {
                            self.warn(kind, message);
                        }
                    } else {
                        self.warn(kind, message);
                    }
                    match skip {
                        Some(n) => self.skip(n),
                        None => self.done = true,
                    }
                }
            }
        }
    }

    /// Counts a frame's link type: a short vector scanned linearly (captures have one or a few
    /// link types), folded into the map only when stats are read.
    #[inline]
    fn count_link_type(&mut self, lt: u16) {
        match self.link_counts.iter_mut().find(|(t, _)| *t == lt) {
            Some((_, n)) => *n += 1,
            None => self.link_counts.push((lt, 1)),
        }
    }

    /// Passes over `n` bytes that carry no frame, reading (and dropping) them in chunks when
    /// they are not in memory; a read error or the end of input ends the capture.
    fn skip(&mut self, n: usize) {
        match self.src.skip(n) {
            Ok(done) => {
                self.stats.stream_bytes += done as u64;
                if done < n {
                    let msg = format!("input ends {} bytes into a {n}-byte block", done);
                    self.warn(WarningKind::TruncatedRecord, msg);
                    self.done = true;
                }
            }
            Err(e) => {
                self.warn(WarningKind::ReadError, e.to_string());
                self.done = true;
            }
        }
    }

    fn warn(&mut self, kind: WarningKind, message: String) {
        // A hostile file could produce a warning per record: keep the first ones and a count.
        const MAX_KEPT: usize = 100;
        if self.warnings.len() < MAX_KEPT {
            self.warnings.push(Warning {
                file: self.name.clone(),
                offset: self.src.offset(),
                decompressed: self.compression != Compression::None,
                kind,
                message,
            });
        } else if self.warnings.len() == MAX_KEPT {
            self.warnings.push(Warning {
                file: self.name.clone(),
                offset: self.src.offset(),
                decompressed: self.compression != Compression::None,
                kind,
                message: "further warnings not kept".into(),
            });
        }
    }
}

/// A problem found by a format step: reported, then either skipped over or terminal.
pub(crate) struct StepWarning {
    pub(crate) kind: WarningKind,
    pub(crate) message: String,
    /// Bytes to skip to carry on, or `None` to stop.
    pub(crate) skip: Option<usize>,
}

impl From<io::Error> for StepWarning {
    fn from(e: io::Error) -> Self {
        StepWarning {
            kind: WarningKind::ReadError,
            message: format!("read failed: {e}"),
            skip: None,
        }
    }
}

/// Makes sure `want` bytes are in the window; at end of input reports a truncated record.
#[inline]
pub(crate) fn need(src: &mut Source, want: usize, what: &str) -> Result<bool, StepWarning> {
    // The common case, bytes already in the window, stays inline.
    if src.window().len() >= want {
        return Ok(true);
    }
    need_more(src, want, what)
}

#[cold]
fn need_more(src: &mut Source, want: usize, what: &str) -> Result<bool, StepWarning> {
    if src.fill(want)? {
        return Ok(true);
    }
    let have = src.window().len();
    if have == 0 {
        return Ok(false);
    }
    Err(StepWarning {
        kind: WarningKind::TruncatedRecord,
        message: format!("capture ends inside a {what}: {want} bytes needed, {have} left"),
        skip: None,
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Zstandard decompression as a plain `Read` (ruzstd's decoder reads the frame header eagerly,
/// so construction is deferred to the first read, where an error can be reported as I/O).
struct ZstdReader<R: Read> {
    raw: Option<R>,
    dec: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
}

impl<R: Read> ZstdReader<R> {
    fn new(raw: R) -> Self {
        ZstdReader {
            raw: Some(raw),
            dec: None,
        }
    }
}

impl<R: Read> Read for ZstdReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(raw) = self.raw.take() {
            let dec = ruzstd::decoding::StreamingDecoder::new(raw)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
            self.dec = Some(dec);
        }
        match &mut self.dec {
            Some(d) => d.read(buf),
            None => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(ty: u32, body: &[u8]) -> Vec<u8> {
        let len = (12 + body.len()) as u32;
        let mut v = ty.to_le_bytes().to_vec();
        v.extend_from_slice(&len.to_le_bytes());
        v.extend_from_slice(body);
        v.extend_from_slice(&len.to_le_bytes());
        v
    }

    fn shb() -> Vec<u8> {
        let mut b = 0x1a2b_3c4du32.to_le_bytes().to_vec();
        b.extend_from_slice(&[1, 0, 0, 0]);
        b.extend_from_slice(&u64::MAX.to_le_bytes());
        block(0x0a0d_0d0a, &b)
    }

    fn idb(link: u16, snaplen: u32, tsresol: Option<u8>) -> Vec<u8> {
        let mut b = link.to_le_bytes().to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&snaplen.to_le_bytes());
        if let Some(r) = tsresol {
            b.extend_from_slice(&[9, 0, 1, 0, r, 0, 0, 0, 0, 0, 0, 0]);
        }
        block(1, &b)
    }

    fn epb(iface: u32, ts: u64, data: &[u8], orig: u32) -> Vec<u8> {
        let mut b = iface.to_le_bytes().to_vec();
        b.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        b.extend_from_slice(&(ts as u32).to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&orig.to_le_bytes());
        b.extend_from_slice(data);
        b.resize(b.len().div_ceil(4) * 4, 0);
        block(6, &b)
    }

    #[test]
    fn oversized_pcapng_blocks_are_skipped_counted_and_warned_once() {
        let mut cap = shb();
        cap.extend(idb(1, 0, None));
        cap.extend(epb(0, 1, &snapped_frame(), 42));
        cap.extend(epb(0, 2, &[0x55; 5000], 5000));
        cap.extend(epb(0, 3, &snapped_frame(), 42));
        cap.extend(epb(0, 4, &[0x66; 9000], 9000));
        cap.extend(epb(0, 5, &snapped_frame(), 42));
        let limits = ReadLimits { max_record: 4096 };
        for streamed in [false, true] {
            let mut r = if streamed {
                // Through a reader, so that the skipped blocks are read and dropped in chunks.
                let src = io::Cursor::new(cap.clone());
                CaptureReader::from_reader_with("big.pcapng".into(), src, limits).unwrap()
            } else {
                CaptureReader::from_bytes_with("big.pcapng", cap.clone(), limits).unwrap()
            };
            let mut ts = Vec::new();
            while let Some(f) = r.next_frame() {
                ts.push(f.ts.as_nanos());
            }
            assert_eq!(ts, vec![1_000, 3_000, 5_000], "streamed: {streamed}");
            assert_eq!(r.stats().oversized_blocks, 2);
            let w: Vec<_> = r.warnings().iter().map(|w| w.kind).collect();
            assert_eq!(w, vec![WarningKind::OversizedBlock]);
            assert!(r.warnings()[0].message.contains("--max-block"));
        }
    }

    /// An Ethernet/IPv4/UDP frame whose IP header says 1000 bytes although 42 are captured.
    fn snapped_frame() -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[
            0x08, 0x00, 0x45, 0, 0x03, 0xe8, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 17, 0, 0, 1,
        ]);
        f.extend_from_slice(&[0xc3, 0x50, 0, 53, 0x03, 0xd4, 0, 0]);
        f
    }

    #[test]
    fn pcapng_interfaces_resolutions_spb_and_snaplen() {
        let mut cap = shb();
        cap.extend(idb(1, 0, None)); // Ethernet, microseconds
        cap.extend(idb(101, 0, Some(9))); // raw IP, nanoseconds
        cap.extend(epb(0, 1_571_162_400_000_001, &snapped_frame(), 1014));
        cap.extend(epb(
            1,
            1_571_162_400_000_000_002,
            &snapped_frame()[14..],
            1000,
        ));
        // A simple packet block: interface 0, original length 60, 60 bytes of data.
        let mut spb = 60u32.to_le_bytes().to_vec();
        spb.extend_from_slice(&[0xab; 60]);
        cap.extend(block(3, &spb));
        // A packet on an interface that does not exist: skipped with a warning, reading goes on.
        cap.extend(epb(7, 0, &[1, 2, 3, 4], 4));
        cap.extend(epb(0, 5, &snapped_frame(), 42));
        let mut r = CaptureReader::from_bytes("mem.pcapng", cap).unwrap();
        assert_eq!(r.format(), Format::Pcapng);
        let mut seen = Vec::new();
        while let Some(f) = r.next_frame() {
            let decoded = crate::decode(&f).ok().map(|p| p.payload_len);
            seen.push((
                f.link_type,
                f.ts.to_string(),
                f.data.len(),
                f.orig_len,
                decoded,
            ));
        }
        assert_eq!(
            seen,
            vec![
                (
                    1,
                    "2019-10-15T18:00:00.000001Z".to_string(),
                    42,
                    1014,
                    Some(972)
                ),
                (
                    101,
                    "2019-10-15T18:00:00.000000Z".to_string(),
                    28,
                    1000,
                    Some(972)
                ),
                (1, "1970-01-01T00:00:00.000000Z".to_string(), 60, 60, None),
                (
                    1,
                    "1970-01-01T00:00:00.000005Z".to_string(),
                    42,
                    42,
                    Some(972)
                ),
            ]
        );
        let st = r.stats();
        assert_eq!((st.frames, st.snapped_frames), (4, 2));
        assert_eq!(st.link_types.get(&101), Some(&1));
        assert_eq!(r.warnings().len(), 1);
        assert_eq!(r.warnings()[0].kind, WarningKind::UnknownInterface);
    }

    #[test]
    fn big_endian_pcapng_section_is_read() {
        // Same SHB written big-endian.
        let mut b = vec![
            0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d, 0, 1, 0, 0,
        ];
        b.extend_from_slice(&[0xff; 8]);
        b.extend_from_slice(&[0, 0, 0, 28]);
        let mut idb = vec![0, 0, 0, 1, 0, 0, 0, 20, 0, 1, 0, 0, 0, 0, 0, 0];
        idb.extend_from_slice(&[0, 0, 0, 20]);
        b.extend(idb);
        let mut r = CaptureReader::from_bytes("be.pcapng", b).unwrap();
        assert!(r.next_frame().is_none());
        assert!(r.warnings().is_empty(), "{:?}", r.warnings());
    }
}
