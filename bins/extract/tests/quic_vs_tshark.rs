//! QUIC SNI against tshark: every client Initial ClientHello that tshark decrypts on the corpus's
//! QUIC captures must name our flow on the same 5-tuple, with name source `quic`.
//!
//! The captures are those where nDPI's expected output shows QUIC, plus Zeek's Chromium capture
//! whose ClientHello spans two Initials. Google's pre-IETF gQUIC (versions Q0xx, T0xx) carries
//! its name in the clear in another format and is not decoded: such flows are reported apart.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;

use phonehome_testkit::{self as kit, corpus, have_tool};

/// The captures to compare: nDPI results that mention QUIC, and Zeek's fragmented Initial.
fn quic_captures(corpus: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = kit::files_below(&corpus.join("ndpi/result"))
        .into_iter()
        .filter(|r| std::fs::read_to_string(r).is_ok_and(|t| t.contains("/QUIC")))
        .filter_map(|r| {
            let name = r.file_name()?.to_str()?.strip_suffix(".out")?.to_string();
            let pcap = corpus.join("ndpi/pcap").join(name);
            pcap.is_file().then_some(pcap)
        })
        .collect();
    out.push(corpus.join("general/zeek/chromium-115.0.5790.110-google-de-fragmented.pcap"));
    out
}

/// (client, server) -> SNI of every QUIC ClientHello tshark decrypts, and the gQUIC flows.
type Hellos = BTreeMap<(SocketAddr, SocketAddr), String>;

fn tshark_hellos(file: &Path) -> (Hellos, BTreeSet<(SocketAddr, SocketAddr)>) {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-Y", "quic && udp", "-T", "fields", "-E", "occurrence=f"])
        .args(["-e", "ip.src", "-e", "ipv6.src", "-e", "udp.srcport"])
        .args(["-e", "ip.dst", "-e", "ipv6.dst", "-e", "udp.dstport"])
        .args([
            "-e",
            "tls.handshake.extensions_server_name",
            "-e",
            "quic.version",
        ])
        .output()
        .expect("tshark runs");
    let mut hellos = Hellos::new();
    let mut gquic = BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 8 {
            continue;
        }
        let ip = |a: &str, b: &str| a.parse::<IpAddr>().or_else(|_| b.parse::<IpAddr>()).ok();
        let (Some(si), Some(di)) = (ip(f[0], f[1]), ip(f[3], f[4])) else {
            continue;
        };
        let (Ok(sp), Ok(dp)) = (f[2].parse::<u16>(), f[5].parse::<u16>()) else {
            continue;
        };
        let key = (SocketAddr::new(si, sp), SocketAddr::new(di, dp));
        // gQUIC versions are ASCII: Q043, Q046, Q050, T051.
        let version = u32::from_str_radix(f[7].trim_start_matches("0x"), 16).unwrap_or(0);
        if matches!(version >> 24, 0x51 | 0x54) {
            gquic.insert(key);
        } else if !f[6].is_empty() {
            hellos
                .entry(key)
                .or_insert_with(|| f[6].to_ascii_lowercase());
        }
    }
    (hellos, gquic)
}

#[test]
fn quic_sni_equals_tshark() {
    let Some(corpus) = corpus() else { return };
    if !have_tool("tshark") {
        return;
    }
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_phonehome-extract"));
    let files = quic_captures(&corpus);
    let results = kit::par_map(&files, 2, |f| {
        let (hellos, gquic) = tshark_hellos(f);
        let ours = kit::run_extract(&bin, f).expect("extract runs");
        let mut lines = Vec::new();
        let mut agree = 0usize;
        for ((c, s), sni) in &hellos {
            let named = ours.flows.iter().any(|r| {
                r.client == *c && r.server == *s && r.name_source == "quic" && r.hostname == *sni
            });
            if named {
                agree += 1;
            } else {
                let got: Vec<String> = ours
                    .flows
                    .iter()
                    .filter(|r| {
                        (r.client, r.server) == (*c, *s) || (r.client, r.server) == (*s, *c)
                    })
                    .map(|r| format!("{} ({})", r.hostname, r.name_source))
                    .collect();
                lines.push(format!(
                    "{}\t{c} -> {s}\ttshark {sni:?}\tours {got:?}",
                    kit::relative(f, &corpus)
                ));
            }
        }
        (hellos.len(), agree, gquic.len(), lines)
    });
    let total: usize = results.iter().map(|r| r.0).sum();
    let agree: usize = results.iter().map(|r| r.1).sum();
    let gquic: usize = results.iter().map(|r| r.2).sum();
    let pct = if total == 0 {
        0.0
    } else {
        100.0 * agree as f64 / total as f64
    };
    let mut report = format!(
        "captures: {}\nQUIC ClientHellos tshark decrypts (flows): {total}\nsame SNI, source quic: {agree} ({pct:.2}%)\ngQUIC flows (not decoded, not counted): {gquic}\n\n",
        files.len()
    );
    for r in &results {
        for l in &r.3 {
            report.push_str(l);
            report.push('\n');
        }
    }
    let path = kit::write_report("quic-vs-tshark.txt", &report);
    println!("{report}");
    assert!(
        total >= 100,
        "only {total} QUIC ClientHellos found: is tshark decrypting?"
    );
    // Every ClientHello tshark decrypts must be named the same: 100%.
    assert_eq!(agree, total, "see {}", path.display());
}
