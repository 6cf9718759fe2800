//! pcapng blocks: sections, interfaces (each with its own link type and timestamp resolution),
//! enhanced, simple and obsolete packet blocks.

use pcap_parser::pcapng::{parse_block_be, parse_block_le, Block};

use super::source::Source;
use super::{need, Located, ReadLimits, Step, StepWarning};
use crate::error::WarningKind;
use crate::time::Timestamp;

const SHB: u32 = 0x0a0d_0d0a;
const IDB: u32 = 0x0000_0001;
const OBSOLETE_PB: u32 = 0x0000_0002;
const SPB: u32 = 0x0000_0003;
const EPB: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

/// One interface of the current section.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: u16,
    snaplen: u32,
    /// Timestamp units per second.
    units: u64,
    /// Seconds added to every timestamp.
    offset: i64,
}

/// The current section's byte order and interfaces.
#[derive(Default)]
pub(crate) struct PcapngState {
    big_endian: bool,
    seen_section: bool,
    interfaces: Vec<Interface>,
}

/// At most this many interfaces per section (pcapng interface ids are 32-bit).
const MAX_INTERFACES: usize = 65_536;

impl PcapngState {
    fn u32_at(&self, w: &[u8], i: usize) -> u32 {
        let b = [w[i], w[i + 1], w[i + 2], w[i + 3]];
        if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    fn u16_at(&self, w: &[u8], i: usize) -> u16 {
        let b = [w[i], w[i + 1]];
        if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }

    /// Finds the next block that carries a frame, or skips one that does not.
    pub(crate) fn step(
        &mut self,
        src: &mut Source,
        limits: &ReadLimits,
    ) -> Result<Step, StepWarning> {
        if !need(src, 8, "block header")? {
            return Ok(Step::End(None));
        }
        let w = src.window();
        let raw_type = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        if raw_type == SHB {
            need(src, 12, "section header block")?;
            let w = src.window();
            let bom = u32::from_le_bytes([w[8], w[9], w[10], w[11]]);
            self.big_endian = match bom {
                BYTE_ORDER_MAGIC => false,
                x if x == BYTE_ORDER_MAGIC.swap_bytes() => true,
                _ => {
                    return Err(StepWarning {
                        kind: WarningKind::BadSection,
                        message: format!(
                            "section header with an unknown byte-order magic 0x{bom:08x}"
                        ),
                        skip: None,
                    })
                }
            };
            self.seen_section = true;
            self.interfaces.clear();
        } else if !self.seen_section {
            return Err(StepWarning {
                kind: WarningKind::BadSection,
                message: "pcapng data before any section header".into(),
                skip: None,
            });
        }
        let w = src.window();
        let block_type = self.u32_at(w, 0);
        let block_len = self.u32_at(w, 4) as usize;
        if block_len < 12 || block_len % 4 != 0 {
            return Err(StepWarning {
                kind: WarningKind::BadRecordLength,
                message: format!(
                    "block of type 0x{block_type:08x} claims a length of {block_len} bytes (must be at least 12 and a multiple of 4); the rest of the capture is unreadable"
                ),
                skip: None,
            });
        }
        if block_len > limits.max_record {
            // A section header sets the byte order and the interfaces of what follows: without
            // it the rest cannot be read.
            let skip = (block_type != SHB).then_some(block_len);
            return Err(StepWarning {
                kind: WarningKind::OversizedBlock,
                message: format!(
                    "block of type 0x{block_type:08x} of {block_len} bytes is over the block size limit of {} bytes (--max-block): {}",
                    limits.max_record,
                    if skip.is_some() { "skipped (further ones are counted, not warned)" } else { "a section header, so the rest of the capture is unreadable" }
                ),
                skip,
            });
        }
        need(src, block_len, "block")?;
        let w = &src.window()[..block_len];
        let trailer = self.u32_at(w, block_len - 4) as usize;
        if trailer != block_len {
            return Err(StepWarning {
                kind: WarningKind::MalformedBlock,
                message: format!(
                    "block of type 0x{block_type:08x}: trailing length {trailer} differs from leading length {block_len}; the rest of the capture is unreadable"
                ),
                skip: None,
            });
        }
        match block_type {
            SHB => {
                let major = self.u16_at(w, 12);
                if major != 1 {
                    return Err(StepWarning {
                        kind: WarningKind::BadSection,
                        message: format!("section header of unsupported version {major}"),
                        skip: None,
                    });
                }
                Ok(Step::Skip(block_len))
            }
            IDB => self.interface(w),
            EPB | SPB | OBSOLETE_PB => self.packet(w, block_type),
            _ => Ok(Step::Skip(block_len)),
        }
    }

    fn parse<'a>(&self, w: &'a [u8]) -> Result<Block<'a>, String> {
        let r = if self.big_endian {
            parse_block_be(w)
        } else {
            parse_block_le(w)
        };
        r.map(|(_, b)| b).map_err(|e| format!("{e:?}"))
    }

    fn interface(&mut self, w: &[u8]) -> Result<Step, StepWarning> {
        let len = w.len();
        if w.len() < 20 {
            return Err(malformed(
                len,
                "interface description block shorter than 20 bytes",
            ));
        }
        if self.interfaces.len() >= MAX_INTERFACES {
            return Err(malformed(len, "more than 65536 interfaces in one section"));
        }
        // The fixed fields are read by hand so that an interface with bad options still exists.
        let mut iface = Interface {
            link_type: self.u16_at(w, 8),
            snaplen: self.u32_at(w, 12),
            units: 1_000_000,
            offset: 0,
        };
        let mut problem = None;
        match self.parse(w) {
            Ok(Block::InterfaceDescription(idb)) => {
                match resolution(idb.if_tsresol) {
                    Some(u) => iface.units = u,
                    None => problem = Some(format!("interface timestamp resolution 0x{:02x} is out of range; microseconds assumed", idb.if_tsresol)),
                }
                iface.offset = idb.if_tsoffset;
            }
            Ok(_) => {}
            Err(e) => {
                problem = Some(format!(
                    "interface description options unparsable ({e}); microseconds assumed"
                ))
            }
        }
        self.interfaces.push(iface);
        match problem {
            None => Ok(Step::Skip(len)),
            Some(message) => Err(StepWarning {
                kind: WarningKind::MalformedBlock,
                message,
                skip: Some(len),
            }),
        }
    }

    fn packet(&mut self, w: &[u8], block_type: u32) -> Result<Step, StepWarning> {
        let len = w.len();
        let (if_id, ts_units, caplen, orig_len, data_start) = match block_type {
            SPB => {
                if len < 16 {
                    return Err(malformed(len, "simple packet block shorter than 16 bytes"));
                }
                let orig = self.u32_at(w, 8);
                let room = len - 16;
                let snap = self.interfaces.first().map_or(0, |i| i.snaplen) as usize;
                let mut cap = room.min(orig as usize);
                if snap > 0 {
                    cap = cap.min(snap);
                }
                (0u32, None, cap, orig, 12usize)
            }
            OBSOLETE_PB => {
                if len < 32 {
                    return Err(malformed(len, "packet block shorter than 32 bytes"));
                }
                let cap = self.u32_at(w, 20) as usize;
                if cap > len - 32 {
                    return Err(malformed(
                        len,
                        "packet block's captured length runs past the block",
                    ));
                }
                let ts = (u64::from(self.u32_at(w, 12)) << 32) | u64::from(self.u32_at(w, 16));
                (
                    u32::from(self.u16_at(w, 8)),
                    Some(ts),
                    cap,
                    self.u32_at(w, 24),
                    28,
                )
            }
            _ => match self.parse(w) {
                Ok(Block::EnhancedPacket(epb)) => {
                    let cap = epb.caplen as usize;
                    if cap > len - 32 {
                        return Err(malformed(
                            len,
                            "enhanced packet block's captured length runs past the block",
                        ));
                    }
                    let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                    (epb.if_id, Some(ts), cap, epb.origlen, 28)
                }
                Ok(_) => return Ok(Step::Skip(len)),
                Err(e) => {
                    return Err(malformed(
                        len,
                        &format!("unparsable enhanced packet block: {e}"),
                    ))
                }
            },
        };
        let Some(iface) = self.interfaces.get(if_id as usize).copied() else {
            return Err(StepWarning {
                kind: WarningKind::UnknownInterface,
                message: format!("packet on interface {if_id}, which the section never described; packet skipped"),
                skip: Some(len),
            });
        };
        let ts = match ts_units {
            Some(u) => Timestamp::from_fraction(iface.offset, u, iface.units),
            None => Timestamp::default(),
        };
        Ok(Step::Frame(Located {
            record_len: len,
            data_start,
            caplen,
            orig_len,
            ts,
            link_type: iface.link_type,
            interface: if_id,
        }))
    }
}

fn malformed(len: usize, what: &str) -> StepWarning {
    StepWarning {
        kind: WarningKind::MalformedBlock,
        message: format!("{what}; block skipped"),
        skip: Some(len),
    }
}

/// Units per second for an `if_tsresol` value: `10^n`, or `2^n` when the top bit is set.
fn resolution(tsresol: u8) -> Option<u64> {
    let n = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(n)
    } else {
        1u64.checked_shl(n).filter(|_| n < 64)
    }
}

#[cfg(test)]
mod tests {
    use super::resolution;

    #[test]
    fn timestamp_resolutions() {
        assert_eq!(resolution(6), Some(1_000_000));
        assert_eq!(resolution(9), Some(1_000_000_000));
        assert_eq!(resolution(0x80 | 10), Some(1024));
        assert_eq!(resolution(20), None);
        assert_eq!(resolution(0x80 | 64), None);
        assert_eq!(resolution(0), Some(1));
    }
}
