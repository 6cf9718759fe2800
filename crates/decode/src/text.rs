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
    IpText::new(a).as_str().to_string()
}

/// An address's text held on the stack (what [`ip`] gives, without allocating).
#[derive(Clone, Copy)]
pub struct IpText {
    buf: [u8; 48],
    len: u8,
}

impl IpText {
    /// The text of `a`.
    pub fn new(a: std::net::IpAddr) -> IpText {
        let mut t = IpText {
            buf: [0; 48],
            len: 0,
        };
        match a {
            std::net::IpAddr::V4(v4) => {
                let mut n = 0;
                for (i, o) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        t.buf[n] = b'.';
                        n += 1;
                    }
                    if o >= 100 {
                        t.buf[n] = b'0' + o / 100;
                        n += 1;
                    }
                    if o >= 10 {
                        t.buf[n] = b'0' + o / 10 % 10;
                        n += 1;
                    }
                    t.buf[n] = b'0' + o % 10;
                    n += 1;
                }
                t.len = n as u8;
            }
            std::net::IpAddr::V6(v6) => {
                use std::io::Write;
                let mut cur = std::io::Cursor::new(&mut t.buf[..]);
                // At most 45 bytes (`ffff:...:255.255.255.255`): it always fits.
                let _ = write!(cur, "{v6}");
                t.len = cur.position() as u8;
            }
        }
        t
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits, dots, colons and hex letters are ever written.
        std::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or("")
    }
}

impl std::fmt::Debug for IpText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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
            "::ffff:255.255.255.255",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "fe80:1234:5678:9abc:def0:1234:5678:9abc",
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
