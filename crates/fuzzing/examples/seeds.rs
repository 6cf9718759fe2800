//! Builds the fuzzers' seed corpora from the shared capture corpus (at fuzz time; seeds are
//! never committed).
//!
//! `cargo run -p phonehome-fuzzing --example seeds -- ../shared/corpus fuzz/corpus`
//!
//! - `capture/`, `extract/`: the captures themselves, cut to their first 64 KiB;
//! - `packet/`: single frames, prefixed with the target's link-type selector;
//! - `dns/`, `tls/`, `http/`, `ntp/`, `dhcp/`, `quic/`: payloads the dissectors recognise
//!   (for `quic`, the decrypted CRYPTO frames of real Initials, re-framed, so that sealing them
//!   gives a valid Initial);
//! - `rules/`: the project's rules files and p0f's database when installed.
//!
//! Seeds are deduplicated by content and capped per target.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use phonehome_decode::app::{self, quic};
use phonehome_decode::{decode, CaptureReader};

const LINKS: [u16; 14] = [0, 1, 9, 12, 14, 50, 101, 108, 113, 228, 229, 276, 258, 147];
const MAX_SEEDS: usize = 3000;
const CAPTURE_CUT: usize = 64 << 10;

struct Seeds {
    out: PathBuf,
    seen: HashSet<(String, u64)>,
    count: HashMap<String, usize>,
}

impl Seeds {
    fn add(&mut self, target: &str, bytes: &[u8]) {
        let n = self.count.entry(target.to_string()).or_default();
        if *n >= MAX_SEEDS || bytes.is_empty() {
            return;
        }
        let h = fnv(bytes);
        if !self.seen.insert((target.to_string(), h)) {
            return;
        }
        *n += 1;
        let dir = self.out.join(target);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("{h:016x}")), bytes);
    }
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3)
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let corpus = PathBuf::from(args.next().unwrap_or_else(|| "../shared/corpus".into()));
    let out = PathBuf::from(args.next().unwrap_or_else(|| "fuzz/corpus".into()));
    let mut seeds = Seeds {
        out,
        seen: HashSet::new(),
        count: HashMap::new(),
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for f in ["data/domains.toml", "data/syn-signatures.toml"] {
        if let Ok(b) = std::fs::read(root.join(f)) {
            seeds.add("rules", &b);
        }
    }
    if let Ok(b) = std::fs::read("/etc/p0f/p0f.fp") {
        seeds.add("rules", &b);
    }
    let mut files = phonehome_testkit::files_below(&corpus);
    files.retain(|p| phonehome_testkit::is_capture(p));
    files.sort();
    for path in &files {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let cut = &bytes[..bytes.len().min(CAPTURE_CUT)];
        seeds.add("capture", cut);
        seeds.add("extract", cut);
        let Ok(mut reader) = CaptureReader::open(path) else {
            continue;
        };
        while let Some(frame) = reader.next_frame() {
            if let Some(i) = LINKS.iter().position(|&l| l == frame.link_type) {
                if frame.number % 16 == 1 {
                    let mut b = (i as u16).to_le_bytes().to_vec();
                    b.extend_from_slice(frame.data);
                    seeds.add("packet", &b);
                }
            }
            let Ok(p) = decode(&frame) else { continue };
            if quic::looks_like_initial(p.payload) {
                if let Ok(init) = quic::parse_initial(p.payload) {
                    let mut plain = Vec::new();
                    for (off, data) in &init.crypto {
                        plain.push(0x06);
                        varint(&mut plain, *off);
                        varint(&mut plain, data.len() as u64);
                        plain.extend_from_slice(data);
                    }
                    seeds.add("quic", &plain);
                    seeds.add("quic", p.payload);
                }
            }
            let target = match app::dissect(&p) {
                Some(app::App::Dns(_) | app::App::Mdns(_) | app::App::Llmnr(_)) => "dns",
                Some(app::App::TlsClientHello(_) | app::App::TlsClientHelloPartial { .. }) => "tls",
                Some(app::App::Http(_)) => "http",
                Some(app::App::Ntp(_)) => "ntp",
                Some(app::App::Dhcp(_)) => "dhcp",
                None => continue,
            };
            seeds.add(target, p.payload);
        }
    }
    let mut counts: Vec<_> = seeds.count.into_iter().collect();
    counts.sort();
    for (t, n) in counts {
        println!("{t}\t{n} seeds");
    }
}

fn varint(out: &mut Vec<u8>, v: u64) {
    if v < 1 << 6 {
        out.push(v as u8);
    } else if v < 1 << 14 {
        out.extend_from_slice(&((v as u16) | 0x4000).to_be_bytes());
    } else {
        out.extend_from_slice(&((v as u32) | 0x8000_0000).to_be_bytes());
    }
}
