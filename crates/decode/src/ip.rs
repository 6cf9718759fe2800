//! IPv4 and IPv6 headers, with IPv6 extension headers walked and fragments flagged.

use std::net::IpAddr;

use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::ipv6::Ipv6Packet;

use crate::DecodeError;

/// A fragment's place in its datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// Datagram identification (IPv4 16-bit id, IPv6 32-bit id).
    pub id: u32,
    /// Offset of this fragment's data in the datagram, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
}

/// A validated IP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpHeader {
    /// 4 or 6.
    pub version: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// TTL (IPv4) or hop limit (IPv6).
    pub ttl: u8,
    /// The upper-layer protocol after any IPv6 extension headers.
    pub protocol: u8,
    /// Length of the whole IP packet from its header (IPv4 total length, IPv6 40 + payload
    /// length), as it was on the wire even when the capture is snapped; the captured length
    /// stands in for a zero length (TCP segmentation offload, IPv6 jumbograms).
    pub total_len: u32,
    /// Bytes of IP header, IPv6 extension headers included.
    pub header_len: u32,
    /// IPv4 identification (0 for IPv6).
    pub ident: u16,
    /// IPv4 don't-fragment bit.
    pub dont_fragment: bool,
    /// Set when this packet is a fragment.
    pub fragment: Option<Fragment>,
    /// IPv4 header options (empty for IPv6).
    pub options_len: u8,
    /// ECN bits of the TOS / traffic class byte.
    pub ecn: u8,
    /// IPv6 flow label (0 for IPv4).
    pub flow_label: u32,
}

/// Most IPv6 extension headers walked before giving up.
const MAX_EXT_HEADERS: usize = 16;

/// Parses an IPv4 header; returns it and the captured bytes after it (within the total length).
/// Always inlined: the decoder's per-version function builds the packet around it in place.
#[inline(always)]
pub fn ipv4(data: &[u8]) -> Result<(IpHeader, &[u8]), DecodeError> {
    let p = Ipv4Packet::new(data).ok_or(DecodeError::Truncated("IPv4 header"))?;
    if p.get_version() != 4 {
        return Err(DecodeError::Malformed("IPv4 header with another version"));
    }
    let hlen = usize::from(p.get_header_length()) * 4;
    if hlen < 20 {
        return Err(DecodeError::Malformed("IPv4 header length below 20"));
    }
    if hlen > data.len() {
        return Err(DecodeError::Truncated("IPv4 options"));
    }
    let mut total = usize::from(p.get_total_length());
    if total == 0 {
        total = data.len();
    }
    if total < hlen {
        return Err(DecodeError::Malformed(
            "IPv4 total length below header length",
        ));
    }
    let flags = p.get_flags();
    let offset = u32::from(p.get_fragment_offset()) * 8;
    let more = flags & 0b001 != 0;
    let fragment = (more || offset > 0).then_some(Fragment {
        id: u32::from(p.get_identification()),
        offset,
        more,
    });
    let end = total.min(data.len());
    Ok((
        IpHeader {
            version: 4,
            src: IpAddr::V4(p.get_source()),
            dst: IpAddr::V4(p.get_destination()),
            ttl: p.get_ttl(),
            protocol: p.get_next_level_protocol().0,
            total_len: total as u32,
            header_len: hlen as u32,
            ident: p.get_identification(),
            dont_fragment: flags & 0b010 != 0,
            fragment,
            options_len: (hlen - 20) as u8,
            flow_label: 0,
            ecn: p.get_ecn(),
        },
        &data[hlen..end],
    ))
}

