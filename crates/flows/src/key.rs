//! Flow keys: the canonical 5-tuple (plus VLAN), and which side is the server.

use std::net::IpAddr;

/// One end of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// Address.
    pub ip: IpAddr,
    /// Port (0 for protocols without ports).
    pub port: u16,
}

/// A bidirectional flow key: both orientations of a packet map to the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...).
    pub proto: u8,
    /// The lower endpoint.
    pub lo: Endpoint,
    /// The higher endpoint.
    pub hi: Endpoint,
    /// Outermost VLAN id.
    pub vlan: Option<u16>,
}

impl FlowKey {
    /// The key of a packet from `src` to `dst`.
    #[inline]
    pub fn new(proto: u8, src: Endpoint, dst: Endpoint, vlan: Option<u16>) -> FlowKey {
        let (lo, hi) = if src <= dst { (src, dst) } else { (dst, src) };
        FlowKey {
            proto,
            lo,
            hi,
            vlan,
        }
    }
}

/// How strongly a port says "server": 2 for services a boot talks to, 1 for other ports below
/// 1024, 0 for ephemeral ports.
pub fn server_port_rank(port: u16) -> u8 {
    match port {
        53 | 67 | 80 | 123 | 137 | 138 | 443 | 853 | 1900 | 5353 | 5355 | 5223 | 8080 | 8443
        | 3478 | 3479 | 5228 | 2195 | 2196 | 993 | 995 | 587 | 465 | 25 | 22 | 21 | 110 | 143 => 2,
        1..=1023 => 1,
        _ => 0,
    }
}

/// Which endpoint is the server of a flow whose first packet went from `src` to `dst` and did
/// not settle the question by a SYN: the destination, unless the source's port ranks higher as
/// a server port (a first packet 443 -> 52000 makes 443 the server side).
pub fn first_sender_is_client(src: Endpoint, dst: Endpoint) -> bool {
    server_port_rank(src.port) <= server_port_rank(dst.port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str, port: u16) -> Endpoint {
        Endpoint {
            ip: s.parse().unwrap(),
            port,
        }
    }

    #[test]
    fn both_orientations_share_a_key() {
        let a = ep("10.0.0.2", 52000);
        let b = ep("17.253.1.1", 443);
        assert_eq!(FlowKey::new(6, a, b, None), FlowKey::new(6, b, a, None));
        assert_ne!(FlowKey::new(6, a, b, None), FlowKey::new(17, a, b, None));
        assert_ne!(FlowKey::new(6, a, b, Some(1)), FlowKey::new(6, a, b, None));
    }

    #[test]
    fn well_known_port_corrects_the_first_sender() {
        let c = ep("10.0.0.2", 52000);
        let s = ep("17.253.1.1", 443);
        assert!(first_sender_is_client(c, s));
        assert!(!first_sender_is_client(s, c));
        // Two ephemeral ports: the first sender stays the client.
        assert!(first_sender_is_client(
            ep("10.0.0.2", 40000),
            ep("10.0.0.3", 50000)
        ));
        // mDNS 5353 -> 5353: the first sender.
        assert!(first_sender_is_client(
            ep("10.0.0.2", 5353),
            ep("224.0.0.251", 5353)
        ));
        // A DNS answer seen first: 53 is the server.
        assert!(!first_sender_is_client(
            ep("8.8.8.8", 53),
            ep("10.0.0.2", 1024)
        ));
    }
}
