//! QUIC client Initial packets (RFC 9000, RFC 9001 §5, RFC 9369): remove header protection,
//! decrypt with the keys every observer can derive from the Destination Connection ID, and return
//! the CRYPTO frames, which carry the TLS ClientHello (SNI, ALPN) in the clear of TLS framing.
//!
//! Versions: 1, 2 (RFC 9369: other salt, labels and Initial type bits) and draft-29. Each
//! datagram may hold several coalesced packets; only client Initials are decrypted. Nothing here
//! panics on hostile bytes: every length is checked and an unknown version is an error.

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::Aes128Gcm;
use hkdf::Hkdf;
use sha2::Sha256;

/// QUIC version 1.
pub const V1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369).
pub const V2: u32 = 0x6b33_43cf;
/// Draft 29, still seen in older captures.
pub const DRAFT29: u32 = 0xff00_001d;

const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];
const SALT_DRAFT29: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0,
    0x43, 0x90, 0xa8, 0x99,
];

/// Drafts 23 to 28.
const SALT_DRAFT23: [u8; 20] = [
    0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65,
    0xbe, 0xf9, 0xf5, 0x02,
];
/// Draft 22 (and Facebook's mvfst 0xfaceb001).
const SALT_DRAFT22: [u8; 20] = [
    0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a, 0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd,
    0x7a, 0x02, 0x64, 0x4a,
];

/// Most CRYPTO frames kept from one datagram.
const MAX_FRAMES: usize = 64;

/// Why a datagram gave no Initial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuicError {
    /// Not a long-header packet, or not an Initial.
    #[error("not a QUIC Initial")]
    NotInitial,
    /// A version whose Initial keys are not known.
    #[error("unknown QUIC version {0:#010x}")]
    UnknownVersion(u32),
    /// A length field runs past the datagram.
    #[error("truncated QUIC packet")]
    Truncated,
    /// Decryption failed (not a client Initial, or damaged).
    #[error("QUIC Initial does not decrypt")]
    Decrypt,
}

/// What the client Initials of one datagram carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Initial {
    /// Version of the first Initial.
    pub version: u32,
    /// Destination Connection ID (the key material).
    pub dcid: Vec<u8>,
    /// CRYPTO frames: (offset in the crypto stream, data).
    pub crypto: Vec<(u64, Vec<u8>)>,
}

/// Whether a UDP payload starts like a QUIC long-header packet of a known version.
pub fn looks_like_initial(p: &[u8]) -> bool {
    p.len() >= 7
        && p[0] & 0xc0 == 0xc0
        && salt(u32::from_be_bytes([p[1], p[2], p[3], p[4]])).is_some()
}

/// The Initial salt of a version: v1, v2, IETF drafts 22 to 34, and Facebook's mvfst versions
/// (0xfaceb001 is draft 22; 0xfaceb002 and the experimental 0xfaceb00e are draft 27).
fn salt(version: u32) -> Option<&'static [u8; 20]> {
    let draft = match version {
        V1 => return Some(&SALT_V1),
        V2 => return Some(&SALT_V2),
        0xfaceb001 => 22,
        0xfaceb002 | 0xfaceb00e => 27,
        v if v >> 8 == 0x00ff_0000 => v & 0xff,
        _ => return None,
    };
    match draft {
        22 => Some(&SALT_DRAFT22),
        23..=28 => Some(&SALT_DRAFT23),
        29..=32 => Some(&SALT_DRAFT29),
        33 | 34 => Some(&SALT_V1),
        _ => None,
    }
}

/// Long-header packet type bits of an Initial for `version`.
fn initial_type(version: u32) -> u8 {
    if version == V2 {
        1
    } else {
        0
    }
}

/// A variable-length integer (RFC 9000 §16) at `*pos`.
fn varint(b: &[u8], pos: &mut usize) -> Result<u64, QuicError> {
    let first = *b.get(*pos).ok_or(QuicError::Truncated)?;
    let len = 1usize << (first >> 6);
    let bytes = b.get(*pos..*pos + len).ok_or(QuicError::Truncated)?;
    let mut v = u64::from(first & 0x3f);
    for &x in &bytes[1..] {
        v = (v << 8) | u64::from(x);
    }
    *pos += len;
    Ok(v)
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context.
fn expand_label(secret: &[u8], label: &str, len: usize) -> Result<Vec<u8>, QuicError> {
    let hk = Hkdf::<Sha256>::from_prk(secret).map_err(|_| QuicError::Decrypt)?;
    let full = format!("tls13 {label}");
    let mut info = Vec::with_capacity(4 + full.len());
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push(full.len() as u8);
    info.extend_from_slice(full.as_bytes());
    info.push(0);
    let mut out = vec![0u8; len];
    hk.expand(&info, &mut out).map_err(|_| QuicError::Decrypt)?;
    Ok(out)
}

/// A client's Initial keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keys {
    /// AEAD key (AES-128-GCM).
    pub key: [u8; 16],
    /// AEAD IV.
    pub iv: [u8; 12],
    /// Header-protection key (AES-128).
    pub hp: [u8; 16],
}

