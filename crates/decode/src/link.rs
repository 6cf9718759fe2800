//! Link layers: from a frame's bytes and link type to the network-layer bytes.

use pnet_packet::ethernet::EthernetPacket;
use pnet_packet::vlan::VlanPacket;

use crate::DecodeError;

/// `LINKTYPE_*` numbers this module understands.
pub mod linktype {
    /// BSD loopback: 4-byte address family in the writer's byte order.
    pub const NULL: u16 = 0;
    /// Ethernet II.
    pub const ETHERNET: u16 = 1;
    /// PPP (RFC 1661), protocol field first, maybe after an HDLC-like `ff 03`.
    pub const PPP: u16 = 9;
    /// `DLT_RAW` as some BSDs number it in files.
    pub const RAW_BSD12: u16 = 12;
    /// `DLT_RAW` as OpenBSD numbers it.
    pub const RAW_BSD14: u16 = 14;
    /// PPP in HDLC-like framing.
    pub const PPP_HDLC: u16 = 50;
    /// Raw IPv4 or IPv6, by the version nibble.
    pub const RAW: u16 = 101;
    /// OpenBSD loopback: 4-byte address family in network byte order.
    pub const LOOP: u16 = 108;
    /// Linux cooked capture v1.
    pub const LINUX_SLL: u16 = 113;
    /// Raw IPv4.
    pub const IPV4: u16 = 228;
    /// Raw IPv6.
    pub const IPV6: u16 = 229;
    /// Apple PKTAP (`tcpdump -k` on macOS): a metadata header, then a frame of another link type.
    pub const PKTAP: u16 = 258;
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: u16 = 276;
}

/// The network layer found inside a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkLayer<'a> {
    /// Outermost 802.1Q/802.1ad VLAN id, if any.
    pub vlan: Option<u16>,
    /// Innermost VLAN id when the frame is QinQ-tagged.
    pub inner_vlan: Option<u16>,
    /// Source MAC address (Ethernet and Linux cooked captures that carry one).
    pub src_mac: Option<[u8; 6]>,
    /// What the bytes are.
    pub kind: NetKind,
    /// The network-layer bytes as captured.
    pub data: &'a [u8],
}

/// What protocol a network layer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NetKind {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
    /// ARP.
    Arp,
    /// Any other EtherType (or PPP protocol mapped to one).
    Other(u16),
}

const ETH_IPV4: u16 = 0x0800;
const ETH_ARP: u16 = 0x0806;
const ETH_IPV6: u16 = 0x86dd;
const ETH_VLAN: u16 = 0x8100;
const ETH_QINQ: u16 = 0x88a8;
const ETH_QINQ_OLD: u16 = 0x9100;
const ETH_PPPOE_SESSION: u16 = 0x8864;
const ETH_MPLS: u16 = 0x8847;
const ETH_MPLS_MC: u16 = 0x8848;

/// Most VLAN tags or MPLS labels followed before giving up (a hostile frame may stack many).
const MAX_TAGS: usize = 8;

fn kind_of(ethertype: u16) -> NetKind {
    match ethertype {
        ETH_IPV4 => NetKind::Ipv4,
        ETH_IPV6 => NetKind::Ipv6,
        ETH_ARP => NetKind::Arp,
        other => NetKind::Other(other),
    }
}

fn by_version(data: &[u8]) -> NetKind {
    match data.first().map(|b| b >> 4) {
        Some(4) => NetKind::Ipv4,
        Some(6) => NetKind::Ipv6,
        _ => NetKind::Other(0),
    }
}

fn address_family(af: u32) -> Option<NetKind> {
    // AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD),
    // 30 (macOS, iOS), 23 (Windows).
    match af {
        2 => Some(NetKind::Ipv4),
        10 | 23 | 24 | 28 | 30 => Some(NetKind::Ipv6),
        _ => None,
    }
}

/// Finds the network layer of a frame of link type `link_type`.
#[inline]
pub fn network_layer(link_type: u16, data: &[u8]) -> Result<NetworkLayer<'_>, DecodeError> {
    // Ethernet, nearly every frame, inline; the rest (and PKTAP's recursion) out of line.
    if link_type == linktype::ETHERNET {
        return ethernet(data);
    }
    network_layer_depth(link_type, data, 0)
}

