//! Untrusted bytes as text: valid UTF-8 is kept, every byte that is not part of valid UTF-8 is
//! shown as `\xNN`, so that nothing is dropped silently and no byte is hidden behind U+FFFD.

/// `bytes` as a string, invalid UTF-8 bytes escaped as `\xNN`.
pub fn lossy(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// An address as text, as `Display` writes it (IPv4 without going through the formatter:
/// DNS answers and output rows format millions of them).
pub fn ip(a: std::net::IpAddr) -> String {
    match a {
        std::net::IpAddr::V4(v4) => {
            let mut s = String::with_capacity(15);
            for (i, o) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    s.push('.');
                }
                if o >= 100 {
                    s.push(char::from(b'0' + o / 100));
                }
                if o >= 10 {
                    s.push(char::from(b'0' + o / 10 % 10));
                }
                s.push(char::from(b'0' + o % 10));
            }
            s
        }
        std::net::IpAddr::V6(v6) => v6.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{ip, lossy};

    #[test]
    fn addresses_read_as_display_writes_them() {
        for a in [
            "0.0.0.0",
            "10.0.0.2",
            "255.255.255.255",
            "192.168.100.9",
            "2001:db8::1",
            "::ffff:1.2.3.4",
        ] {
            let parsed: std::net::IpAddr = a.parse().unwrap();
            assert_eq!(ip(parsed), parsed.to_string());
        }
    }

    #[test]
    fn invalid_bytes_are_escaped_not_dropped() {
        assert_eq!(lossy(b"plain.example"), "plain.example");
        assert_eq!(lossy("caf\u{e9}".as_bytes()), "caf\u{e9}");
        assert_eq!(lossy(b"a\xffb\xc3"), "a\\xffb\\xc3");
        assert_eq!(lossy(b"\xe2\x82"), "\\xe2\\x82");
    }
}