/// Parses an IPv6 header and its extension headers; returns it and the captured bytes of the
/// upper-layer header and payload. Always inlined, as [`ipv4`] is.
#[inline(always)]
pub fn ipv6(data: &[u8]) -> Result<(IpHeader, &[u8]), DecodeError> {
    let p = Ipv6Packet::new(data).ok_or(DecodeError::Truncated("IPv6 header"))?;
    if p.get_version() != 6 {
        return Err(DecodeError::Malformed("IPv6 header with another version"));
    }
    let mut total = 40 + usize::from(p.get_payload_length());
    if p.get_payload_length() == 0 {
        total = data.len().max(40);
    }
    let end = total.min(data.len());
    let mut next = p.get_next_header().0;
    let mut pos = 40usize;
    let mut fragment = None;
    // Extension headers must lie within both the captured bytes and the payload length.
    let within = &data[..end];
    let header = |pos: usize, len: usize, what: &'static str| {
        within
            .get(pos..pos + len)
            .ok_or(DecodeError::Truncated(what))
    };
    for _ in 0..MAX_EXT_HEADERS {
        match next {
            // Hop-by-hop, routing, destination options, mobility, HIP, shim6.
            0 | 43 | 60 | 135 | 139 | 140 => {
                let b = header(pos, 2, "IPv6 extension header")?;
                next = b[0];
                pos += (usize::from(b[1]) + 1) * 8;
            }
            // Authentication header: length in 4-byte units, minus 2.
            51 => {
                let b = header(pos, 2, "IPv6 authentication header")?;
                next = b[0];
                pos += (usize::from(b[1]) + 2) * 4;
            }
            44 => {
                let b = header(pos, 8, "IPv6 fragment header")?;
                next = b[0];
                let off_flags = u16::from_be_bytes([b[2], b[3]]);
                fragment = Some(Fragment {
                    id: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                    offset: u32::from(off_flags & !7),
                    more: off_flags & 1 == 1,
                });
                pos += 8;
            }
            _ => break,
        }
        if pos > end {
            return Err(DecodeError::Truncated("IPv6 extension header"));
        }
        // A fragment header ends the unfragmentable part; a non-first fragment has no
        // further headers to walk.
        if fragment.is_some_and(|f| f.offset > 0) {
            break;
        }
    }
    let tc = p.get_traffic_class();
    Ok((
        IpHeader {
            version: 6,
            src: IpAddr::V6(p.get_source()),
            dst: IpAddr::V6(p.get_destination()),
            ttl: p.get_hop_limit(),
            protocol: next,
            total_len: total as u32,
            header_len: pos as u32,
            ident: 0,
            dont_fragment: false,
            fragment,
            options_len: 0,
            flow_label: p.get_flow_label(),
            ecn: tc & 3,
        },
        &data[pos.min(end)..end],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn v4(proto: u8, payload: &[u8]) -> Vec<u8> {
        let total = (20 + payload.len()) as u16;
        let mut v = vec![
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0x12,
            0x34,
            0x40,
            0,
            64,
            proto,
            0,
            0,
            10,
            0,
            0,
            1,
            17,
            253,
            0,
            1,
        ];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn ipv4_basic_and_padding() {
        let mut pkt = v4(17, &[1, 2, 3, 4]);
        pkt.extend_from_slice(&[0; 6]); // Ethernet padding
        let (h, rest) = ipv4(&pkt).unwrap();
        assert_eq!(h.src.to_string(), "10.0.0.1");
        assert_eq!(h.dst.to_string(), "17.253.0.1");
        assert_eq!(
            (h.protocol, h.total_len, h.ttl, h.dont_fragment),
            (17, 24, 64, true)
        );
        assert_eq!(rest, &[1, 2, 3, 4]);
        assert!(h.fragment.is_none());
    }

    #[test]
    fn ipv4_snapped_keeps_true_length() {
        let pkt = v4(6, &[0; 100]);
        let (h, rest) = ipv4(&pkt[..40]).unwrap();
        assert_eq!(h.total_len, 120);
        assert_eq!(rest.len(), 20);
    }

    #[test]
    fn ipv4_fragments_and_bad_lengths() {
        let mut pkt = v4(17, &[0; 8]);
        pkt[6] = 0x20; // MF
        pkt[7] = 0x03; // offset 3*8
        let (h, _) = ipv4(&pkt).unwrap();
        assert_eq!(
            h.fragment,
            Some(Fragment {
                id: 0x1234,
                offset: 24,
                more: true
            })
        );
        let mut bad = v4(17, &[]);
        bad[0] = 0x44;
        assert!(ipv4(&bad).is_err());
        let mut bad = v4(17, &[]);
        bad[0] = 0x4f;
        assert_eq!(ipv4(&bad), Err(DecodeError::Truncated("IPv4 options")));
        let mut bad = v4(17, &[0; 4]);
        bad[3] = 10;
        assert!(ipv4(&bad).is_err());
        assert!(ipv4(&[0x45; 10]).is_err());
    }

    fn v6(next: u8, payload: &[u8]) -> Vec<u8> {
        let n = payload.len() as u16;
        let mut v = vec![0x60, 0, 0, 0, (n >> 8) as u8, n as u8, next, 255];
        v.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        v.extend_from_slice(&[0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb]);
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn ipv6_extension_headers() {
        // hop-by-hop (8 bytes) -> fragment (first, MF) -> UDP
        let mut ext = vec![44, 0, 5, 2, 0, 0, 1, 0];
        ext.extend_from_slice(&[17, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef]);
        ext.extend_from_slice(&[0x14, 0xe9, 0x14, 0xe9, 0, 8, 0, 0]);
        let pkt = v6(0, &ext);
        let (h, rest) = ipv6(&pkt).unwrap();
        assert_eq!((h.protocol, h.header_len, h.ttl), (17, 56, 255));
        assert_eq!(
            h.fragment,
            Some(Fragment {
                id: 0xdeadbeef,
                offset: 0,
                more: true
            })
        );
        assert_eq!(rest.len(), 8);
        // An extension header that runs past the packet.
        let pkt = v6(0, &[17, 200]);
        assert!(ipv6(&pkt).is_err());
        // A chain of 40 destination-option headers stops at the limit, no panic.
        let mut long = Vec::new();
        for _ in 0..40 {
            long.extend_from_slice(&[60, 0, 0, 0, 0, 0, 0, 0]);
        }
        let pkt = v6(60, &long);
        assert!(ipv6(&pkt).is_ok());
    }
}