/// The client's Initial key, IV and header-protection key for `version` and `dcid`.
pub fn client_keys(version: u32, dcid: &[u8]) -> Result<Keys, QuicError> {
    let salt = salt(version).ok_or(QuicError::UnknownVersion(version))?;
    let (initial, _) = Hkdf::<Sha256>::extract(Some(salt), dcid);
    let client = expand_label(&initial, "client in", 32)?;
    let prefix = if version == V2 { "quicv2 " } else { "quic " };
    let mut key = [0u8; 16];
    let mut iv = [0u8; 12];
    let mut hp = [0u8; 16];
    key.copy_from_slice(&expand_label(&client, &format!("{prefix}key"), 16)?);
    iv.copy_from_slice(&expand_label(&client, &format!("{prefix}iv"), 12)?);
    hp.copy_from_slice(&expand_label(&client, &format!("{prefix}hp"), 16)?);
    Ok(Keys { key, iv, hp })
}

/// Decrypts the client Initials coalesced in one UDP payload and returns their CRYPTO frames.
pub fn parse_initial(datagram: &[u8]) -> Result<Initial, QuicError> {
    let mut out = Initial::default();
    let mut rest = datagram;
    let mut any = false;
    while rest.len() >= 7 && rest[0] & 0x80 != 0 {
        let version = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]);
        let (packet_len, initial) = match one_packet(rest, version) {
            Ok(v) => v,
            // A later coalesced packet that is not an Initial (Handshake, 0-RTT) ends the walk.
            Err(e) if any => {
                let _ = e;
                break;
            }
            Err(e) => return Err(e),
        };
        if let Some((dcid, frames)) = initial {
            if !any {
                out.version = version;
                out.dcid = dcid;
            }
            any = true;
            for f in frames {
                if out.crypto.len() < MAX_FRAMES {
                    out.crypto.push(f);
                }
            }
        }
        rest = rest.get(packet_len..).unwrap_or(&[]);
    }
    if any {
        Ok(out)
    } else {
        Err(QuicError::NotInitial)
    }
}

type Frames = Vec<(u64, Vec<u8>)>;

/// A client Initial's DCID and CRYPTO frames.
type InitialParts = (Vec<u8>, Frames);

/// One long-header packet: its length in the datagram, and for a client Initial its DCID and
/// CRYPTO frames.
fn one_packet(p: &[u8], version: u32) -> Result<(usize, Option<InitialParts>), QuicError> {
    let salt_known = salt(version).is_some();
    if !salt_known {
        return Err(QuicError::UnknownVersion(version));
    }
    let mut pos = 5;
    let dcid_len = usize::from(*p.get(pos).ok_or(QuicError::Truncated)?);
    let dcid = p
        .get(pos + 1..pos + 1 + dcid_len)
        .ok_or(QuicError::Truncated)?;
    pos += 1 + dcid_len;
    let scid_len = usize::from(*p.get(pos).ok_or(QuicError::Truncated)?);
    pos += 1 + scid_len;
    let is_initial = (p[0] >> 4) & 0x03 == initial_type(version);
    if is_initial {
        let token_len = varint(p, &mut pos)? as usize;
        pos = pos.checked_add(token_len).ok_or(QuicError::Truncated)?;
    }
    let length = varint(p, &mut pos)? as usize;
    let end = pos.checked_add(length).ok_or(QuicError::Truncated)?;
    if end > p.len() || dcid_len > 20 {
        return Err(QuicError::Truncated);
    }
    if !is_initial {
        return Ok((end, None));
    }
    let frames = decrypt(p, pos, end, version, dcid)?;
    Ok((end, Some((dcid.to_vec(), frames))))
}

