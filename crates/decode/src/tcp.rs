//! TCP, UDP and ICMP headers and TCP options.

use pnet_packet::tcp::TcpPacket;
use pnet_packet::udp::UdpPacket;

use crate::DecodeError;

/// TCP flags, NS included (9 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    /// FIN.
    pub const FIN: u16 = 0x001;
    /// SYN.
    pub const SYN: u16 = 0x002;
    /// RST.
    pub const RST: u16 = 0x004;
    /// PSH.
    pub const PSH: u16 = 0x008;
    /// ACK.
    pub const ACK: u16 = 0x010;
    /// URG.
    pub const URG: u16 = 0x020;
    /// ECN-Echo.
    pub const ECE: u16 = 0x040;
    /// Congestion Window Reduced.
    pub const CWR: u16 = 0x080;
    /// ECN nonce sum (RFC 3540, historic).
    pub const NS: u16 = 0x100;

    /// Whether all bits of `mask` are set.
    #[inline]
    pub fn has(self, mask: u16) -> bool {
        self.0 & mask == mask
    }

    /// The low 8 bits, as tcpdump's `tcp[13]`.
    pub fn byte(self) -> u8 {
        self.0 as u8
    }

    /// tcpdump's letters, in tcpdump's order: `F` FIN, `S` SYN, `R` RST, `P` PSH, `.` ACK, `U`
    /// URG, `E` ECE, `W` CWR (`[S.]`, `[F.]`, the seed case's `[SEW]`, an ECN SYN-ACK `[S.E]`).
    pub fn tcpdump_letters(self) -> String {
        let mut s = String::new();
        for (bit, c) in [
            (Self::FIN, 'F'),
            (Self::SYN, 'S'),
            (Self::RST, 'R'),
            (Self::PSH, 'P'),
            (Self::ACK, '.'),
            (Self::URG, 'U'),
            (Self::ECE, 'E'),
            (Self::CWR, 'W'),
        ] {
            if self.has(bit) {
                s.push(c);
            }
        }
        if s.is_empty() {
            s.push_str("none");
        }
        s
    }
}

/// A validated TCP header; options stay as borrowed bytes, read with [`TcpHeader::options`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpHeader<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Receive window (unscaled).
    pub window: u16,
    /// Header length in bytes, options included.
    pub header_len: u8,
    /// Urgent pointer.
    pub urgent: u16,
    /// Option bytes as captured (may be cut short by the snapshot length).
    pub option_bytes: &'a [u8],
}

/// One TCP option, in the order it appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// End of option list (kind 0).
    Eol,
    /// No-operation (kind 1).
    Nop,
    /// Maximum segment size (kind 2).
    Mss(u16),
    /// Window scale shift (kind 3).
    WindowScale(u8),
    /// SACK permitted (kind 4).
    SackPermitted,
    /// SACK blocks (kind 5).
    Sack(&'a [u8]),
    /// Timestamps (kind 8).
    Timestamps {
        /// TSval.
        val: u32,
        /// TSecr.
        ecr: u32,
    },
    /// Any other kind, kept by number with its data.
    Unknown {
        /// Option kind.
        kind: u8,
        /// Option data (after kind and length).
        data: &'a [u8],
    },
    /// An option whose length is impossible; iteration stops after it.
    Malformed {
        /// Option kind.
        kind: u8,
    },
}

impl<'a> TcpHeader<'a> {
    /// Iterates the options in order; a malformed option is yielded once and ends the iteration.
    pub fn options(&self) -> TcpOptions<'a> {
        TcpOptions {
            rest: self.option_bytes,
            done: false,
        }
    }
}

/// Iterator over TCP options.
#[derive(Debug, Clone)]
pub struct TcpOptions<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = TcpOption<'a>;
    fn next(&mut self) -> Option<TcpOption<'a>> {
        if self.done {
            return None;
        }
        let (&kind, after) = self.rest.split_first()?;
        match kind {
            0 => {
                // Everything after EOL is padding.
                self.done = true;
                return Some(TcpOption::Eol);
            }
            1 => {
                self.rest = after;
                return Some(TcpOption::Nop);
            }
            _ => {}
        }
        let len = match after.first() {
            Some(&l) if l >= 2 && usize::from(l) <= self.rest.len() => usize::from(l),
            _ => {
                self.done = true;
                return Some(TcpOption::Malformed { kind });
            }
        };
        let data = &self.rest[2..len];
        self.rest = &self.rest[len..];
        let be16 = |d: &[u8]| u16::from_be_bytes([d[0], d[1]]);
        let be32 = |d: &[u8]| u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
        Some(match (kind, data.len()) {
            (2, 2) => TcpOption::Mss(be16(data)),
            (3, 1) => TcpOption::WindowScale(data[0]),
            (4, 0) => TcpOption::SackPermitted,
            (5, _) => TcpOption::Sack(data),
            (8, 8) => TcpOption::Timestamps {
                val: be32(data),
                ecr: be32(&data[4..]),
            },
            (2 | 3 | 4 | 8, _) => {
                self.done = true;
                TcpOption::Malformed { kind }
            }
            _ => TcpOption::Unknown { kind, data },
        })
    }
}

