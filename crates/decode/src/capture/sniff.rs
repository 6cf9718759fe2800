//! Recognising what a byte stream is from its first bytes.

/// The container formats this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic libpcap.
    Pcap {
        /// Header and records are big-endian.
        big_endian: bool,
        /// Timestamps carry nanoseconds (magic `0xa1b23c4d`).
        nanos: bool,
        /// The "modified" format of some old Linux patches (magic `0xa1b2cd34`, 24-byte records).
        modified: bool,
    },
    /// pcapng.
    Pcapng,
}

impl Format {
    /// A short name for summaries: `pcap`, `pcap-ns`, `pcap-modified` or `pcapng`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Pcap { modified: true, .. } => "pcap-modified",
            Format::Pcap { nanos: true, .. } => "pcap-ns",
            Format::Pcap { .. } => "pcap",
            Format::Pcapng => "pcapng",
        }
    }
}

/// Compression wrapped around a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (RFC 1952), possibly several members.
    Gzip,
    /// Zstandard.
    Zstd,
}

impl Compression {
    /// A short name: `none`, `gzip` or `zstd`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// What the first bytes of an input are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sniffed {
    Capture(Format),
    Compressed(Compression),
    /// Anything else, with a human name for the refusal message.
    Other(String),
}

/// How many leading bytes [`sniff`] wants to see (fewer is fine at end of input).
pub(crate) const SNIFF_LEN: usize = 16;

/// Recognises a stream from its first bytes.
pub(crate) fn sniff(b: &[u8]) -> Sniffed {
    let le = |i: usize| {
        b.get(i..i + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    };
    if b.is_empty() {
        return Sniffed::Other("empty file".into());
    }
    if b.starts_with(&[0x1f, 0x8b]) {
        return Sniffed::Compressed(Compression::Gzip);
    }
    if b.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Sniffed::Compressed(Compression::Zstd);
    }
    match le(0) {
        Some(0xa1b2_c3d4) => return cap(false, false, false),
        Some(0xd4c3_b2a1) => return cap(true, false, false),
        Some(0xa1b2_3c4d) => return cap(false, true, false),
        Some(0x4d3c_b2a1) => return cap(true, true, false),
        Some(0xa1b2_cd34) => return cap(false, false, true),
        Some(0x34cd_b2a1) => {
            return other("modified (Alexey Kuznetsov) pcap, big-endian, which is not supported")
        }
        Some(0x0a0d_0d0a) => return Sniffed::Capture(Format::Pcapng),
        _ => {}
    }
    // A pcapng block other than a section header at offset 0: a fragment cut from a pcapng file.
    if let (Some(ty @ (1 | 2 | 3 | 5 | 6)), Some(len)) = (le(0), le(4)) {
        if len >= 12 && len % 4 == 0 && len < (1 << 26) {
            return Sniffed::Other(format!(
                "pcapng block of type {ty} without a section header block (a fragment of a pcapng file?)"
            ));
        }
    }
    let named: &[(&[u8], &str)] = &[
        (
            b"snoop\0\0\0",
            "Solaris snoop capture (RFC 1761); convert it with `editcap -F pcap`",
        ),
        (
            b"BZh",
            "bzip2-compressed data (only gzip and zstd are read; decompress it first)",
        ),
        (
            &[0xfd, b'7', b'z', b'X', b'Z', 0],
            "xz-compressed data (only gzip and zstd are read; decompress it first)",
        ),
        (
            &[0x04, 0x22, 0x4d, 0x18],
            "lz4-compressed data (only gzip and zstd are read; decompress it first)",
        ),
        (b"PK\x03\x04", "zip archive (extract the capture first)"),
        (
            b"GMBU",
            "Microsoft Network Monitor 2.x capture; convert it with `editcap -F pcap`",
        ),
        (
            b"RTSS",
            "Microsoft Network Monitor 1.x capture; convert it with `editcap -F pcap`",
        ),
        (
            b"XCP\0",
            "NetXRay / Sniffer capture; convert it with `editcap -F pcap`",
        ),
        (
            b"iptrace",
            "AIX iptrace capture; convert it with `editcap -F pcap`",
        ),
        (b"\x7fELF", "ELF executable"),
        (b"%PDF", "PDF document"),
    ];
    for (magic, name) in named {
        if b.starts_with(magic) {
            return other(name);
        }
    }
    if b.iter()
        .all(|&c| c == b'\n' || c == b'\r' || c == b'\t' || (0x20..0x7f).contains(&c))
    {
        return other("text, not a capture");
    }
    other("unrecognised format")
}

fn cap(big_endian: bool, nanos: bool, modified: bool) -> Sniffed {
    Sniffed::Capture(Format::Pcap {
        big_endian,
        nanos,
        modified,
    })
}

fn other(s: &str) -> Sniffed {
    Sniffed::Other(s.to_string())
}

/// The first bytes as hex, for messages.
pub(crate) fn hex_prefix(b: &[u8]) -> String {
    b.iter()
        .take(8)
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_capture_magics() {
        assert_eq!(sniff(&[0xd4, 0xc3, 0xb2, 0xa1]), cap(false, false, false));
        assert_eq!(sniff(&[0xa1, 0xb2, 0xc3, 0xd4]), cap(true, false, false));
        assert_eq!(sniff(&[0x4d, 0x3c, 0xb2, 0xa1]), cap(false, true, false));
        assert_eq!(sniff(&[0xa1, 0xb2, 0x3c, 0x4d]), cap(true, true, false));
        assert_eq!(sniff(&[0x34, 0xcd, 0xb2, 0xa1]), cap(false, false, true));
        assert_eq!(
            sniff(&[0x0a, 0x0d, 0x0d, 0x0a]),
            Sniffed::Capture(Format::Pcapng)
        );
        assert_eq!(
            sniff(&[0x1f, 0x8b, 8]),
            Sniffed::Compressed(Compression::Gzip)
        );
        assert_eq!(
            sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            Sniffed::Compressed(Compression::Zstd)
        );
    }

    #[test]
    fn names_what_it_refuses() {
        match sniff(b"snoop\0\0\0\0\0\0\x02") {
            Sniffed::Other(s) => assert!(s.contains("snoop"), "{s}"),
            s => panic!("{s:?}"),
        }
        assert_eq!(sniff(b""), other("empty file"));
        assert_eq!(sniff(b"hello world\n"), other("text, not a capture"));
        assert_eq!(sniff(&[0, 1, 2, 3, 0xff]), other("unrecognised format"));
        match sniff(&[6, 0, 0, 0, 0xa0, 0, 0, 0, 0, 0]) {
            Sniffed::Other(s) => assert!(s.contains("without a section header"), "{s}"),
            s => panic!("{s:?}"),
        }
    }
}
