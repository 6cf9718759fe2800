//! TCP SYN and SYN-ACK fingerprints: the line tcpdump prints for the segment (with and without
//! its per-packet values) and the p0f v3 signature `ver:ittl:olen:mss:wsize,scale:olayout:
//! quirks:pclass`, following the field meanings of p0f's README.

use crate::packet::{Packet, Transport};
use crate::tcp::{TcpFlags, TcpHeader, TcpOption};

/// Which handshake segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SynKind {
    /// A SYN without ACK: the client's stack.
    Syn,
    /// A SYN-ACK: the server's stack.
    SynAck,
}

impl SynKind {
    /// `syn` or `synack`.
    pub fn as_str(self) -> &'static str {
        match self {
            SynKind::Syn => "syn",
            SynKind::SynAck => "synack",
        }
    }
}

/// The fingerprint of one SYN or SYN-ACK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynFingerprint {
    /// SYN or SYN-ACK.
    pub kind: SynKind,
    /// tcpdump's text for the TCP part, per-packet values included: `Flags [SEW], seq 1,
    /// win 65535, options [mss 1460,...], length 0`.
    pub tcpdump: String,
    /// The same with the per-packet values (seq, ack, TS val/ecr when nonzero) as `*`.
    pub tcpdump_normalised: String,
    /// p0f's raw signature: `4:64+0:0:1460:65535,6:mss,nop,ws,...:df,id+,ecn:0`.
    pub p0f: String,
    /// tcpdump's flag letters (`SEW`).
    pub flags: String,
    /// The flags byte (SYN+ECE+CWR = 0xc2).
    pub flags_byte: u8,
    /// Observed TTL / hop limit.
    pub ttl: u8,
    /// Initial TTL guessed as the next of 32, 64, 128, 255.
    pub initial_ttl: u8,
    /// Window.
    pub window: u16,
    /// MSS option, if any.
    pub mss: Option<u16>,
    /// Window scale option, if any.
    pub wscale: Option<u8>,
}

/// The initial TTL a packet most likely left with (p0f's rule: the next of 32, 64, 128, 255).
pub fn initial_ttl(ttl: u8) -> u8 {
    match ttl {
        0..=32 => 32,
        33..=64 => 64,
        65..=128 => 128,
        _ => 255,
    }
}

/// Bytes of a [`SignatureKey`]: the source address, the IP and TCP header fields the
/// signatures read, and the options (at most 40 bytes).
const KEY_BYTES: usize = 96;

/// Everything the host, kind, p0f signature and normalised tcpdump line of a SYN or SYN-ACK
/// depend on, as a fixed-size key: two segments with equal keys have equal signatures (the
/// per-packet values that the signatures leave out, sequence numbers and timestamp values, are
/// reduced to whether they are zero). Cheap to build and hash, so that a SYN whose signature
/// was seen before needs no text.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SignatureKey {
    kind: SynKind,
    mss: Option<u16>,
    len: u8,
    bytes: [u8; KEY_BYTES],
}

impl std::fmt::Debug for SignatureKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureKey")
            .field("kind", &self.kind)
            .field("bytes", &&self.bytes[..usize::from(self.len)])
            .finish()
    }
}

impl SignatureKey {
    /// SYN or SYN-ACK.
    pub fn kind(&self) -> SynKind {
        self.kind
    }

    /// The MSS option, if any (the last one, as [`fingerprint`] reads it).
    pub fn mss(&self) -> Option<u16> {
        self.mss
    }

    fn push(&mut self, b: &[u8]) {
        let at = usize::from(self.len);
        self.bytes[at..at + b.len()].copy_from_slice(b);
        self.len += b.len() as u8;
    }
}

/// The TCP header and kind of a SYN or SYN-ACK (without RST or FIN); `None` for any other
/// packet.
fn handshake<'a>(p: &Packet<'a>) -> Option<(TcpHeader<'a>, SynKind)> {
    let Transport::Tcp(h) = p.transport else {
        return None;
    };
    if !h.flags.has(TcpFlags::SYN) || h.flags.has(TcpFlags::RST) || h.flags.has(TcpFlags::FIN) {
        return None;
    }
    let kind = if h.flags.has(TcpFlags::ACK) {
        SynKind::SynAck
    } else {
        SynKind::Syn
    };
    Some((h, kind))
}

