//! TLS ClientHello: SNI, ALPN, versions, cipher suites and extensions in order, through
//! `tls-parser`. Works on bytes the caller reassembled from several TCP segments, and answers
//! [`TlsError::Incomplete`] when bytes are missing rather than failing.

use tls_parser::{
    parse_tls_client_hello_extension, parse_tls_message_handshake, parse_tls_raw_record,
    TlsExtension, TlsMessage, TlsMessageHandshake, TlsRecordType,
};

/// Why a ClientHello could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The bytes are not a TLS handshake record.
    #[error("not a TLS handshake")]
    NotTls,
    /// A ClientHello starts here but more bytes are needed; `needed` is the total length of the
    /// record (or handshake message) when known.
    #[error("incomplete ClientHello ({have} of {needed} bytes)")]
    Incomplete {
        /// Bytes present.
        have: usize,
        /// Bytes the record needs in all.
        needed: usize,
    },
    /// The handshake is not a ClientHello (e.g. a ServerHello).
    #[error("handshake message type {0} is not a ClientHello")]
    NotClientHello(u8),
    /// The ClientHello is malformed.
    #[error("malformed ClientHello")]
    Malformed,
}

/// What a ClientHello says, borrowed from its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientHello<'a> {
    /// Record-layer version (0 when parsed without a record, as in QUIC).
    pub record_version: u16,
    /// `legacy_version` of the hello.
    pub version: u16,
    /// `supported_versions` extension, in order (GREASE included; filter with [`is_grease`]).
    pub supported_versions: Vec<u16>,
    /// Cipher suites, in order.
    pub ciphers: Vec<u16>,
    /// Extension types, in order.
    pub extensions: Vec<u16>,
    /// The first host_name of the server_name extension, as sent.
    pub sni: Option<&'a [u8]>,
    /// ALPN protocol names, in order.
    pub alpn: Vec<&'a [u8]>,
    /// supported_groups, in order.
    pub groups: Vec<u16>,
    /// ec_point_formats, in order.
    pub ec_point_formats: Vec<u8>,
    /// signature_algorithms, in order.
    pub signature_algorithms: Vec<u16>,
}

impl ClientHello<'_> {
    /// The SNI as text (lossy for non-UTF-8 bytes), lower-cased, trailing dot removed.
    pub fn sni_string(&self) -> Option<String> {
        self.sni.map(|s| {
            let mut s = crate::text::lossy(s).to_ascii_lowercase();
            if s.ends_with('.') {
                s.pop();
            }
            s
        })
    }

    /// The highest non-GREASE version offered (supported_versions, else legacy_version).
    pub fn max_version(&self) -> u16 {
        self.supported_versions
            .iter()
            .copied()
            .filter(|v| !is_grease(*v))
            .max()
            .unwrap_or(self.version)
    }
}

/// Whether `v` is a GREASE value (RFC 8701): `0x?a?a` with both bytes equal.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// A readable name for a TLS version number: `TLSv1.3`, `TLSv1.2`, ..., or hex.
pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv1.0".into(),
        0x0302 => "TLSv1.1".into(),
        0x0303 => "TLSv1.2".into(),
        0x0304 => "TLSv1.3".into(),
        v => format!("0x{v:04x}"),
    }
}

/// Whether `payload` starts like a TLS handshake record (content type 22, version 3.x).
pub fn looks_like_handshake(payload: &[u8]) -> bool {
    payload.len() >= 3 && payload[0] == 0x16 && payload[1] == 3 && payload[2] <= 4
}

/// Parses a ClientHello from the start of a TCP stream (one or more TLS records).
pub fn parse_client_hello(stream: &[u8]) -> Result<ClientHello<'_>, TlsError> {
    if stream.len() < 5 {
        return if stream.is_empty() || looks_like_handshake(stream) || stream == [0x16] {
            Err(TlsError::Incomplete {
                have: stream.len(),
                needed: 5,
            })
        } else {
            Err(TlsError::NotTls)
        };
    }
    if !looks_like_handshake(stream) {
        return Err(TlsError::NotTls);
    }
    let record_len = 5 + usize::from(u16::from_be_bytes([stream[3], stream[4]]));
    if stream.len() < record_len {
        return Err(TlsError::Incomplete {
            have: stream.len(),
            needed: record_len,
        });
    }
    let (_, record) =
        parse_tls_raw_record(&stream[..record_len]).map_err(|_| TlsError::Malformed)?;
    if record.hdr.record_type != TlsRecordType::Handshake {
        return Err(TlsError::NotTls);
    }
    // A ClientHello larger than one record (16 KiB) continues in the next records; those are
    // rare, and the first record then carries a handshake header whose length says so.
    let hs = record.data;
    if hs.len() >= 4 {
        let hs_len =
            4 + ((usize::from(hs[1]) << 16) | (usize::from(hs[2]) << 8) | usize::from(hs[3]));
        if hs_len > hs.len() {
            return Err(TlsError::Incomplete {
                have: stream.len(),
                needed: record_len + hs_len - hs.len() + 5,
            });
        }
    }
    let mut hello = parse_client_hello_message(hs)?;
    hello.record_version = record.hdr.version.0;
    Ok(hello)
}

