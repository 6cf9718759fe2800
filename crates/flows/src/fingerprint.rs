//! TLS client fingerprints: JA3 (MD5 of the ClientHello's version, ciphers, extensions, groups
//! and point formats) and JA4 (FoxIO's readable prefix plus truncated SHA-256 of the sorted
//! ciphers and extensions). GREASE values are left out of both, as both specifications say.

use md5::{Digest as _, Md5};
use phonehome_decode::app::tls::{is_grease, ClientHello};
use sha2::Sha256;

/// The JA3 string (before hashing).
pub fn ja3_string(ch: &ClientHello<'_>) -> String {
    fn join<T: ToString>(v: impl Iterator<Item = T>) -> String {
        v.map(|x| x.to_string()).collect::<Vec<_>>().join("-")
    }
    let no_grease = |v: &&u16| !is_grease(**v);
    format!(
        "{},{},{},{},{}",
        ch.version,
        join(ch.ciphers.iter().filter(no_grease)),
        join(ch.extensions.iter().filter(no_grease)),
        join(ch.groups.iter().filter(no_grease)),
        join(ch.ec_point_formats.iter()),
    )
}

/// JA3: the MD5 of [`ja3_string`], in hex.
pub fn ja3(ch: &ClientHello<'_>) -> String {
    hex(&Md5::digest(ja3_string(ch).as_bytes()))
}

/// JA4 for a ClientHello carried over TCP (`t`) or QUIC (`q`).
pub fn ja4(ch: &ClientHello<'_>, quic: bool) -> String {
    let version = match ch.max_version() {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    };
    let ciphers: Vec<u16> = ch
        .ciphers
        .iter()
        .copied()
        .filter(|c| !is_grease(*c))
        .collect();
    let exts: Vec<u16> = ch
        .extensions
        .iter()
        .copied()
        .filter(|e| !is_grease(*e))
        .collect();
    let alpn = alpn_chars(ch.alpn.first().copied());
    let a = format!(
        "{}{}{}{:02}{:02}{}",
        if quic { 'q' } else { 't' },
        version,
        if ch.sni.is_some() { 'd' } else { 'i' },
        ciphers.len().min(99),
        exts.len().min(99),
        alpn
    );
    let mut sorted_ciphers = ciphers.clone();
    sorted_ciphers.sort_unstable();
    let b = truncated_sha256(&hex_list(&sorted_ciphers), sorted_ciphers.is_empty());
    let mut sorted_exts: Vec<u16> = exts
        .iter()
        .copied()
        .filter(|e| *e != 0x0000 && *e != 0x0010)
        .collect();
    sorted_exts.sort_unstable();
    let mut c_in = hex_list(&sorted_exts);
    let sigs: Vec<u16> = ch
        .signature_algorithms
        .iter()
        .copied()
        .filter(|s| !is_grease(*s))
        .collect();
    if !sigs.is_empty() {
        c_in.push('_');
        c_in.push_str(&hex_list(&sigs));
    }
    let c = truncated_sha256(&c_in, sorted_exts.is_empty());
    format!("{a}_{b}_{c}")
}

/// The first and last characters of the first ALPN value; `00` without one; hex nibbles when
/// either is not alphanumeric.
fn alpn_chars(first: Option<&[u8]>) -> String {
    let Some(v) = first.filter(|v| !v.is_empty()) else {
        return "00".into();
    };
    let (f, l) = (v[0], v[v.len() - 1]);
    if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() {
        format!("{}{}", f as char, l as char)
    } else {
        let h = hex(&[f, l]);
        format!("{}{}", &h[..1], &h[3..])
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_list(v: &[u16]) -> String {
    let mut s = String::with_capacity(v.len() * 5);
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        for shift in [12, 8, 4, 0] {
            s.push(char::from(HEX[usize::from((x >> shift) & 0xf)]));
        }
    }
    s
}

fn truncated_sha256(s: &str, empty: bool) -> String {
    if empty {
        return "000000000000".into();
    }
    hex(&Sha256::digest(s.as_bytes()))[..12].to_string()
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(char::from(HEX[usize::from(x >> 4)]));
        s.push(char::from(HEX[usize::from(x & 0xf)]));
    }
    s
}

