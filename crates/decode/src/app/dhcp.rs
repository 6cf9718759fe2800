//! DHCPv4 (RFC 2131/2132): message type, host name (12), client FQDN (81), vendor class (60).

use std::net::Ipv4Addr;

/// What a DHCP message says about the client.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dhcp<'a> {
    /// BOOTP op: 1 request, 2 reply.
    pub op: u8,
    /// Transaction id.
    pub xid: u32,
    /// Client hardware address (first 6 bytes of chaddr for Ethernet).
    pub client_mac: [u8; 6],
    /// `yiaddr`: the address offered or assigned.
    pub your_ip: Option<Ipv4Addr>,
    /// Option 53: 1 DISCOVER, 2 OFFER, 3 REQUEST, 5 ACK, 6 NAK, 7 RELEASE, 8 INFORM.
    pub message_type: Option<u8>,
    /// Option 12, as sent.
    pub hostname: Option<&'a [u8]>,
    /// Option 81's domain name, in presentation form.
    pub client_fqdn: Option<String>,
    /// Option 60, as sent.
    pub vendor_class: Option<&'a [u8]>,
    /// Option 50.
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 55, in order (the parameter-request list fingerprints DHCP clients).
    pub parameter_requests: &'a [u8],
}

const MAGIC: [u8; 4] = [99, 130, 83, 99];

/// A readable name for a DHCP message type.
pub fn message_type_name(t: u8) -> &'static str {
    match t {
        1 => "DISCOVER",
        2 => "OFFER",
        3 => "REQUEST",
        4 => "DECLINE",
        5 => "ACK",
        6 => "NAK",
        7 => "RELEASE",
        8 => "INFORM",
        _ => "OTHER",
    }
}

/// Parses a DHCPv4 message; `None` when it is not one (too short, no magic cookie).
pub fn parse(p: &[u8]) -> Option<Dhcp<'_>> {
    let fixed = p.get(..240)?;
    if fixed[236..240] != MAGIC || !(1..=2).contains(&fixed[0]) {
        return None;
    }
    let ip = |i: usize| Ipv4Addr::new(fixed[i], fixed[i + 1], fixed[i + 2], fixed[i + 3]);
    let mut d = Dhcp {
        op: fixed[0],
        xid: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
        client_mac: [
            fixed[28], fixed[29], fixed[30], fixed[31], fixed[32], fixed[33],
        ],
        your_ip: Some(ip(16)).filter(|a| !a.is_unspecified()),
        ..Dhcp::default()
    };
    let mut opts = &p[240..];
    while let Some((&code, rest)) = opts.split_first() {
        match code {
            0 => {
                opts = rest;
                continue;
            }
            255 => break,
            _ => {}
        }
        let Some((&len, rest)) = rest.split_first() else {
            break;
        };
        let Some(val) = rest.get(..usize::from(len)) else {
            break;
        };
        match code {
            53 if len == 1 => d.message_type = Some(val[0]),
            12 if len > 0 => d.hostname = Some(val),
            60 if len > 0 => d.vendor_class = Some(val),
            50 if len == 4 => d.requested_ip = Some(Ipv4Addr::new(val[0], val[1], val[2], val[3])),
            55 => d.parameter_requests = val,
            81 if len >= 3 => d.client_fqdn = fqdn(val[0], &val[3..]),
            _ => {}
        }
        opts = &rest[usize::from(len)..];
    }
    Some(d)
}

/// Option 81's name: wire-format labels when the E flag (0x04) is set, else ASCII.
fn fqdn(flags: u8, name: &[u8]) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    if flags & 0x04 == 0 {
        return Some(crate::text::lossy(name));
    }
    let mut out = Vec::new();
    let mut rest = name;
    while let Some((&l, after)) = rest.split_first() {
        if l == 0 || l > 63 {
            break;
        }
        let label = after.get(..usize::from(l))?;
        if !out.is_empty() {
            out.push(b'.');
        }
        out.extend_from_slice(label);
        rest = &after[usize::from(l)..];
    }
    (!out.is_empty()).then(|| crate::text::lossy(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(opts: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 240];
        p[0] = 1;
        p[1] = 1;
        p[2] = 6;
        p[4..8].copy_from_slice(&[1, 2, 3, 4]);
        p[28..34].copy_from_slice(&[0xa4, 0x83, 0xe7, 1, 2, 3]);
        p[236..240].copy_from_slice(&MAGIC);
        p.extend_from_slice(opts);
        p
    }

    #[test]
    fn names_and_type() {
        let mut o = vec![53, 1, 3, 12, 11];
        o.extend_from_slice(b"Johns-MacBk");
        o.extend_from_slice(&[60, 4, b'M', b'S', b'F', b'T']);
        o.extend_from_slice(&[
            81, 12, 0x04, 0, 0, 5, b'h', b'o', b's', b't', b'1', 1, b'x', 0,
        ]);
        o.push(255);
        let req = request(&o);
        let d = parse(&req).unwrap();
        assert_eq!(d.message_type, Some(3));
        assert_eq!(d.hostname, Some(&b"Johns-MacBk"[..]));
        assert_eq!(d.vendor_class, Some(&b"MSFT"[..]));
        assert_eq!(d.client_fqdn.as_deref(), Some("host1.x"));
        assert_eq!(d.client_mac, [0xa4, 0x83, 0xe7, 1, 2, 3]);
        assert_eq!(message_type_name(3), "REQUEST");
    }

    #[test]
    fn hostile_options() {
        // Option length past the end: parsing stops, earlier options kept.
        let req = request(&[53, 1, 1, 12, 200, b'a']);
        let d = parse(&req).unwrap();
        assert_eq!((d.message_type, d.hostname), (Some(1), None));
        assert!(parse(&request(&[])[..239]).is_none());
        let mut bad = request(&[]);
        bad[236] = 0;
        assert!(parse(&bad).is_none());
        assert_eq!(fqdn(0x04, &[70, b'a']), None);
    }
}
