//! A decoded packet: link, IP and transport layers over one frame's bytes.

use crate::capture::Frame;
use crate::ip::{self, IpHeader};
use crate::link::{self, NetKind};
use crate::tcp::{self, TcpHeader, UdpHeader};
use crate::DecodeError;

/// The transport layer of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport<'a> {
    /// TCP.
    Tcp(TcpHeader<'a>),
    /// UDP.
    Udp(UdpHeader),
    /// ICMP (IPv4).
    Icmp {
        /// ICMP type.
        kind: u8,
        /// ICMP code.
        code: u8,
    },
    /// ICMPv6.
    Icmpv6 {
        /// ICMPv6 type.
        kind: u8,
        /// ICMPv6 code.
        code: u8,
    },
    /// A non-first fragment: its transport header is in another packet.
    Fragment,
    /// Another protocol number (GRE, ESP, SCTP, ...), or a transport header not captured.
    Other,
}

/// A packet decoded down to the transport layer, borrowing the frame's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Outermost VLAN id.
    pub vlan: Option<u16>,
    /// Source MAC, when the link layer carries one.
    pub src_mac: Option<[u8; 6]>,
    /// The IP header.
    pub ip: IpHeader,
    /// The transport header.
    pub transport: Transport<'a>,
    /// The transport payload as captured (may be cut short by the snapshot length).
    pub payload: &'a [u8],
    /// The transport payload length on the wire, from the headers.
    pub payload_len: u32,
    /// Everything captured after the IP header(s): transport header and payload (what fragment
    /// reassembly needs from a first fragment).
    pub ip_payload: &'a [u8],
    /// The outermost tunnel this packet was carried in, when it was decapsulated (the headers
    /// above are the inner ones).
    pub tunnel: Option<Tunnel>,
}

/// Encapsulations that are removed so that the inner conversation is what gets decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tunnel {
    /// IPv4 or IPv6 inside IPv4 or IPv6 (protocols 4 and 41: 6in4, 4in6, IPIP).
    IpInIp,
    /// Generic Routing Encapsulation (protocol 47).
    Gre,
    /// VXLAN (UDP port 4789).
    Vxlan,
    /// GTP-U, the user plane of mobile networks (UDP port 2152).
    GtpU,
}

/// Most tunnels removed from one packet.
const MAX_TUNNELS: u8 = 4;
const VXLAN_PORT: u16 = 4789;
const GTP_U_PORT: u16 = 2152;

impl<'a> Packet<'a> {
    /// Source and destination ports (0 for protocols without ports).
    pub fn ports(&self) -> (u16, u16) {
        match self.transport {
            Transport::Tcp(t) => (t.src_port, t.dst_port),
            Transport::Udp(u) => (u.src_port, u.dst_port),
            _ => (0, 0),
        }
    }

    /// Whether the captured payload is the whole payload.
    pub fn payload_complete(&self) -> bool {
        self.payload.len() as u64 >= u64::from(self.payload_len)
    }
}

/// Decodes a frame down to the transport layer.
#[inline]
pub fn decode<'a>(frame: &Frame<'a>) -> Result<Packet<'a>, DecodeError> {
    decode_link(frame.link_type, frame.data)
}

/// Decodes the bytes of a frame of link type `link_type` down to the transport layer.
#[inline]
pub fn decode_link(link_type: u16, data: &[u8]) -> Result<Packet<'_>, DecodeError> {
    let l = link::network_layer(link_type, data)?;
    let outer = Outer {
        vlan: l.vlan,
        src_mac: l.src_mac,
    };
    decode_network(l.kind, l.data, 0, outer)
}

/// What the link layer says of a packet, carried down so that the packet is built once, in
/// place (a packet built and then amended cost a copy of its 168 bytes per layer).
#[derive(Debug, Clone, Copy, Default)]
struct Outer {
    vlan: Option<u16>,
    src_mac: Option<[u8; 6]>,
}

/// Decodes from the network layer down, removing tunnels.
#[inline(always)]
fn decode_network(
    kind: NetKind,
    data: &[u8],
    depth: u8,
    outer: Outer,
) -> Result<Packet<'_>, DecodeError> {
    match kind {
        NetKind::Ipv4 => ipv4_packet(data, depth, outer),
        NetKind::Ipv6 => ipv6_packet(data, depth, outer),
        other => Err(DecodeError::NotIp(other)),
    }
}