/// Parses a bare ClientHello handshake message (type 1, 3-byte length, body), as QUIC carries it.
pub fn parse_client_hello_message(hs: &[u8]) -> Result<ClientHello<'_>, TlsError> {
    let Some(&kind) = hs.first() else {
        return Err(TlsError::Incomplete { have: 0, needed: 4 });
    };
    if kind != 1 {
        return Err(TlsError::NotClientHello(kind));
    }
    if hs.len() < 4 {
        return Err(TlsError::Incomplete {
            have: hs.len(),
            needed: 4,
        });
    }
    let needed = 4 + ((usize::from(hs[1]) << 16) | (usize::from(hs[2]) << 8) | usize::from(hs[3]));
    if hs.len() < needed {
        return Err(TlsError::Incomplete {
            have: hs.len(),
            needed,
        });
    }
    let (_, msg) = parse_tls_message_handshake(&hs[..needed]).map_err(|_| TlsError::Malformed)?;
    let TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)) = msg else {
        return Err(TlsError::Malformed);
    };
    let mut hello = ClientHello {
        version: ch.version.0,
        ciphers: ch.ciphers.iter().map(|c| c.0).collect(),
        ..ClientHello::default()
    };
    let mut ext = ch.ext.unwrap_or(&[]);
    // Extensions are framed by hand so that their order and raw type numbers are kept, and one
    // odd extension does not hide the others; each body is decoded by tls-parser.
    while ext.len() >= 4 {
        let ty = u16::from_be_bytes([ext[0], ext[1]]);
        let len = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
        let Some(raw) = ext.get(..4 + len) else {
            return Err(TlsError::Malformed);
        };
        hello.extensions.push(ty);
        if let Ok((_, e)) = parse_tls_client_hello_extension(raw) {
            match e {
                TlsExtension::SNI(names) if hello.sni.is_none() => {
                    hello.sni = names.iter().find(|(t, _)| t.0 == 0).map(|(_, n)| *n);
                }
                TlsExtension::ALPN(list) => hello.alpn = list,
                TlsExtension::SupportedVersions(v) => {
                    hello.supported_versions = v.iter().map(|v| v.0).collect()
                }
                TlsExtension::EllipticCurves(g) => hello.groups = g.iter().map(|g| g.0).collect(),
                TlsExtension::EcPointFormats(f) => hello.ec_point_formats = f.to_vec(),
                TlsExtension::SignatureAlgorithms(s) => hello.signature_algorithms = s,
                _ => {}
            }
        }
        ext = &ext[4 + len..];
    }
    Ok(hello)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    use phonehome_testkit::build::client_hello;

    #[test]
    fn reads_sni_alpn_versions_and_order() {
        let rec = client_hello("gspe21-ssl.ls.apple.com", 0);
        let ch = parse_client_hello(&rec).unwrap();
        assert_eq!(ch.sni_string().as_deref(), Some("gspe21-ssl.ls.apple.com"));
        assert_eq!(ch.alpn, vec![&b"h2"[..], b"http/1.1"]);
        assert_eq!(ch.extensions, vec![0x0a0a, 0, 10, 11, 13, 16, 43, 21]);
        assert_eq!(ch.ciphers, vec![0x1a1a, 0x1301, 0xc02f]);
        assert_eq!(ch.supported_versions, vec![0x3a3a, 0x0304, 0x0303]);
        assert_eq!(ch.max_version(), 0x0304);
        assert_eq!(ch.groups, vec![0x11ec, 0x001d]);
        assert_eq!(ch.record_version, 0x0301);
        assert_eq!(version_name(ch.max_version()), "TLSv1.3");
    }

    #[test]
    fn split_hello_is_incomplete_then_whole() {
        let rec = client_hello("swscan.apple.com", 1800);
        assert!(rec.len() > 1460);
        match parse_client_hello(&rec[..1460]) {
            Err(TlsError::Incomplete { have: 1460, needed }) => assert_eq!(needed, rec.len()),
            r => panic!("{r:?}"),
        }
        assert!(matches!(
            parse_client_hello(&rec[..3]),
            Err(TlsError::Incomplete { .. })
        ));
        assert_eq!(
            parse_client_hello(&rec).unwrap().sni_string().as_deref(),
            Some("swscan.apple.com")
        );
    }

    #[test]
    fn hostile_lengths() {
        assert_eq!(
            parse_client_hello(b"GET / HTTP/1.1\r\n"),
            Err(TlsError::NotTls)
        );
        let mut rec = client_hello("a.example", 0);
        // Extension length past the end of the extensions block.
        let n = rec.len();
        rec[n - 2] = 0xff;
        assert!(parse_client_hello(&rec).is_err());
        // Handshake claims more than the record: incomplete, not a panic.
        let mut rec = client_hello("a.example", 0);
        rec[6] = 0x7f;
        assert!(matches!(
            parse_client_hello(&rec),
            Err(TlsError::Incomplete { .. })
        ));
        // A ServerHello is not a ClientHello.
        let rec = [0x16, 3, 3, 0, 4, 2, 0, 0, 0];
        assert_eq!(parse_client_hello(&rec), Err(TlsError::NotClientHello(2)));
        assert!(is_grease(0x2a2a) && !is_grease(0x2a3a) && !is_grease(0x0303));
    }
}
