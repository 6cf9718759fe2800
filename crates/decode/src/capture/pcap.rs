//! Classic pcap records.

use pcap_parser::pcap::{parse_pcap_frame_modified, parse_pcap_header};

use super::source::Source;
use super::{need, Format, Located, ReadLimits, Step, StepWarning};
use crate::error::{CaptureError, WarningKind};
use crate::time::Timestamp;

/// What the pcap file header says.
pub(crate) struct PcapState {
    big_endian: bool,
    nanos: bool,
    modified: bool,
    link_type: u16,
}

const FILE_HEADER_LEN: usize = 24;

impl PcapState {
    /// Reads and consumes the 24-byte file header.
    pub(crate) fn read_header(
        name: &str,
        src: &mut Source,
        format: Format,
    ) -> Result<PcapState, CaptureError> {
        let Format::Pcap {
            big_endian,
            nanos,
            modified,
        } = format
        else {
            unreachable!("pcap state for a pcap format only")
        };
        let bad = |reason: String| CaptureError::BadHeader {
            file: name.to_string(),
            format: "pcap",
            offset: 0,
            reason,
        };
        let complete = src
            .fill(FILE_HEADER_LEN)
            .map_err(|e| CaptureError::io(name, e))?;
        if !complete {
            return Err(bad(format!(
                "file is {} bytes long, shorter than the 24-byte pcap header",
                src.window().len()
            )));
        }
        let header = match parse_pcap_header(&src.window()[..FILE_HEADER_LEN]) {
            Ok((_, h)) => h,
            Err(e) => return Err(bad(format!("{e:?}"))),
        };
        if header.version_major != 2 {
            return Err(bad(format!(
                "version {}.{} (only 2.x exists)",
                header.version_major, header.version_minor
            )));
        }
        src.consume(FILE_HEADER_LEN);
        // The low 16 bits are the link type; the high bits may carry FCS information.
        let link_type = (header.network.0 as u32 & 0xffff) as u16;
        Ok(PcapState {
            big_endian,
            nanos,
            modified,
            link_type,
        })
    }

    /// The four words of a record header: seconds, fraction, captured and original length.
    #[inline(always)]
    fn record_header(&self, h: &[u8; 16]) -> (u32, u32, usize, u32) {
        let word = |i: usize| {
            let b = [h[i], h[i + 1], h[i + 2], h[i + 3]];
            if self.big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        (word(0), word(4), word(8) as usize, word(12))
    }

    /// The common case of [`PcapState::step`], kept inline in the reading loop: a plain
    /// (not modified) record whose bytes are all in `w` and whose length is within the limit.
    /// `None` leaves everything else — refills, damage, the end — to `step`, which finds the
    /// same record.
    #[inline(always)]
    pub(crate) fn locate_in(&self, w: &[u8], limits: &ReadLimits) -> Option<Located> {
        if self.modified {
            return None;
        }
        let h: &[u8; 16] = w.get(..16)?.try_into().ok()?;
        let (ts_sec, ts_frac, caplen, orig_len) = self.record_header(h);
        if caplen > limits.max_record || w.len() - 16 < caplen {
            return None;
        }
        Some(self.located(16, caplen, orig_len, ts_sec, ts_frac))
    }

    /// Where a record's frame lies, its header being `hdr` bytes long.
    #[inline(always)]
    fn located(&self, hdr: usize, caplen: usize, orig_len: u32, secs: u32, frac: u32) -> Located {
        let units = if self.nanos { 1_000_000_000 } else { 1_000_000 };
        Located {
            record_len: hdr + caplen,
            data_start: hdr,
            caplen,
            orig_len,
            ts: Timestamp::from_fraction(i64::from(secs), u64::from(frac), units),
            link_type: self.link_type,
            interface: 0,
        }
    }

    /// Finds the next record.
    pub(crate) fn step(
        &mut self,
        src: &mut Source,
        limits: &ReadLimits,
    ) -> Result<Step, StepWarning> {
        let hdr = if self.modified { 24 } else { 16 };
        if !need(src, hdr, "record header")? {
            return Ok(Step::End(None));
        }
        // The 16-byte record header (also the start of the modified 24-byte one), read in place.
        // need() vouched for the bytes; were they missing, the capture would simply end here.
        let Some(Ok(h)) = src.window().get(..16).map(<&[u8; 16]>::try_from) else {
            return Ok(Step::End(None));
        };
        let (ts_sec, ts_frac, caplen, orig_len) = self.record_header(h);
        if caplen > limits.max_record {
            return Err(StepWarning {
                kind: WarningKind::BadRecordLength,
                message: format!(
                    "record claims a captured length of {caplen} bytes (limit {}); the rest of the capture is unreadable",
                    limits.max_record
                ),
                skip: None,
            });
        }
        let total = hdr + caplen;
        need(src, total, "record")?;
        if !self.modified {
            return Ok(Step::Frame(
                self.located(hdr, caplen, orig_len, ts_sec, ts_frac),
            ));
        }
        // pcap-parser reads the modified variant.
        let w = &src.window()[..total];
        let block = match parse_pcap_frame_modified(w) {
            Ok((_, b)) => b,
            Err(e) => {
                return Err(StepWarning {
                    kind: WarningKind::MalformedBlock,
                    message: format!("unparsable record: {e:?}"),
                    skip: None,
                })
            }
        };
        Ok(Step::Frame(self.located(
            hdr,
            caplen,
            block.origlen,
            block.ts_sec,
            block.ts_usec,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record header and its bytes, in the byte order asked for.
    fn record(big_endian: bool, words: [u32; 4], data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in words {
            v.extend_from_slice(&if big_endian {
                w.to_be_bytes()
            } else {
                w.to_le_bytes()
            });
        }
        v.extend_from_slice(data);
        v
    }

    fn located(l: &Located) -> (usize, usize, usize, u32, Timestamp, u16) {
        (
            l.record_len,
            l.data_start,
            l.caplen,
            l.orig_len,
            l.ts,
            l.link_type,
        )
    }

    #[test]
    fn the_inline_path_finds_what_step_finds() {
        let limits = ReadLimits::default();
        for big_endian in [false, true] {
            for nanos in [false, true] {
                let st = PcapState {
                    big_endian,
                    nanos,
                    modified: false,
                    link_type: 1,
                };
                let bytes = record(big_endian, [1_600_000_000, 123_456, 5, 60], b"abcde");
                let fast = st.locate_in(&bytes, &limits).expect("a whole record");
                let mut src = Source::Mapped {
                    bytes: super::super::source::Bytes::Vec(bytes.clone()),
                    pos: 0,
                };
                let mut stepper = PcapState {
                    big_endian,
                    nanos,
                    modified: false,
                    link_type: 1,
                };
                let Ok(Step::Frame(slow)) = stepper.step(&mut src, &limits) else {
                    panic!("step finds the record");
                };
                assert_eq!(located(&fast), located(&slow), "be {big_endian} ns {nanos}");
                // A record cut short, or one over the limit, is left to step.
                assert!(st.locate_in(&bytes[..bytes.len() - 1], &limits).is_none());
                assert!(st.locate_in(&bytes[..15], &limits).is_none());
                let small = ReadLimits { max_record: 4 };
                assert!(st.locate_in(&bytes, &small).is_none());
            }
        }
        let modified = PcapState {
            big_endian: false,
            nanos: false,
            modified: true,
            link_type: 1,
        };
        let bytes = record(false, [1, 2, 5, 5], b"abcdefghijklm");
        assert!(modified.locate_in(&bytes, &limits).is_none());
    }
}