/// An IPv4 packet down to its transport layer. One function per IP version, with the header's
/// parser inlined, so that the packet is built where it is returned (a header parsed in one
/// function and moved into the packet in another cost two copies of it per frame).
#[inline(never)]
fn ipv4_packet(data: &[u8], depth: u8, outer: Outer) -> Result<Packet<'_>, DecodeError> {
    let (ip, rest) = ip::ipv4(data)?;
    from_ip(ip, rest, depth, outer)
}

/// An IPv6 packet down to its transport layer (see [`ipv4_packet`]).
#[inline(never)]
fn ipv6_packet(data: &[u8], depth: u8, outer: Outer) -> Result<Packet<'_>, DecodeError> {
    let (ip, rest) = ip::ipv6(data)?;
    from_ip(ip, rest, depth, outer)
}

/// The packet above a parsed IP header: the common path (a whole packet, no tunnel) inline;
/// tunnels (which recurse) and fragments out of line.
#[inline(always)]
fn from_ip(ip: IpHeader, rest: &[u8], depth: u8, outer: Outer) -> Result<Packet<'_>, DecodeError> {
    if ip.fragment.is_some() {
        return fragment(ip, rest, outer);
    }
    if depth < MAX_TUNNELS && may_tunnel(&ip, rest) {
        // A tunnel whose inner packet does not decode is reported as the outer packet.
        if let Some(p) = tunnelled(&ip, rest, depth, outer) {
            return Ok(p);
        }
    }
    transport(ip, rest, outer)
}

/// Whether [`tunnel_payload`] may find a tunnel: its protocols, or UDP to or from its ports.
#[inline(always)]
fn may_tunnel(ip: &IpHeader, rest: &[u8]) -> bool {
    match ip.protocol {
        4 | 41 | 47 => true,
        17 => match rest.get(..4) {
            Some(b) => {
                let (sport, dport) = (
                    u16::from_be_bytes([b[0], b[1]]),
                    u16::from_be_bytes([b[2], b[3]]),
                );
                dport == VXLAN_PORT || dport == GTP_U_PORT || sport == GTP_U_PORT
            }
            None => false,
        },
        _ => false,
    }
}

/// The inner packet of a tunnel, marked with the outermost tunnel; `None` when there is no
/// tunnel or its inner packet does not decode.
#[inline(never)]
fn tunnelled<'a>(ip: &IpHeader, rest: &'a [u8], depth: u8, outer: Outer) -> Option<Packet<'a>> {
    let (tunnel, inner) = tunnel_payload(ip, rest)?;
    let (k, d) = inner.ok()?;
    let mut p = decode_network(k, d, depth + 1, outer).ok()?;
    p.tunnel.get_or_insert(tunnel);
    Some(p)
}

/// A fragment: a first fragment decodes as far as it is whole enough to; the others (and a
/// first fragment too short for its transport header) carry no transport header.
#[cold]
#[inline(never)]
fn fragment(ip: IpHeader, rest: &[u8], outer: Outer) -> Result<Packet<'_>, DecodeError> {
    if ip.fragment.is_some_and(|f| f.offset == 0) {
        if let Ok(p) = transport(ip, rest, outer) {
            return Ok(p);
        }
    }
    Ok(Packet {
        vlan: outer.vlan,
        src_mac: outer.src_mac,
        ip,
        transport: Transport::Fragment,
        payload: rest,
        payload_len: ip.total_len.saturating_sub(ip.header_len),
        ip_payload: rest,
        tunnel: None,
    })
}

/// Decodes the transport layer of an IP packet whose header is already parsed: `rest` is what
/// follows the IP header(s). The flow layer calls this on a reassembled datagram, with `ip`
/// describing the whole datagram (`fragment: None`, `total_len` = header + reassembled bytes).
#[inline]
pub fn decode_transport(ip: IpHeader, rest: &[u8]) -> Result<Packet<'_>, DecodeError> {
    transport(ip, rest, Outer::default())
}

