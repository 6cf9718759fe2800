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
}

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
pub fn decode<'a>(frame: &Frame<'a>) -> Result<Packet<'a>, DecodeError> {
    decode_link(frame.link_type, frame.data)
}

/// Decodes the bytes of a frame of link type `link_type` down to the transport layer.
pub fn decode_link(link_type: u16, data: &[u8]) -> Result<Packet<'_>, DecodeError> {
    let l = link::network_layer(link_type, data)?;
    let (ip, rest) = match l.kind {
        NetKind::Ipv4 => ip::ipv4(l.data)?,
        NetKind::Ipv6 => ip::ipv6(l.data)?,
        other => return Err(DecodeError::NotIp(other)),
    };
    let l4_len = ip.total_len.saturating_sub(ip.header_len);
    let mut packet = Packet { vlan: l.vlan, src_mac: l.src_mac, ip, transport: Transport::Other, payload: &[], payload_len: 0 };
    if ip.fragment.is_some_and(|f| f.offset > 0) {
        packet.transport = Transport::Fragment;
        packet.payload = rest;
        packet.payload_len = l4_len;
        return Ok(packet);
    }
    match ip.protocol {
        6 => {
            let (h, payload) = tcp::tcp(rest)?;
            packet.transport = Transport::Tcp(h);
            packet.payload = payload;
            packet.payload_len = l4_len.saturating_sub(u32::from(h.header_len));
        }
        17 => {
            let (h, payload) = tcp::udp(rest)?;
            packet.transport = Transport::Udp(h);
            packet.payload = payload;
            packet.payload_len = l4_len.saturating_sub(8);
        }
        1 | 58 => {
            let b = rest.get(..2).ok_or(DecodeError::Truncated("ICMP header"))?;
            packet.transport = if ip.protocol == 1 {
                Transport::Icmp { kind: b[0], code: b[1] }
            } else {
                Transport::Icmpv6 { kind: b[0], code: b[1] }
            };
            packet.payload = rest.get(4..).unwrap_or(&[]);
            packet.payload_len = l4_len.saturating_sub(4);
        }
        _ => {
            packet.payload = rest;
            packet.payload_len = l4_len;
        }
    }
    Ok(packet)
}