/// Removes header protection and decrypts the packet whose packet number starts at `pn_at`.
fn decrypt(
    p: &[u8],
    pn_at: usize,
    end: usize,
    version: u32,
    dcid: &[u8],
) -> Result<Frames, QuicError> {
    let Keys { key, iv, hp } = client_keys(version, dcid)?;
    let sample = p.get(pn_at + 4..pn_at + 20).ok_or(QuicError::Truncated)?;
    let mut mask = aes::Block::default();
    mask.copy_from_slice(sample);
    Aes128::new(&hp.into()).encrypt_block(&mut mask);
    let first = p[0] ^ (mask[0] & 0x0f);
    let pn_len = usize::from(first & 0x03) + 1;
    if pn_at + pn_len > end {
        return Err(QuicError::Truncated);
    }
    let mut header = p[..pn_at + pn_len].to_vec();
    header[0] = first;
    let mut pn = 0u64;
    for i in 0..pn_len {
        header[pn_at + i] ^= mask[1 + i];
        pn = (pn << 8) | u64::from(header[pn_at + i]);
    }
    let mut nonce = iv;
    for (i, b) in pn.to_be_bytes().iter().enumerate() {
        nonce[4 + i] ^= b;
    }
    let cipher = Aes128Gcm::new(&key.into());
    let plain = cipher
        .decrypt(
            &nonce.into(),
            Payload {
                msg: &p[pn_at + pn_len..end],
                aad: &header,
            },
        )
        .map_err(|_| QuicError::Decrypt)?;
    Ok(crypto_frames(&plain))
}

/// The CRYPTO frames of a decrypted Initial payload; stops at the first frame it cannot walk.
fn crypto_frames(b: &[u8]) -> Frames {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() && out.len() < MAX_FRAMES {
        let Ok(kind) = varint(b, &mut pos) else { break };
        let ok = match kind {
            0x00 | 0x01 => true,
            0x02 | 0x03 => skip_ack(b, &mut pos, kind == 0x03).is_ok(),
            0x06 => {
                let frame = (|| {
                    let offset = varint(b, &mut pos)?;
                    let len = varint(b, &mut pos)? as usize;
                    let data = b.get(pos..pos + len).ok_or(QuicError::Truncated)?;
                    pos += len;
                    Ok::<_, QuicError>((offset, data.to_vec()))
                })();
                match frame {
                    Ok(f) => {
                        out.push(f);
                        true
                    }
                    Err(_) => false,
                }
            }
            _ => false,
        };
        if !ok {
            break;
        }
    }
    out
}

fn skip_ack(b: &[u8], pos: &mut usize, ecn: bool) -> Result<(), QuicError> {
    varint(b, pos)?;
    varint(b, pos)?;
    let ranges = varint(b, pos)?;
    varint(b, pos)?;
    for _ in 0..ranges.min(256) {
        varint(b, pos)?;
        varint(b, pos)?;
    }
    if ecn {
        for _ in 0..3 {
            varint(b, pos)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn rfc9001_appendix_a_keys() {
        let Keys { key, iv, hp } = client_keys(V1, &hex("8394c8f03e515708")).unwrap();
        assert_eq!(key.to_vec(), hex("1f369613dd76d5467730efcbe3b1a22d"));
        assert_eq!(iv.to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
        assert_eq!(hp.to_vec(), hex("9f50449e04a0e810283a1e9933adedd2"));
    }

    #[test]
    fn rfc9369_appendix_a_keys() {
        let Keys { key, iv, hp } = client_keys(V2, &hex("8394c8f03e515708")).unwrap();
        assert_eq!(key.to_vec(), hex("8b1a0bc121284290a29e0971b5cd045d"));
        assert_eq!(iv.to_vec(), hex("91f73e2351d8fa91660e909f"));
        assert_eq!(hp.to_vec(), hex("45b95e15235d6f45a6b19cbcb0294ba9"));
    }

    #[test]
    fn hostile_packets_are_errors() {
        assert_eq!(parse_initial(&[]), Err(QuicError::NotInitial));
        assert_eq!(
            parse_initial(&[0xc0, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0]),
            Err(QuicError::UnknownVersion(0xdead_beef))
        );
        // DCID length past the end, token and length varints past the end.
        assert_eq!(
            parse_initial(&[0xc0, 0, 0, 0, 1, 200, 1, 2]),
            Err(QuicError::Truncated)
        );
        let mut p = vec![0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0x7f];
        assert_eq!(parse_initial(&p), Err(QuicError::Truncated));
        // A length that claims more than the datagram.
        p.truncate(15);
        p.extend_from_slice(&[0x00, 0x44, 0x00]);
        assert_eq!(parse_initial(&p), Err(QuicError::Truncated));
        // Well-framed but garbage: does not decrypt.
        let mut g = vec![0xc3, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x40, 40];
        g.extend_from_slice(&[0x55; 40]);
        assert_eq!(parse_initial(&g), Err(QuicError::Decrypt));
        // Frames: a truncated CRYPTO frame ends the walk without a panic.
        assert!(crypto_frames(&[0x06, 0x00, 0x40]).is_empty());
        assert_eq!(
            crypto_frames(&[0x00, 0x01, 0x06, 0, 2, 7, 8]),
            vec![(0, vec![7, 8])]
        );
    }
}