/// [`decode_transport`] with what the link layer said; the packet is built in one expression.
#[inline(always)]
fn transport(ip: IpHeader, rest: &[u8], outer: Outer) -> Result<Packet<'_>, DecodeError> {
    let l4_len = ip.total_len.saturating_sub(ip.header_len);
    let (transport, payload, payload_len) = match ip.protocol {
        6 => {
            let (h, payload) = tcp::tcp(rest)?;
            let len = l4_len.saturating_sub(u32::from(h.header_len));
            (Transport::Tcp(h), payload, len)
        }
        17 => {
            let (h, payload) = tcp::udp(rest)?;
            (Transport::Udp(h), payload, l4_len.saturating_sub(8))
        }
        1 | 58 => {
            let b = rest.get(..2).ok_or(DecodeError::Truncated("ICMP header"))?;
            let t = if ip.protocol == 1 {
                Transport::Icmp {
                    kind: b[0],
                    code: b[1],
                }
            } else {
                Transport::Icmpv6 {
                    kind: b[0],
                    code: b[1],
                }
            };
            (t, rest.get(4..).unwrap_or(&[]), l4_len.saturating_sub(4))
        }
        _ => (Transport::Other, rest, l4_len),
    };
    Ok(Packet {
        vlan: outer.vlan,
        src_mac: outer.src_mac,
        ip,
        transport,
        payload,
        payload_len,
        ip_payload: rest,
        tunnel: None,
    })
}

type Inner<'a> = Result<(NetKind, &'a [u8]), DecodeError>;

