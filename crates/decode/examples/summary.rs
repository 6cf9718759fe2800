//! `summary`: what a capture holds, by layer — a quick look before the extractor exists, and
//! the decoding benchmark's workload (`--l4-only`).
//!
//! Usage: `cargo run --release -p phonehome-decode --example summary -- [--l4-only] CAPTURE...`

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use phonehome_decode::app::{self, App};
use phonehome_decode::{decode, CaptureReader, DecodeError, NetKind};

/// Renders untrusted bytes for a terminal: printable ASCII as is, everything else escaped.
fn shown(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

fn main() -> ExitCode {
    let mut l4_only = false;
    let mut files = Vec::new();
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--l4-only" => l4_only = true,
            "-h" | "--help" => {
                eprintln!("usage: summary [--l4-only] CAPTURE...   (CAPTURE may be - for stdin)");
                return ExitCode::SUCCESS;
            }
            _ => files.push(a),
        }
    }
    if files.is_empty() {
        eprintln!("usage: summary [--l4-only] CAPTURE...");
        return ExitCode::from(2);
    }
    let mut code = ExitCode::SUCCESS;
    for f in files {
        let start = Instant::now();
        let mut r = match CaptureReader::open(&f) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                code = ExitCode::from(2);
                continue;
            }
        };
        let mut decoded = 0u64;
        let mut errors: BTreeMap<String, u64> = BTreeMap::new();
        let mut protos: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut dns: BTreeMap<String, u64> = BTreeMap::new();
        let mut sni: BTreeMap<String, u64> = BTreeMap::new();
        let mut http: BTreeMap<String, u64> = BTreeMap::new();
        let mut checksum = 0u64;
        while let Some(frame) = r.next_frame() {
            let p = match decode(&frame) {
                Ok(p) => p,
                Err(e) => {
                    let key = match e {
                        DecodeError::UnsupportedLink(t) => format!("link type {t} not decoded"),
                        DecodeError::NotIp(NetKind::Other(t)) => {
                            format!("not IP: EtherType 0x{t:04x}")
                        }
                        DecodeError::NotIp(k) => format!("not IP: {k:?}"),
                        other => other.to_string(),
                    };
                    *errors.entry(key).or_default() += 1;
                    continue;
                }
            };
            decoded += 1;
            checksum = checksum
                .wrapping_add(u64::from(p.payload_len))
                .wrapping_add(u64::from(p.ports().0));
            if l4_only {
                continue;
            }
            let Some(a) = app::dissect(&p) else { continue };
            *protos.entry(a.protocol()).or_default() += 1;
            match a {
                App::Dns(m) | App::Mdns(m) | App::Llmnr(m) => {
                    for q in &m.questions {
                        *dns.entry(q.name.to_lowercase_string()).or_default() += 1;
                    }
                }
                App::TlsClientHello(ch) => {
                    if let Some(s) = ch.sni {
                        *sni.entry(shown(s)).or_default() += 1;
                    }
                }
                App::Http(req) => {
                    if let Some(h) = req.host {
                        *http.entry(shown(h)).or_default() += 1;
                    }
                }
                _ => {}
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let st = r.stats();
        println!("{}", shown(r.name().as_bytes()));
        println!(
            "  format {} (compression {})",
            r.format().name(),
            r.compression().name()
        );
        println!(
            "  frames {}  captured bytes {}  wire bytes {}  snapped frames {}",
            st.frames, st.captured_bytes, st.wire_bytes, st.snapped_frames
        );
        let links: Vec<String> = st
            .link_types
            .iter()
            .map(|(t, n)| format!("{t}:{n}"))
            .collect();
        println!("  link types (type:frames) {}", links.join(" "));
        println!("  decoded to transport {decoded}");
        for (e, n) in &errors {
            println!("  not decoded: {n} x {e}");
        }
        if l4_only {
            let mb = st.stream_bytes as f64 / 1e6;
            println!(
                "  {:.1} MB/s  {:.0} packets/s  ({secs:.3} s, checksum {checksum})",
                mb / secs,
                st.frames as f64 / secs
            );
        } else {
            let p: Vec<String> = protos.iter().map(|(k, n)| format!("{k}:{n}")).collect();
            println!("  application messages {}", p.join(" "));
            for (title, set) in [
                ("DNS query names", &dns),
                ("TLS SNI", &sni),
                ("HTTP Host", &http),
            ] {
                if !set.is_empty() {
                    println!("  {title} ({}):", set.len());
                    for (n, c) in set {
                        println!("    {c:6}  {n}");
                    }
                }
            }
        }
        for w in r.warnings() {
            eprintln!("warning: {w}");
            code = ExitCode::from(1);
        }
    }
    code
}
