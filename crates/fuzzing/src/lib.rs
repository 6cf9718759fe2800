//! The bodies of phonehome's fuzz targets.
//!
//! Each function takes the fuzzer's bytes and drives one parser (or the whole extract pipeline)
//! over them, touching every field of what comes back so that lazy views are exercised too. The
//! cargo-fuzz targets in `fuzz/fuzz_targets/` are one-line calls of these functions, and
//! `tests/regressions.rs` replays every saved reproducer under `fuzz/regressions/<target>/`
//! through the same function in the ordinary test suite, so a fixed crash stays fixed.
//!
//! A target "fails" by panicking, looping or allocating without bound; none of them asserts on
//! what the parsers return, beyond invariants that hold for any input.

use std::hint::black_box;

use phonehome_decode::app::{self, dhcp, dns, http, ntp, quic, tls};
use phonehome_decode::{decode, decode_link, syn, CaptureReader, ReadLimits};
use phonehome_domains::os::OsDb;
use phonehome_domains::{Rules, Vendor};
use phonehome_flows::{analyze, fingerprint, names, Config};
use phonehome_report::label::Labeller;
use phonehome_report::term::{host_order, SortBy};
use phonehome_report::write::{write_tables, Format, WriteOptions};
use phonehome_report::{sanitize, tables};

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target, by the name its cargo-fuzz binary and reproducer folder carry.
pub const TARGETS: &[(&str, Target)] = &[
    ("capture", capture),
    ("packet", packet),
    ("dns", dns_message),
    ("tls", tls_client_hello),
    ("http", http_request),
    ("ntp", ntp_packet),
    ("dhcp", dhcp_message),
    ("quic", quic_initial),
    ("rules", rules_file),
    ("extract", extract),
];

/// Limits small enough that a fuzzer's input cannot make the reader allocate much.
const FUZZ_LIMITS: ReadLimits = ReadLimits {
    max_record: 1 << 20,
};

/// The capture reader (pcap, pcapng, gzip, zstd, by magic): every frame is read and decoded,
/// and the warnings are formatted.
pub fn capture(data: &[u8]) {
    let Ok(mut reader) = CaptureReader::from_bytes_with("fuzz", data.to_vec(), FUZZ_LIMITS) else {
        return;
    };
    let mut last = 0u64;
    while let Some(frame) = reader.next_frame() {
        assert!(frame.offset >= last, "frame offsets go backwards");
        last = frame.offset;
        if let Ok(p) = decode(&frame) {
            black_box(p.ports());
        }
    }
    for w in reader.warnings() {
        black_box(w.to_string());
    }
    black_box(reader.stats());
}

/// Link, IP, TCP and UDP decoding of one frame: the first two bytes choose the link type among
/// those the decoder knows (and one it does not), the rest is the frame. Decoded packets go on
/// to the SYN fingerprinter and the application dissectors.
pub fn packet(data: &[u8]) {
    const LINKS: [u16; 14] = [0, 1, 9, 12, 14, 50, 101, 108, 113, 228, 229, 276, 258, 147];
    let [a, b, frame @ ..] = data else {
        return;
    };
    let link = LINKS[usize::from(u16::from_le_bytes([*a, *b])) % LINKS.len()];
    let Ok(p) = decode_link(link, frame) else {
        return;
    };
    black_box((p.ports(), p.payload_complete(), p.ip_payload.len()));
    if let Some(fp) = syn::fingerprint(&p, Some(1460)) {
        black_box(&fp.p0f);
        black_box(OsDb::builtin().guess(true, &fp.p0f, fp.window));
    }
    if let Some(a) = app::dissect(&p) {
        black_box(a.protocol());
    }
}

/// DNS messages, over UDP and over TCP (length-prefixed), and the name table's CNAME-chain
/// resolution of what they answer.
pub fn dns_message(data: &[u8]) {
    for parsed in [dns::parse(data), dns::parse_tcp(data)] {
        let Ok(m) = parsed else { continue };
        for q in &m.questions {
            let s = q.name.to_lowercase_string();
            assert!(
                s.len() <= 4 * 255,
                "a name longer than DNS allows: {}",
                s.len()
            );
            black_box(sanitize::terminal(&s));
        }
        for r in m.answers() {
            black_box(r.name.to_lowercase_string());
        }
        if let Some(r) = names::resolve(&m) {
            black_box(r);
        }
    }
}