/// Whether an IP packet carries a tunnel, and the inner network layer if so.
fn tunnel_payload<'a>(ip: &IpHeader, rest: &'a [u8]) -> Option<(Tunnel, Inner<'a>)> {
    match ip.protocol {
        4 => Some((Tunnel::IpInIp, Ok((NetKind::Ipv4, rest)))),
        41 => Some((Tunnel::IpInIp, Ok((NetKind::Ipv6, rest)))),
        47 => {
            let b = rest.get(..4)?;
            let flags = u16::from_be_bytes([b[0], b[1]]);
            // Version 0 only (version 1 is PPTP's enhanced GRE).
            if flags & 7 != 0 {
                return None;
            }
            let proto = u16::from_be_bytes([b[2], b[3]]);
            let len = 4
                + 4 * ((flags >> 15) & 1) as usize
                + 4 * ((flags >> 13) & 1) as usize
                + 4 * ((flags >> 12) & 1) as usize;
            let body = rest.get(len..)?;
            let inner = match proto {
                0x6558 => {
                    link::network_layer(link::linktype::ETHERNET, body).map(|l| (l.kind, l.data))
                }
                0x0800 => Ok((NetKind::Ipv4, body)),
                0x86dd => Ok((NetKind::Ipv6, body)),
                _ => return None,
            };
            Some((Tunnel::Gre, inner))
        }
        17 => {
            let b = rest.get(..8)?;
            let (sport, dport) = (
                u16::from_be_bytes([b[0], b[1]]),
                u16::from_be_bytes([b[2], b[3]]),
            );
            let body = &rest[8..];
            if dport == VXLAN_PORT {
                if body.first()? & 0x08 == 0 || body.len() < 8 {
                    return None;
                }
                let inner = link::network_layer(link::linktype::ETHERNET, &body[8..])
                    .map(|l| (l.kind, l.data));
                Some((Tunnel::Vxlan, inner))
            } else if dport == GTP_U_PORT || sport == GTP_U_PORT {
                let inner = gtp_u_payload(body)?;
                let kind = match inner.first().map(|v| v >> 4) {
                    Some(4) => NetKind::Ipv4,
                    Some(6) => NetKind::Ipv6,
                    _ => return None,
                };
                Some((Tunnel::GtpU, Ok((kind, inner))))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The T-PDU inside a GTPv1-U G-PDU (3GPP TS 29.281): an 8-byte header, 4 more bytes when any of
/// the E, S or PN flags is set, then a chain of extension headers (length in 4-byte units, next
/// type in the last byte). `None` for signalling messages and anything malformed.
fn gtp_u_payload(b: &[u8]) -> Option<&[u8]> {
    let h = b.get(..8)?;
    // Version 1, protocol type GTP, message type 255 (G-PDU).
    if h[0] >> 5 != 1 || h[0] & 0x10 == 0 || h[1] != 0xff {
        return None;
    }
    if h[0] & 0x07 == 0 {
        return b.get(8..);
    }
    let mut next = *b.get(11)?;
    let mut pos = 12;
    for _ in 0..16 {
        if next == 0 {
            return b.get(pos..);
        }
        let len = usize::from(*b.get(pos)?) * 4;
        if len == 0 {
            return None;
        }
        next = *b.get(pos + len - 1)?;
        pos += len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtp_u_headers() {
        let inner = [0x45, 0, 0, 20];
        let mut plain = vec![0x30, 0xff, 0, 4, 0, 0, 0, 1];
        plain.extend_from_slice(&inner);
        assert_eq!(gtp_u_payload(&plain), Some(&inner[..]));
        // With a sequence number and one PDU-session extension header.
        let mut ext = vec![
            0x36, 0xff, 0, 12, 0, 0, 0, 1, 0, 7, 0, 0x85, 1, 0x10, 0x01, 0x00,
        ];
        ext.extend_from_slice(&inner);
        assert_eq!(gtp_u_payload(&ext), Some(&inner[..]));
        // Echo request (type 1) and zero-length extension headers are not tunnels.
        assert_eq!(
            gtp_u_payload(&[0x32, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0]),
            None
        );
        assert_eq!(
            gtp_u_payload(&[0x34, 0xff, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0x85, 0]),
            None
        );
    }

    /// An IPv4 packet from 10.0.0.`src` to 10.0.0.`dst` carrying `payload` as `proto`.
    fn ipv4(proto: u8, src: u8, dst: u8, payload: &[u8]) -> Vec<u8> {
        let total = (20 + payload.len()) as u16;
        let mut v = vec![0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0];
        v[2..4].copy_from_slice(&total.to_be_bytes());
        v.extend_from_slice(&[10, 0, 0, src, 10, 0, 0, dst]);
        v.extend_from_slice(payload);
        v
    }

    /// A UDP datagram from `sport` to `dport` carrying `payload`.
    fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&sport.to_be_bytes());
        v.extend_from_slice(&dport.to_be_bytes());
        v.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(payload);
        v
    }

    /// `ip` in an Ethernet frame.
    fn ethernet(ip: &[u8]) -> Vec<u8> {
        let mut v = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
        v.extend_from_slice(ip);
        v
    }

    /// Every tunnel is removed on the inline path's guard (`may_tunnel`) as by `tunnel_payload`,
    /// and UDP beside the tunnels' ports is left alone.
    #[test]
    fn tunnels_are_removed_and_near_misses_are_not() {
        let inner = ipv4(17, 1, 2, &udp(1111, 53, b"query"));
        let mut gtp = vec![0x30, 0xff, 0, inner.len() as u8, 0, 0, 0, 1];
        gtp.extend_from_slice(&inner);
        let mut vxlan = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
        vxlan.extend_from_slice(&ethernet(&inner));
        let mut gre = vec![0, 0, 0x08, 0x00];
        gre.extend_from_slice(&inner);
        let cases = [
            (ipv4(4, 7, 8, &inner), Some(Tunnel::IpInIp)),
            (ipv4(47, 7, 8, &gre), Some(Tunnel::Gre)),
            (
                ipv4(17, 7, 8, &udp(40000, VXLAN_PORT, &vxlan)),
                Some(Tunnel::Vxlan),
            ),
            (
                ipv4(17, 7, 8, &udp(40000, GTP_U_PORT, &gtp)),
                Some(Tunnel::GtpU),
            ),
            (
                ipv4(17, 7, 8, &udp(GTP_U_PORT, 40000, &gtp)),
                Some(Tunnel::GtpU),
            ),
            (ipv4(17, 7, 8, &udp(40000, VXLAN_PORT + 1, &vxlan)), None),
            (ipv4(17, 7, 8, &udp(40000, GTP_U_PORT + 1, &gtp)), None),
        ];
        for (i, (outer, tunnel)) in cases.iter().enumerate() {
            let frame = ethernet(outer);
            let p = decode_link(1, &frame).expect("decodes");
            assert_eq!(p.tunnel, *tunnel, "case {i}");
            if tunnel.is_some() {
                assert_eq!(p.ip.src, std::net::Ipv4Addr::new(10, 0, 0, 1), "case {i}");
                assert_eq!(p.ports(), (1111, 53), "case {i}");
                assert_eq!(p.payload, b"query", "case {i}");
            } else {
                assert_eq!(p.ip.src, std::net::Ipv4Addr::new(10, 0, 0, 7), "case {i}");
            }
        }
    }
}
