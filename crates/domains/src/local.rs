//! Local traffic: addresses and services that never leave the local network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const PROTO_UDP: u8 = 17;

/// Why an address counts as local, or `None` when it is routable on the Internet.
///
/// Covers loopback, unspecified, link-local, multicast, limited broadcast, RFC 1918, CGNAT
/// (100.64.0.0/10), IPv6 unique-local (fc00::/7) and link-local (fe80::/10). IPv4-mapped IPv6
/// addresses are judged by their IPv4 address.
pub fn local_address_kind(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4_kind(v4),
            None => v6_kind(v6),
        },
    }
}

fn v4_kind(a: Ipv4Addr) -> Option<&'static str> {
    let o = a.octets();
    if a.is_loopback() {
        Some("loopback")
    } else if a.is_unspecified() {
        Some("unspecified")
    } else if a.is_broadcast() {
        Some("broadcast")
    } else if a.is_multicast() {
        Some("multicast")
    } else if a.is_link_local() {
        Some("link-local")
    } else if a.is_private() {
        Some("private")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("cgnat")
    } else {
        None
    }
}

fn v6_kind(a: Ipv6Addr) -> Option<&'static str> {
    let first = a.segments()[0];
    if a.is_loopback() {
        Some("loopback")
    } else if a.is_unspecified() {
        Some("unspecified")
    } else if a.is_multicast() {
        Some("multicast")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if first & 0xfe00 == 0xfc00 {
        Some("unique-local")
    } else {
        None
    }
}

/// The local-network service on a well-known port, if any: `mdns` (UDP 5353), `llmnr`
/// (UDP/TCP 5355), `ssdp` (UDP 1900), `dhcp` (UDP 67/68), `dhcpv6` (UDP 546/547), `netbios`
/// (UDP 137/138), `ws-discovery` (UDP 3702).
///
/// `ip_proto` is the IP protocol number ([`PROTO_UDP`], [`PROTO_TCP`]); `port` is either end's
/// port, usually the server's.
pub fn local_service(ip_proto: u8, port: u16) -> Option<&'static str> {
    match (ip_proto, port) {
        (PROTO_UDP, 5353) => Some("mdns"),
        (PROTO_UDP | PROTO_TCP, 5355) => Some("llmnr"),
        (PROTO_UDP, 1900) => Some("ssdp"),
        (PROTO_UDP, 67 | 68) => Some("dhcp"),
        (PROTO_UDP, 546 | 547) => Some("dhcpv6"),
        (PROTO_UDP, 137 | 138) => Some("netbios"),
        (PROTO_UDP, 3702) => Some("ws-discovery"),
        _ => None,
    }
}

/// Whether a normalised name is local: `local` itself or anything under `.local` (mDNS).
pub fn is_local_name(name: &str) -> bool {
    name == "local" || name.ends_with(".local")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Option<&'static str> {
        local_address_kind(s.parse().unwrap())
    }

    #[test]
    fn local_addresses() {
        assert_eq!(kind("10.1.2.3"), Some("private"));
        assert_eq!(kind("172.16.0.1"), Some("private"));
        assert_eq!(kind("192.168.1.1"), Some("private"));
        assert_eq!(kind("100.64.0.1"), Some("cgnat"));
        assert_eq!(kind("100.127.255.255"), Some("cgnat"));
        assert_eq!(kind("100.128.0.1"), None);
        assert_eq!(kind("169.254.1.1"), Some("link-local"));
        assert_eq!(kind("224.0.0.251"), Some("multicast"));
        assert_eq!(kind("255.255.255.255"), Some("broadcast"));
        assert_eq!(kind("fe80::1"), Some("link-local"));
        assert_eq!(kind("fd00::1"), Some("unique-local"));
        assert_eq!(kind("ff02::fb"), Some("multicast"));
        assert_eq!(kind("::ffff:192.168.0.1"), Some("private"));
        assert_eq!(kind("17.1.2.3"), None);
        assert_eq!(kind("2620:149::1"), None);
    }

    #[test]
    fn local_services() {
        assert_eq!(local_service(PROTO_UDP, 5353), Some("mdns"));
        assert_eq!(local_service(PROTO_UDP, 1900), Some("ssdp"));
        assert_eq!(local_service(PROTO_UDP, 67), Some("dhcp"));
        assert_eq!(local_service(PROTO_TCP, 5355), Some("llmnr"));
        assert_eq!(local_service(PROTO_TCP, 443), None);
    }

    #[test]
    fn local_names() {
        assert!(is_local_name("macbook.local"));
        assert!(!is_local_name("notlocal"));
        assert!(!is_local_name("local.example"));
    }
}