/// TLS ClientHellos, from a record stream and as a bare handshake message, with their JA3 and
/// JA4 fingerprints.
pub fn tls_client_hello(data: &[u8]) {
    for parsed in [
        tls::parse_client_hello(data),
        tls::parse_client_hello_message(data),
    ] {
        let Ok(ch) = parsed else { continue };
        black_box((ch.sni_string(), ch.max_version()));
        black_box(fingerprint::ja3(&ch));
        black_box(fingerprint::ja4(&ch, false));
        black_box(fingerprint::ja4(&ch, true));
    }
}

/// HTTP request heads.
pub fn http_request(data: &[u8]) {
    black_box(http::looks_like_request(data));
    if let Some(r) = http::parse_request(data) {
        black_box((r.host_name(), r.is_ocsp()));
    }
}

/// NTP packets.
pub fn ntp_packet(data: &[u8]) {
    black_box(ntp::parse(data));
}

/// DHCP (BOOTP) messages, with the option names the report shows.
pub fn dhcp_message(data: &[u8]) {
    if let Some(d) = dhcp::parse(data) {
        black_box(dhcp::message_type_name(d.message_type.unwrap_or(0)));
        black_box(d);
    }
}

/// QUIC Initials. The AEAD stops random bytes at decryption, so the input is tried twice: as a
/// datagram, and as the plaintext frames of an Initial sealed with keys derived from a fixed
/// connection ID, which reaches the frame parser and the ClientHello behind it.
pub fn quic_initial(data: &[u8]) {
    black_box(quic::looks_like_initial(data));
    black_box(quic::parse_initial(data).ok());
    let Some(datagram) = phonehome_synth::quic::seal_initial(&[7; 8], &[9; 8], 0, data) else {
        return;
    };
    if let Ok(initial) = quic::parse_initial(&datagram) {
        for (_, bytes) in &initial.crypto {
            if let Ok(ch) = tls::parse_client_hello_message(bytes) {
                black_box(fingerprint::ja4(&ch, true));
            }
        }
    }
}

/// The rules-file parser, the p0f database parser, and a lookup in what they load.
pub fn rules_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(rules) = Rules::load_str(&text) {
        black_box(rules.classify("www.apple.com", Some("/x"), &Vendor::apple()));
        black_box(rules.rules().len());
    }
    if let Ok(db) = OsDb::parse_p0f(&text) {
        black_box(db.guess(
            true,
            "4:64+0:0:1460:65535,6:mss,nop,ws,nop,nop,ts,sok,eol+1:df:0",
            65535,
        ));
    }
}

/// The whole extract pipeline on one capture: read, decode, flows, names, labels, and every
/// table written as CSV (neutralised) and JSON; then the CSV is checked to hold no cell that a
/// spreadsheet would run as a formula.
pub fn extract(data: &[u8]) {
    let Ok(mut reader) = CaptureReader::from_bytes_with("fuzz", data.to_vec(), FUZZ_LIMITS) else {
        return;
    };
    let summary = analyze(&mut reader, Config::default(), |_, _| {});
    let rules = Rules::builtin();
    let labeller = Labeller::new(rules, Vendor::apple());
    let labels = labeller.label(&summary);
    let order = host_order(&summary, &labels, SortBy::FirstSeen);
    let all = [
        tables::flows(&summary, &labeller),
        tables::hosts(&summary, &labels, &order),
        tables::dns(&summary),
        tables::tls(&summary),
        tables::http(&summary),
        tables::fingerprints(&summary, &labels),
    ];
    for t in &all {
        for format in [Format::Csv, Format::Json] {
            let mut out = Vec::new();
            let opts = WriteOptions { format, raw: false };
            if write_tables(&mut out, &[(None, t)], opts).is_err() {
                continue;
            }
            if format == Format::Csv {
                assert_no_formula(&out);
            }
        }
    }
}

/// Panics if a CSV cell starts with a character a spreadsheet takes as a formula.
fn assert_no_formula(csv_bytes: &[u8]) {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv_bytes);
    for rec in r.byte_records() {
        let Ok(rec) = rec else { continue };
        for cell in rec.iter() {
            if let Some(c) = cell.first() {
                let formula = matches!(c, b'=' | b'+' | b'@' | b'\t' | b'\r')
                    || (*c == b'-' && cell.get(1).is_some_and(|d| !d.is_ascii_digit()));
                assert!(
                    !formula,
                    "formula-like cell {:?}",
                    String::from_utf8_lossy(cell)
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_takes_empty_and_tiny_inputs() {
        for (name, run) in TARGETS {
            for input in [&b""[..], b"\0", b"\xff\xff", &[0xd4, 0xc3, 0xb2, 0xa1]] {
                eprintln!("{name}: {input:?}");
                run(input);
            }
        }
    }
}
