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
        let w = src.window();
        let word = |i: usize| {
            let b = [w[i], w[i + 1], w[i + 2], w[i + 3]];
            if self.big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        // The 16-byte record header (also the start of the modified 24-byte one), read in place.
        let (ts_sec, ts_frac, caplen, orig_len) = (word(0), word(4), word(8) as usize, word(12));
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
        let units = if self.nanos { 1_000_000_000 } else { 1_000_000 };
        if !self.modified {
            return Ok(Step::Frame(Located {
                record_len: total,
                data_start: hdr,
                caplen,
                orig_len,
                ts: Timestamp::from_fraction(i64::from(ts_sec), u64::from(ts_frac), units),
                link_type: self.link_type,
                interface: 0,
            }));
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
        Ok(Step::Frame(Located {
            record_len: total,
            data_start: hdr,
            caplen,
            orig_len: block.origlen,
            ts: Timestamp::from_fraction(i64::from(block.ts_sec), u64::from(block.ts_usec), units),
            link_type: self.link_type,
            interface: 0,
        }))
    }
}
