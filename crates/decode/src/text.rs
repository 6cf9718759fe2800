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

#[cfg(test)]
mod tests {
    use super::lossy;

    #[test]
    fn invalid_bytes_are_escaped_not_dropped() {
        assert_eq!(lossy(b"plain.example"), "plain.example");
        assert_eq!(lossy("caf\u{e9}".as_bytes()), "caf\u{e9}");
        assert_eq!(lossy(b"a\xffb\xc3"), "a\\xffb\\xc3");
        assert_eq!(lossy(b"\xe2\x82"), "\\xe2\\x82");
    }
}