/// Parses a TCP header; returns it and the captured payload.
#[inline]
pub fn tcp(data: &[u8]) -> Result<(TcpHeader<'_>, &[u8]), DecodeError> {
    let p = TcpPacket::new(data).ok_or(DecodeError::Truncated("TCP header"))?;
    let hlen = usize::from(p.get_data_offset()) * 4;
    if hlen < 20 {
        return Err(DecodeError::Malformed("TCP data offset below 5"));
    }
    let flags = TcpFlags(u16::from(p.get_flags()) | (u16::from(data[12] & 1) << 8));
    let options = &data[20..hlen.min(data.len())];
    let payload = data.get(hlen..).unwrap_or(&[]);
    Ok((
        TcpHeader {
            src_port: p.get_source(),
            dst_port: p.get_destination(),
            seq: p.get_sequence(),
            ack: p.get_acknowledgement(),
            flags,
            window: p.get_window(),
            header_len: hlen as u8,
            urgent: p.get_urgent_ptr(),
            option_bytes: options,
        },
        payload,
    ))
}

/// A validated UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpHeader {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The length field (header included).
    pub length: u16,
}

/// Parses a UDP header; returns it and the captured payload (within the UDP length when that is
/// sane).
#[inline]
pub fn udp(data: &[u8]) -> Result<(UdpHeader, &[u8]), DecodeError> {
    let p = UdpPacket::new(data).ok_or(DecodeError::Truncated("UDP header"))?;
    let length = p.get_length();
    let end = if usize::from(length) >= 8 {
        usize::from(length).min(data.len())
    } else {
        data.len()
    };
    Ok((
        UdpHeader {
            src_port: p.get_source(),
            dst_port: p.get_destination(),
            length,
        },
        &data[8..end],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The diary's macOS Catalina SYN: `Flags [SEW], win 65535, options [mss 1460,nop,wscale 6,
    /// nop,nop,TS val 1 ecr 0,sackOK,eol]`.
    pub(crate) fn catalina_syn() -> Vec<u8> {
        let mut t = vec![
            0xc3, 0x50, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0xb0, 0xc2, 0xff, 0xff, 0, 0, 0, 0,
        ];
        t.extend_from_slice(&[
            2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 4, 2, 0, 0,
        ]);
        t
    }

    #[test]
    fn catalina_syn_options_in_order() {
        let pkt = catalina_syn();
        let (h, payload) = tcp(&pkt).unwrap();
        assert!(payload.is_empty());
        assert_eq!(h.flags.byte(), 0xc2);
        assert_eq!(h.flags.tcpdump_letters(), "SEW");
        assert_eq!((h.src_port, h.dst_port, h.window), (50000, 443, 65535));
        let opts: Vec<_> = h.options().collect();
        assert_eq!(
            opts,
            vec![
                TcpOption::Mss(1460),
                TcpOption::Nop,
                TcpOption::WindowScale(6),
                TcpOption::Nop,
                TcpOption::Nop,
                TcpOption::Timestamps { val: 1, ecr: 0 },
                TcpOption::SackPermitted,
                TcpOption::Eol
            ]
        );
    }

    #[test]
    fn hostile_options_end_iteration() {
        for bad in [&[2u8, 0][..], &[2, 1], &[8, 40, 0], &[2, 3, 0], &[99]] {
            let mut pkt = catalina_syn()[..20].to_vec();
            pkt[12] = 0x80; // 32-byte header
            pkt.extend_from_slice(bad);
            pkt.resize(32, 1);
            let (h, _) = tcp(&pkt).unwrap();
            let opts: Vec<_> = h.options().collect();
            assert!(
                matches!(opts[0], TcpOption::Malformed { .. }),
                "{bad:?}: {opts:?}"
            );
            assert_eq!(opts.len(), 1);
        }
        let mut pkt = catalina_syn();
        pkt[12] = 0x40; // data offset 4
        assert!(tcp(&pkt).is_err());
        assert!(tcp(&pkt[..19]).is_err());
        // Header claims 60 bytes but only 30 are captured: options cut, no panic.
        let mut pkt = catalina_syn()[..30].to_vec();
        pkt[12] = 0xf0;
        let (h, p) = tcp(&pkt).unwrap();
        assert_eq!(h.option_bytes.len(), 10);
        assert!(p.is_empty());
        assert!(h.options().count() <= 10);
    }

    #[test]
    fn ns_flag_and_letters() {
        let mut pkt = catalina_syn();
        pkt[12] |= 1;
        pkt[13] = 0x11;
        let (h, _) = tcp(&pkt).unwrap();
        assert!(h.flags.has(TcpFlags::NS));
        assert_eq!(h.flags.tcpdump_letters(), "F.");
    }

    #[test]
    fn udp_length_bounds_payload() {
        let pkt = [0, 53, 0xc3, 0x50, 0, 10, 0, 0, 1, 2, 0, 0, 0];
        let (h, p) = udp(&pkt).unwrap();
        assert_eq!((h.src_port, h.dst_port, h.length), (53, 50000, 10));
        assert_eq!(p, &[1, 2]);
        let pkt = [0, 53, 0, 53, 0, 3, 0, 0, 1];
        assert_eq!(udp(&pkt).unwrap().1, &[1]);
    }
}