/// The [`SignatureKey`] of a SYN or SYN-ACK; `None` for any other segment (exactly when
/// [`fingerprint`] gives `None`).
pub fn signature_key(p: &Packet<'_>, peer_mss: Option<u16>) -> Option<SignatureKey> {
    let (h, kind) = handshake(p)?;
    let mut mss = None;
    for o in h.options() {
        if let TcpOption::Mss(m) = o {
            mss = Some(m);
        }
    }
    let mut k = SignatureKey {
        kind,
        mss,
        len: 0,
        bytes: [0; KEY_BYTES],
    };
    match p.ip.src {
        std::net::IpAddr::V4(a) => k.push(&a.octets()),
        std::net::IpAddr::V6(a) => k.push(&a.octets()),
    }
    let ip = &p.ip;
    k.push(&[
        ip.version,
        ip.ttl,
        ip.options_len,
        u8::from(ip.dont_fragment),
        u8::from(ip.ident == 0),
        ip.ecn,
        u8::from(ip.flow_label == 0),
        h.header_len,
        u8::from(h.seq == 0),
        u8::from(h.ack == 0),
        u8::from(h.urgent == 0),
    ]);
    k.push(&ip.header_len.to_be_bytes());
    k.push(&h.flags.0.to_be_bytes());
    k.push(&h.window.to_be_bytes());
    k.push(&p.payload_len.to_be_bytes());
    let peer = peer_mss.map_or([0, 0, 0], |m| {
        let [a, b] = m.to_be_bytes();
        [1, a, b]
    });
    k.push(&peer);
    // The options as they are, but for the timestamp values, kept only as zero or not. The
    // walk is the one of `TcpOptions` and `option_layout`, so it finds the same timestamps.
    let opts = &h.option_bytes[..h.option_bytes.len().min(40)];
    let start = usize::from(k.len);
    k.push(&[opts.len() as u8]);
    k.push(opts);
    let o = &mut k.bytes[start + 1..start + 1 + opts.len()];
    let mut i = 0;
    while i < o.len() {
        match o[i] {
            0 => break,
            1 => i += 1,
            kind => {
                let len = o.get(i + 1).map_or(0, |&l| usize::from(l));
                if len < 2 || i + len > o.len() {
                    break;
                }
                if kind == 8 && len == 10 {
                    let zero = |b: &[u8]| u8::from(b.iter().all(|&x| x == 0));
                    let (val, ecr) = (zero(&o[i + 2..i + 6]), zero(&o[i + 6..i + 10]));
                    o[i + 2..i + 10].copy_from_slice(&[val, 0, 0, 0, ecr, 0, 0, 0]);
                }
                i += len;
            }
        }
    }
    Some(k)
}

/// The fingerprint of a SYN or SYN-ACK packet; `None` for any other segment. `peer_mss` is the
/// MSS of the SYN a SYN-ACK answers, when known (some stacks size their window from it).
pub fn fingerprint(p: &Packet<'_>, peer_mss: Option<u16>) -> Option<SynFingerprint> {
    let (h, kind) = handshake(p)?;
    let mut mss = None;
    let mut wscale = None;
    for o in h.options() {
        match o {
            TcpOption::Mss(m) => mss = Some(m),
            TcpOption::WindowScale(w) => wscale = Some(w),
            _ => {}
        }
    }
    let flags = h.flags.tcpdump_letters();
    let (tcpdump, tcpdump_normalised) = tcpdump_lines(&h, &flags, p.payload_len);
    Some(SynFingerprint {
        kind,
        tcpdump,
        tcpdump_normalised,
        p0f: p0f_signature(p, &h, mss, wscale, peer_mss),
        flags,
        flags_byte: h.flags.byte(),
        ttl: p.ip.ttl,
        initial_ttl: initial_ttl(p.ip.ttl),
        window: h.window,
        mss,
        wscale,
    })
}

/// Appends a number (without the formatting machinery: this runs for every SYN and SYN-ACK).
fn num(out: &mut String, n: impl itoa::Integer) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends to both strings.
fn both(full: &mut String, norm: &mut String, s: &str) {
    full.push_str(s);
    norm.push_str(s);
}

/// Appends a number to both strings.
fn both_num(full: &mut String, norm: &mut String, n: impl itoa::Integer + Copy) {
    num(full, n);
    num(norm, n);
}