fn network_layer_depth(
    link_type: u16,
    data: &[u8],
    depth: u8,
) -> Result<NetworkLayer<'_>, DecodeError> {
    let plain = |kind, data| {
        Ok(NetworkLayer {
            vlan: None,
            inner_vlan: None,
            src_mac: None,
            kind,
            data,
        })
    };
    match link_type {
        linktype::ETHERNET => ethernet(data),
        linktype::RAW | linktype::RAW_BSD12 | linktype::RAW_BSD14 => plain(by_version(data), data),
        linktype::IPV4 => plain(NetKind::Ipv4, data),
        linktype::IPV6 => plain(NetKind::Ipv6, data),
        linktype::NULL | linktype::LOOP => {
            let b = data
                .get(..4)
                .ok_or(DecodeError::Truncated("loopback header"))?;
            let le = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            let be = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            // The family is in the writer's byte order (NULL) or network order (LOOP); a value
            // that only makes sense one way round tells which.
            let first = if link_type == linktype::LOOP { be } else { le };
            let second = if link_type == linktype::LOOP { le } else { be };
            let kind = address_family(first)
                .or_else(|| address_family(second))
                .unwrap_or(NetKind::Other(0));
            plain(kind, &data[4..])
        }
        linktype::LINUX_SLL => {
            let b = data
                .get(..16)
                .ok_or(DecodeError::Truncated("Linux cooked header"))?;
            let proto = u16::from_be_bytes([b[14], b[15]]);
            let addr_len = u16::from_be_bytes([b[4], b[5]]);
            let mut l = ether_chain(proto, &data[16..])?;
            if addr_len == 6 {
                l.src_mac = Some([b[6], b[7], b[8], b[9], b[10], b[11]]);
            }
            Ok(l)
        }
        linktype::LINUX_SLL2 => {
            let b = data
                .get(..20)
                .ok_or(DecodeError::Truncated("Linux cooked v2 header"))?;
            let proto = u16::from_be_bytes([b[0], b[1]]);
            let mut l = ether_chain(proto, &data[20..])?;
            if b[11] == 6 {
                l.src_mac = Some([b[12], b[13], b[14], b[15], b[16], b[17]]);
            }
            Ok(l)
        }
        linktype::PPP | linktype::PPP_HDLC => {
            let body = if data.starts_with(&[0xff, 0x03]) {
                &data[2..]
            } else {
                data
            };
            ppp(body)
        }
        linktype::PKTAP => {
            if depth > 0 {
                return Err(DecodeError::Malformed("PKTAP inside PKTAP"));
            }
            let b = data
                .get(..8)
                .ok_or(DecodeError::Truncated("PKTAP header"))?;
            // Written in the capturing host's byte order: little-endian on every Mac.
            let hdr_len = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
            let inner_dlt = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            if hdr_len < 8 || hdr_len > data.len() {
                return Err(DecodeError::Truncated("PKTAP header"));
            }
            let inner =
                u16::try_from(inner_dlt).map_err(|_| DecodeError::UnsupportedLink(link_type))?;
            network_layer_depth(inner, &data[hdr_len..], depth + 1)
        }
        other => Err(DecodeError::UnsupportedLink(other)),
    }
}

#[inline]
fn ethernet(data: &[u8]) -> Result<NetworkLayer<'_>, DecodeError> {
    let eth = EthernetPacket::new(data).ok_or(DecodeError::Truncated("Ethernet header"))?;
    let mac = eth.get_source().octets();
    let ethertype = eth.get_ethertype().0;
    if ethertype <= 1500 {
        // An 802.3 length field: LLC/SNAP frames (STP, CDP, ...) carry no IP we follow.
        return Ok(NetworkLayer {
            vlan: None,
            inner_vlan: None,
            src_mac: Some(mac),
            kind: NetKind::Other(0),
            data: &data[14..],
        });
    }
    let mut l = ether_chain(ethertype, &data[14..])?;
    l.src_mac = Some(mac);
    Ok(l)
}

/// Follows VLAN tags, PPPoE and MPLS from an EtherType to the network layer.
#[inline]
fn ether_chain(mut ethertype: u16, mut data: &[u8]) -> Result<NetworkLayer<'_>, DecodeError> {
    let mut vlans: [Option<u16>; 2] = [None, None];
    for _ in 0..MAX_TAGS {
        match ethertype {
            ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD => {
                let tag = VlanPacket::new(data).ok_or(DecodeError::Truncated("VLAN tag"))?;
                let id = tag.get_vlan_identifier();
                if vlans[0].is_none() {
                    vlans[0] = Some(id);
                } else {
                    vlans[1] = Some(id);
                }
                ethertype = tag.get_ethertype().0;
                data = &data[4..];
            }
            ETH_PPPOE_SESSION => {
                let b = data
                    .get(..6)
                    .ok_or(DecodeError::Truncated("PPPoE header"))?;
                let len = usize::from(u16::from_be_bytes([b[4], b[5]]));
                let end = (6 + len).min(data.len());
                let mut l = ppp(&data[6..end])?;
                l.vlan = vlans[0];
                l.inner_vlan = vlans[1];
                return Ok(l);
            }
            ETH_MPLS | ETH_MPLS_MC => {
                let mut rest = data;
                loop {
                    let b = rest.get(..4).ok_or(DecodeError::Truncated("MPLS label"))?;
                    rest = &rest[4..];
                    if b[2] & 1 == 1 {
                        break;
                    }
                }
                return Ok(NetworkLayer {
                    vlan: vlans[0],
                    inner_vlan: vlans[1],
                    src_mac: None,
                    kind: by_version(rest),
                    data: rest,
                });
            }
            _ => {
                return Ok(NetworkLayer {
                    vlan: vlans[0],
                    inner_vlan: vlans[1],
                    src_mac: None,
                    kind: kind_of(ethertype),
                    data,
                });
            }
        }
    }
    Err(DecodeError::Malformed("too many stacked VLAN tags"))
}