/// JA3 string, JA3 and JA4 of one ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPrints {
    /// [`ja3_string`].
    pub ja3_string: String,
    /// [`ja3`].
    pub ja3: String,
    /// [`ja4`].
    pub ja4: String,
}

/// Computes fingerprints, remembering the last few thousand distinct ClientHellos: a client
/// sends the same hello (bar SNI and random) on every connection, and hashing it anew each time
/// would cost more than the rest of the packet's handling.
#[derive(Debug, Default)]
pub struct Fingerprinter {
    seen: crate::FastMap<Vec<u8>, TlsPrints>,
}

/// Distinct hellos remembered (the memory is forgotten at once when full).
const REMEMBERED: usize = 4096;

impl Fingerprinter {
    /// The fingerprints of `ch` (sent over QUIC when `quic`).
    pub fn prints(&mut self, ch: &ClientHello<'_>, quic: bool) -> TlsPrints {
        // Everything JA3 and JA4 read, in a byte string.
        let mut key = Vec::with_capacity(256);
        key.push(u8::from(quic));
        key.push(u8::from(ch.sni.is_some()));
        key.extend_from_slice(&ch.version.to_le_bytes());
        key.extend_from_slice(&ch.max_version().to_le_bytes());
        for list in [
            &ch.ciphers,
            &ch.extensions,
            &ch.groups,
            &ch.signature_algorithms,
        ] {
            key.extend_from_slice(&(list.len() as u32).to_le_bytes());
            for v in list.iter() {
                key.extend_from_slice(&v.to_le_bytes());
            }
        }
        key.extend_from_slice(&(ch.ec_point_formats.len() as u32).to_le_bytes());
        key.extend_from_slice(&ch.ec_point_formats);
        let alpn = ch.alpn.first().copied().unwrap_or(&[]);
        key.extend_from_slice(&(alpn.len() as u32).to_le_bytes());
        key.extend_from_slice(alpn);
        if let Some(p) = self.seen.get(&key) {
            return p.clone();
        }
        let p = TlsPrints {
            ja3_string: ja3_string(ch),
            ja3: ja3(ch),
            ja4: ja4(ch, quic),
        };
        if self.seen.len() >= REMEMBERED {
            self.seen.clear();
        }
        self.seen.insert(key, p.clone());
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> ClientHello<'static> {
        ClientHello {
            record_version: 0x0301,
            version: 0x0303,
            supported_versions: vec![0x0a0a, 0x0304, 0x0303],
            ciphers: vec![0x0a0a, 0x1301, 0x1302, 0xc02b],
            extensions: vec![0x1a1a, 0x0000, 0x0010, 0x002b, 0x000d, 0x000a],
            sni: Some(b"example.com"),
            alpn: vec![b"h2", b"http/1.1"],
            groups: vec![0x2a2a, 0x001d, 0x0017],
            ec_point_formats: vec![0],
            signature_algorithms: vec![0x0403, 0x0804],
        }
    }

    #[test]
    fn ja3_drops_grease() {
        assert_eq!(
            ja3_string(&hello()),
            "771,4865-4866-49195,0-16-43-13-10,29-23,0"
        );
        assert_eq!(ja3(&hello()).len(), 32);
    }

    #[test]
    fn ja4_prefix_and_hash_inputs() {
        let j = ja4(&hello(), false);
        assert!(j.starts_with("t13d0305h2_"), "{j}");
        let parts: Vec<&str> = j.split('_').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[1], &hex(&Sha256::digest(b"1301,1302,c02b"))[..12]);
        assert_eq!(
            parts[2],
            &hex(&Sha256::digest(b"000a,000d,002b_0403,0804"))[..12]
        );
        let mut bare = hello();
        bare.sni = None;
        bare.alpn.clear();
        assert!(ja4(&bare, true).starts_with("q13i030500_"));
    }

    #[test]
    fn alpn_edge_cases() {
        assert_eq!(alpn_chars(None), "00");
        assert_eq!(alpn_chars(Some(b"h")), "hh");
        assert_eq!(alpn_chars(Some(&[0xab, 0x01])), "a1");
    }
}