/// tcpdump's rendering of the TCP header, and the same without per-packet values (each written
/// once into its own string).
fn tcpdump_lines(h: &TcpHeader<'_>, letters: &str, payload_len: u32) -> (String, String) {
    let mut full = String::with_capacity(128);
    let mut norm = String::with_capacity(128);
    both(&mut full, &mut norm, "Flags [");
    both(&mut full, &mut norm, letters);
    both(&mut full, &mut norm, "], seq ");
    num(&mut full, h.seq);
    norm.push('*');
    if h.flags.has(TcpFlags::ACK) {
        both(&mut full, &mut norm, ", ack ");
        num(&mut full, h.ack);
        norm.push('*');
    }
    both(&mut full, &mut norm, ", win ");
    both_num(&mut full, &mut norm, h.window);
    if !h.option_bytes.is_empty() {
        both(&mut full, &mut norm, ", options [");
        for (i, o) in h.options().enumerate() {
            if i > 0 {
                both(&mut full, &mut norm, ",");
            }
            tcpdump_option(&mut full, &mut norm, o);
        }
        both(&mut full, &mut norm, "]");
    }
    both(&mut full, &mut norm, ", length ");
    both_num(&mut full, &mut norm, payload_len);
    (full, norm)
}

/// One option as tcpdump prints it, with its per-packet values (`full`) and without (`norm`).
fn tcpdump_option(full: &mut String, norm: &mut String, o: TcpOption<'_>) {
    match o {
        TcpOption::Eol => both(full, norm, "eol"),
        TcpOption::Nop => both(full, norm, "nop"),
        TcpOption::Mss(m) => {
            both(full, norm, "mss ");
            both_num(full, norm, m);
        }
        TcpOption::WindowScale(w) => {
            both(full, norm, "wscale ");
            both_num(full, norm, w);
        }
        TcpOption::SackPermitted => both(full, norm, "sackOK"),
        TcpOption::Sack(b) => {
            both(full, norm, "sack ");
            both_num(full, norm, b.len() / 8);
        }
        TcpOption::Timestamps { val, ecr } => {
            both(full, norm, "TS val ");
            num(full, val);
            full.push_str(" ecr ");
            num(full, ecr);
            norm.push_str(if ecr == 0 { "* ecr 0" } else { "* ecr *" });
        }
        TcpOption::Unknown { kind, data } => {
            both(full, norm, "unknown-");
            both_num(full, norm, kind);
            both(full, norm, " len ");
            both_num(full, norm, data.len() + 2);
        }
        TcpOption::Malformed { kind } => {
            both(full, norm, "bad opt ");
            both_num(full, norm, kind);
        }
    }
}

/// p0f's raw signature of the packet.
fn p0f_signature(
    p: &Packet<'_>,
    h: &TcpHeader<'_>,
    mss: Option<u16>,
    wscale: Option<u8>,
    peer_mss: Option<u16>,
) -> String {
    let ttl = p.ip.ttl;
    let ittl = initial_ttl(ttl);
    let dist = ittl - ttl;
    let has_ts = h
        .options()
        .any(|o| matches!(o, TcpOption::Timestamps { .. }));
    let tot_hdr = p.ip.header_len + u32::from(h.header_len);
    let mss_v = mss.unwrap_or(0);
    let (olayout, opt_quirks) = option_layout(h.option_bytes);
    let mut quirks: Vec<&str> = Vec::new();
    if p.ip.version == 4 {
        if p.ip.dont_fragment {
            quirks.push("df");
            if p.ip.ident != 0 {
                quirks.push("id+");
            }
        } else if p.ip.ident == 0 {
            quirks.push("id-");
        }
    }
    if p.ip.ecn != 0
        || h.flags.has(TcpFlags::ECE)
        || h.flags.has(TcpFlags::CWR)
        || h.flags.has(TcpFlags::NS)
    {
        quirks.push("ecn");
    }
    if p.ip.version == 6 && p.ip.flow_label != 0 {
        quirks.push("flow");
    }
    if h.seq == 0 {
        quirks.push("seq-");
    }
    if h.flags.has(TcpFlags::ACK) {
        if h.ack == 0 {
            quirks.push("ack-");
        }
    } else if h.ack != 0 {
        quirks.push("ack+");
    }
    if h.flags.has(TcpFlags::URG) {
        quirks.push("urgf+");
    } else if h.urgent != 0 {
        quirks.push("uptr+");
    }
    if h.flags.has(TcpFlags::PSH) {
        quirks.push("pushf+");
    }
    quirks.extend(
        opt_quirks
            .iter()
            .filter(|q| **q != "opt+" && **q != "exws" && **q != "bad"),
    );
    for o in h.options() {
        if let TcpOption::Timestamps { val, ecr } = o {
            if val == 0 {
                quirks.push("ts1-");
            }
            if ecr != 0 && !h.flags.has(TcpFlags::ACK) {
                quirks.push("ts2+");
            }
        }
    }
    quirks.extend(opt_quirks.iter().filter(|q| **q == "opt+"));
    if wscale.is_some_and(|w| w > 14) {
        quirks.push("exws");
    }
    quirks.extend(opt_quirks.iter().filter(|q| **q == "bad"));
    let pclass = if p.payload_len > 0 { "+" } else { "0" };
    let mut out = String::with_capacity(96);
    num(&mut out, p.ip.version);
    out.push(':');
    num(&mut out, ttl);
    out.push('+');
    // p0f shows a distance beyond 35 hops as unknown.
    if dist > 35 {
        out.push('?');
    } else {
        num(&mut out, dist);
    }
    out.push(':');
    num(&mut out, p.ip.options_len);
    out.push(':');
    num(&mut out, mss_v);
    out.push(':');
    match window_multiple(p.ip.version, h.window, mss, has_ts, tot_hdr, peer_mss) {
        Some((n, false)) => {
            out.push_str("mss*");
            num(&mut out, n);
        }
        Some((n, true)) => {
            out.push_str("mtu*");
            num(&mut out, n);
        }
        None => num(&mut out, h.window),
    }
    out.push(',');
    num(&mut out, wscale.unwrap_or(0));
    out.push(':');
    out.push_str(&olayout);
    out.push(':');
    for (i, q) in quirks.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(q);
    }
    out.push(':');
    out.push_str(pclass);
    out
}