fn ppp(data: &[u8]) -> Result<NetworkLayer<'_>, DecodeError> {
    // The protocol field is 2 bytes, or 1 when compressed (odd first byte).
    let (proto, rest) = match data.first() {
        Some(&b) if b & 1 == 1 => (u16::from(b), &data[1..]),
        Some(_) => {
            let b = data
                .get(..2)
                .ok_or(DecodeError::Truncated("PPP protocol"))?;
            (u16::from_be_bytes([b[0], b[1]]), &data[2..])
        }
        None => return Err(DecodeError::Truncated("PPP protocol")),
    };
    let kind = match proto {
        0x0021 => NetKind::Ipv4,
        0x0057 => NetKind::Ipv6,
        other => NetKind::Other(other),
    };
    Ok(NetworkLayer {
        vlan: None,
        inner_vlan: None,
        src_mac: None,
        kind,
        data: rest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth(ethertype: &[u8], rest: &[u8]) -> Vec<u8> {
        let mut v = vec![0xff; 6];
        v.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
        v.extend_from_slice(ethertype);
        v.extend_from_slice(rest);
        v
    }

    #[test]
    fn ethernet_and_qinq() {
        let f = eth(&[0x08, 0x00], &[0x45, 0]);
        let l = network_layer(linktype::ETHERNET, &f).unwrap();
        assert_eq!(
            (l.kind, l.vlan, l.data),
            (NetKind::Ipv4, None, &[0x45, 0][..])
        );
        assert_eq!(l.src_mac, Some([2, 0, 0, 0, 0, 1]));
        let f = eth(
            &[0x88, 0xa8],
            &[0x00, 0x64, 0x81, 0x00, 0x00, 0xc8, 0x86, 0xdd, 0x60],
        );
        let l = network_layer(linktype::ETHERNET, &f).unwrap();
        assert_eq!(
            (l.kind, l.vlan, l.inner_vlan),
            (NetKind::Ipv6, Some(100), Some(200))
        );
        assert_eq!(l.data, &[0x60]);
    }

    #[test]
    fn null_and_loop_in_either_byte_order() {
        for (lt, hdr) in [
            (linktype::NULL, [2u8, 0, 0, 0]),
            (linktype::NULL, [0, 0, 0, 2]),
            (linktype::LOOP, [0, 0, 0, 30]),
            (linktype::LOOP, [30, 0, 0, 0]),
        ] {
            let mut f = hdr.to_vec();
            f.push(0x45);
            let l = network_layer(lt, &f).unwrap();
            assert!(
                matches!(l.kind, NetKind::Ipv4 | NetKind::Ipv6),
                "{lt} {hdr:?}"
            );
        }
        assert!(network_layer(linktype::NULL, &[2, 0]).is_err());
    }

    #[test]
    fn pppoe_sll_sll2_pktap() {
        let f = eth(&[0x88, 0x64], &[0x11, 0, 0, 1, 0, 3, 0x00, 0x21, 0x45]);
        let l = network_layer(linktype::ETHERNET, &f).unwrap();
        assert_eq!((l.kind, l.data), (NetKind::Ipv4, &[0x45][..]));
        let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x86, 0xdd];
        sll.push(0x60);
        let l = network_layer(linktype::LINUX_SLL, &sll).unwrap();
        assert_eq!(
            (l.kind, l.src_mac),
            (NetKind::Ipv6, Some([1, 2, 3, 4, 5, 6]))
        );
        let mut sll2 = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 9, 9, 9, 9, 9, 9, 0, 0,
        ];
        sll2.push(0x45);
        assert_eq!(
            network_layer(linktype::LINUX_SLL2, &sll2).unwrap().kind,
            NetKind::Ipv4
        );
        let mut pktap = vec![12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        pktap.extend(eth(&[0x08, 0x00], &[0x45]));
        assert_eq!(
            network_layer(linktype::PKTAP, &pktap).unwrap().kind,
            NetKind::Ipv4
        );
        let bad = [200u8, 0, 0, 0, 1, 0, 0, 0];
        assert!(network_layer(linktype::PKTAP, &bad).is_err());
    }

    #[test]
    fn hostile_tag_stacks_and_unknown_links() {
        let mut rest = Vec::new();
        for _ in 0..20 {
            rest.extend_from_slice(&[0, 1, 0x81, 0x00]);
        }
        let f = eth(&[0x81, 0x00], &rest);
        assert!(network_layer(linktype::ETHERNET, &f).is_err());
        assert_eq!(
            network_layer(147, &[1, 2, 3]),
            Err(DecodeError::UnsupportedLink(147))
        );
        let mpls = eth(&[0x88, 0x47], &[0, 0, 0, 64, 0, 0, 0]);
        assert!(network_layer(linktype::ETHERNET, &mpls).is_err());
    }
}
