//! NTP packets (RFC 5905): version, mode, stratum.

/// The fixed fields of an NTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ntp {
    /// Leap indicator.
    pub leap: u8,
    /// Version (1 to 4).
    pub version: u8,
    /// Mode: 1 symmetric active, 3 client, 4 server, 5 broadcast, ...
    pub mode: u8,
    /// Stratum (0 unspecified / kiss-o'-death, 1 primary, ...).
    pub stratum: u8,
    /// Poll interval, log2 seconds.
    pub poll: i8,
    /// Reference id (for stratum 1, four ASCII characters such as `GPS\0`).
    pub reference_id: [u8; 4],
    /// Transmit timestamp (NTP era seconds and fraction).
    pub transmit: (u32, u32),
}

/// Parses an NTP packet of at least 48 bytes; `None` when it is too short or the version is
/// not 1 to 4.
pub fn parse(p: &[u8]) -> Option<Ntp> {
    let b = p.get(..48)?;
    let version = (b[0] >> 3) & 7;
    if !(1..=4).contains(&version) {
        return None;
    }
    let be32 = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    Some(Ntp {
        leap: b[0] >> 6,
        version,
        mode: b[0] & 7,
        stratum: b[1],
        poll: b[2] as i8,
        reference_id: [b[12], b[13], b[14], b[15]],
        transmit: (be32(40), be32(44)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_and_server() {
        let mut q = [0u8; 48];
        q[0] = 0x23; // v4 client
        let n = parse(&q).unwrap();
        assert_eq!((n.version, n.mode, n.stratum), (4, 3, 0));
        let mut r = [0u8; 48];
        r[0] = 0x24;
        r[1] = 1;
        r[12..16].copy_from_slice(b"GPS\0");
        let n = parse(&r).unwrap();
        assert_eq!((n.mode, n.stratum, &n.reference_id), (4, 1, b"GPS\0"));
        assert!(parse(&q[..47]).is_none());
        q[0] = 0x3b; // version 7
        assert!(parse(&q).is_none());
    }
}