/// The window as a multiple of an MSS or MTU, tried in p0f's order: the segment's MSS, that
/// MSS less 12 (with timestamps), the Ethernet MSS (1460, 1448; IPv6 1440, 1428), the MTU
/// (the MSS plus 40, plus the actual headers, plus 60 on IPv6, or 1500), and for a SYN-ACK the
/// peer's MSS (and less 12). `(n, true)` for an MTU multiple. None below an MSS of 100 or for a
/// zero window.
fn window_multiple(
    version: u8,
    window: u16,
    mss: Option<u16>,
    has_ts: bool,
    tot_hdr: u32,
    peer_mss: Option<u16>,
) -> Option<(u32, bool)> {
    let win = u32::from(window);
    let mss = u32::from(mss.unwrap_or(0));
    if win == 0 || mss < 100 {
        return None;
    }
    let v6 = version == 6;
    let mut candidates: Vec<(u32, bool)> = vec![(mss, false)];
    if has_ts {
        candidates.push((mss - 12, false));
    }
    candidates.extend([(1460, false), (1448, false)]);
    if v6 {
        candidates.extend([(1440, false), (1428, false)]);
    }
    candidates.extend([(mss + 40, true), (mss + tot_hdr, true)]);
    if v6 {
        candidates.push((mss + 60, true));
    }
    candidates.push((1500, true));
    if let Some(peer) = peer_mss.map(u32::from).filter(|m| *m > 12) {
        candidates.extend([(peer, false), (peer - 12, false)]);
    }
    candidates
        .into_iter()
        .find(|(d, _)| *d > 0 && win % d == 0)
        .map(|(d, mtu)| (win / d, mtu))
}

