//! Client QUIC v1 Initial packets, encrypted and header-protected as RFC 9001 §5 says, so that
//! an observer (tshark, phonehome) can read their ClientHello.

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::Aes128Gcm;
use phonehome_decode::app::quic::{client_keys, Keys, V1};

/// Size of a client Initial's UDP payload (RFC 9000 §14.1: at least 1200).
pub const INITIAL_SIZE: usize = 1200;

/// A client Initial carrying `handshake` (a TLS handshake message, no record header) in one
/// CRYPTO frame at offset 0, padded to [`INITIAL_SIZE`]. `None` if it does not fit.
pub fn client_initial(
    dcid: &[u8; 8],
    scid: &[u8; 8],
    pn: u32,
    handshake: &[u8],
) -> Option<Vec<u8>> {
    // CRYPTO frame, then PADDING up to the size.
    let hl = handshake.len();
    if hl >= 1 << 14 {
        return None;
    }
    let mut plain = vec![0x06, 0x00, 0x40 | (hl >> 8) as u8, hl as u8];
    plain.extend_from_slice(handshake);
    // Header (1 + 4 + 1 + 8 + 1 + 8 + 1 + 2 + 4 bytes) and the AEAD tag.
    let total = 30 + plain.len() + 16;
    if total > INITIAL_SIZE {
        return None;
    }
    plain.resize(plain.len() + INITIAL_SIZE - total, 0);
    seal_initial(dcid, scid, pn, &plain)
}

/// A client QUIC v1 Initial whose decrypted payload is `plain` (frames, as they are: the fuzz
/// targets pass arbitrary bytes here to reach the frame parser behind the AEAD). `None` if the
/// payload is longer than a 2-byte length can say or too short to sample header protection.
pub fn seal_initial(dcid: &[u8; 8], scid: &[u8; 8], pn: u32, plain: &[u8]) -> Option<Vec<u8>> {
    let Keys { key, iv, hp } = client_keys(V1, dcid).ok()?;
    let pn_len = 4usize;
    let mut header = vec![0xc0 | (pn_len as u8 - 1)];
    header.extend_from_slice(&V1.to_be_bytes());
    header.push(8);
    header.extend_from_slice(dcid);
    header.push(8);
    header.extend_from_slice(scid);
    header.push(0); // token length
    let len_at = header.len();
    header.extend_from_slice(&[0x40, 0]); // length, filled below (2-byte varint)
    let pn_at = header.len();
    header.extend_from_slice(&pn.to_be_bytes());
    let length = pn_len + plain.len() + 16;
    if length >= 1 << 14 {
        return None;
    }
    header[len_at] = 0x40 | (length >> 8) as u8;
    header[len_at + 1] = length as u8;
    let mut nonce = iv;
    for (i, b) in u64::from(pn).to_be_bytes().iter().enumerate() {
        nonce[4 + i] ^= b;
    }
    let sealed = Aes128Gcm::new(&key.into())
        .encrypt(
            &nonce.into(),
            Payload {
                msg: plain,
                aad: &header,
            },
        )
        .ok()?;
    let mut packet = header;
    packet.extend_from_slice(&sealed);
    let mut mask = aes::Block::default();
    mask.copy_from_slice(packet.get(pn_at + 4..pn_at + 20)?);
    Aes128::new(&hp.into()).encrypt_block(&mut mask);
    packet[0] ^= mask[0] & 0x0f;
    for i in 0..pn_len {
        packet[pn_at + i] ^= mask[1 + i];
    }
    Some(packet)
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_decode::app::{quic, tls};

    #[test]
    fn our_decoder_reads_what_we_encrypt() {
        let hello = crate::build::client_hello("quic.example", 0);
        let p = client_initial(&[1; 8], &[2; 8], 0, &hello[5..]).unwrap();
        assert_eq!(p.len(), INITIAL_SIZE);
        let initial = quic::parse_initial(&p).unwrap();
        assert_eq!(initial.crypto.len(), 1);
        let ch = tls::parse_client_hello_message(&initial.crypto[0].1).unwrap();
        assert_eq!(ch.sni_string().as_deref(), Some("quic.example"));
    }
}