/// p0f's option layout (`mss,nop,ws,nop,nop,ts,sok,eol+1`) and the option quirks (`opt+` for
/// nonzero bytes after EOL, `bad` for a malformed option).
fn option_layout(b: &[u8]) -> (String, Vec<&'static str>) {
    let mut out = String::with_capacity(48);
    let mut quirks = Vec::new();
    let mut i = 0;
    let sep = |out: &mut String| {
        if !out.is_empty() {
            out.push(',');
        }
    };
    while i < b.len() {
        let kind = b[i];
        sep(&mut out);
        match kind {
            0 => {
                let rest = &b[i + 1..];
                out.push_str("eol+");
                num(&mut out, rest.len());
                if rest.iter().any(|&x| x != 0) {
                    quirks.push("opt+");
                }
                break;
            }
            1 => {
                out.push_str("nop");
                i += 1;
                continue;
            }
            2 => out.push_str("mss"),
            3 => out.push_str("ws"),
            4 => out.push_str("sok"),
            5 => out.push_str("sack"),
            8 => out.push_str("ts"),
            k => {
                out.push('?');
                num(&mut out, k);
            }
        }
        let len = b.get(i + 1).map_or(0, |&l| usize::from(l));
        if len < 2 || i + len > b.len() {
            quirks.push("bad");
            break;
        }
        i += len;
    }
    (out, quirks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode_link;

    /// The seed case's SYN: `Flags [SEW], win 65535, options [mss 1460,nop,wscale 6,nop,nop,TS
    /// val … ecr 0,sackOK,eol]`, DF set, TTL 64, IP id nonzero.
    fn catalina_syn() -> Vec<u8> {
        let mut f = vec![0u8; 14];
        f[12] = 0x08;
        let opts = [
            2, 4, 5, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 0, 4, 2, 0, 0,
        ];
        let tcp_len = 20 + opts.len();
        let total = 20 + tcp_len;
        f.extend_from_slice(&[0x45, 0, 0, total as u8, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0]);
        f.extend_from_slice(&[192, 168, 1, 23, 17, 32, 194, 2]);
        f.extend_from_slice(&[0xc0, 0x01, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0]);
        f.push(((tcp_len / 4) as u8) << 4);
        f.push(0xc2);
        f.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
        f.extend_from_slice(&opts);
        f
    }

    #[test]
    fn the_diary_syn() {
        let frame = catalina_syn();
        let p = decode_link(1, &frame).unwrap();
        let fp = fingerprint(&p, None).unwrap();
        assert_eq!(fp.kind, SynKind::Syn);
        assert_eq!(
            fp.tcpdump_normalised,
            "Flags [SEW], seq *, win 65535, options [mss 1460,nop,wscale 6,nop,nop,TS val * ecr 0,sackOK,eol], length 0"
        );
        assert!(fp.tcpdump.starts_with(
            "Flags [SEW], seq 1, win 65535, options [mss 1460,nop,wscale 6,nop,nop,TS val 7 ecr 0"
        ));
        assert_eq!(
            fp.p0f,
            "4:64+0:0:1460:65535,6:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+,ecn:0"
        );
        assert_eq!((fp.flags.as_str(), fp.flags_byte), ("SEW", 0xc2));
        assert_eq!((fp.ttl, fp.initial_ttl), (64, 64));
    }

    #[test]
    fn signature_keys_leave_out_only_per_packet_values() {
        let base = catalina_syn();
        let key = |f: &[u8]| signature_key(&decode_link(1, f).unwrap(), None).unwrap();
        let k = key(&base);
        assert_eq!((k.kind(), k.mss()), (SynKind::Syn, Some(1460)));
        // Sequence number, IP id (nonzero to nonzero) and the timestamp value do not count.
        for (at, v) in [(41, 9u8), (19, 0x99), (68, 0x42)] {
            let mut f = base.clone();
            f[at] = v;
            assert_eq!(key(&f), k, "byte {at}");
        }
        // The window, the TTL and a timestamp value that becomes zero do.
        for (at, v) in [(48, 0x10u8), (22, 63), (69, 0)] {
            let mut f = base.clone();
            f[at] = v;
            assert_ne!(key(&f), k, "byte {at}");
        }
    }

    #[test]
    fn equal_signature_keys_give_equal_signatures() {
        let base = catalina_syn();
        let mut seen: std::collections::HashMap<SignatureKey, (String, String)> =
            std::collections::HashMap::new();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut keys = 0;
        for _ in 0..100_000 {
            let mut f = base.clone();
            for _ in 0..1 + next() % 3 {
                let at = 14 + (next() as usize) % (f.len() - 14);
                // Mostly small values, so that lengths and kinds stay plausible.
                f[at] = if next() % 2 == 0 {
                    (next() % 12) as u8
                } else {
                    next() as u8
                };
            }
            let Ok(p) = decode_link(1, &f) else { continue };
            let peer = (next() % 3 == 0).then_some(1400);
            let (Some(k), Some(fp)) = (signature_key(&p, peer), fingerprint(&p, peer)) else {
                assert!(signature_key(&p, peer).is_none() && fingerprint(&p, peer).is_none());
                continue;
            };
            let text = (fp.p0f, fp.tcpdump_normalised);
            match seen.get(&k) {
                Some(t) => assert_eq!(*t, text, "{f:02x?}"),
                None => {
                    keys += 1;
                    seen.insert(k, text);
                }
            }
        }
        assert!(keys > 1000, "only {keys} distinct keys");
    }

    #[test]
    fn layouts_and_quirks() {
        assert_eq!(
            option_layout(&[2, 4, 5, 0xb4, 0, 0]),
            ("mss,eol+1".into(), vec![])
        );
        assert_eq!(option_layout(&[0, 7]), ("eol+1".into(), vec!["opt+"]));
        assert_eq!(option_layout(&[2, 9, 1]), ("mss".into(), vec!["bad"]));
        assert_eq!(option_layout(&[30, 2, 1]), ("?30,nop".into(), vec![]));
        assert_eq!(initial_ttl(50), 64);
        assert_eq!(initial_ttl(200), 255);
    }
}
