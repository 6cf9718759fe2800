//! Helpers shared by the corpus tests: where the corpus is, whether an oracle is installed,
//! and what our decoder says about a capture.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use phonehome_decode::app::{self, App};
use phonehome_decode::{decode, CaptureReader};

/// Whether we run in CI, where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// `../shared/corpus` relative to the workspace root, or `None` (with a printed reason) when it
/// is absent outside CI. In CI a missing corpus fails the test.
pub fn corpus() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("../shared/corpus");
    if dir.join("MANIFEST.tsv").is_file() {
        return Some(dir.canonicalize().unwrap_or(dir));
    }
    assert!(
        !in_ci(),
        "CI is set but the corpus is missing at {}",
        dir.display()
    );
    eprintln!("SKIPPED: corpus not found at {}", dir.display());
    None
}

/// Whether `tool` runs; outside CI a missing tool skips the test with a printed reason.
pub fn have_tool(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !in_ci(),
            "CI is set but `{tool}` is not installed (.ci/run installs it)"
        );
        eprintln!("SKIPPED: `{tool}` not installed (apt-get install -y tshark)");
    }
    ok
}

/// Every file below `dir`, sorted.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Whether a corpus file is meant as a capture (by extension: captures, compressed captures, the
/// snoop file and the binary format samples; the reader itself decides by magic).
pub fn is_capture(p: &Path) -> bool {
    let n = p.to_string_lossy();
    [".pcap", ".pcapng", ".gz", ".zst", ".cap", ".snoop", ".bin"]
        .iter()
        .any(|e| n.ends_with(e))
}

/// Names a capture yields, per field as tshark names them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Names {
    /// `dns.qry.name`
    pub dns: BTreeSet<String>,
    /// `tls.handshake.extensions_server_name`
    pub sni: BTreeSet<String>,
    /// `http.host`
    pub http: BTreeSet<String>,
}

/// What our decoder finds, packet by packet (no reassembly: that is the flow layer's job).
pub fn our_names(path: &Path) -> Names {
    let mut names = Names::default();
    let Ok(mut r) = CaptureReader::open(path) else {
        return names;
    };
    while let Some(f) = r.next_frame() {
        let Ok(p) = decode(&f) else { continue };
        match app::dissect(&p) {
            Some(App::Dns(m) | App::Mdns(m) | App::Llmnr(m)) => {
                for q in &m.questions {
                    names.dns.insert(skeleton_bytes(&q.name.to_bytes()));
                }
            }
            Some(App::TlsClientHello(ch)) => {
                if let Some(s) = ch.sni {
                    names.sni.insert(String::from_utf8_lossy(s).into_owned());
                }
            }
            Some(App::Http(req)) => {
                if let Some(h) = req.host {
                    names.http.insert(String::from_utf8_lossy(h).into_owned());
                }
            }
            _ => {}
        }
    }
    names
}

/// What tshark finds in the same fields.
pub fn tshark_names(path: &Path) -> Option<Names> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args([
            "-T",
            "fields",
            "-E",
            "separator=/t",
            "-E",
            "aggregator=\u{1}",
            "-E",
            "occurrence=a",
        ])
        .args([
            "-e",
            "dns.qry.name",
            "-e",
            "tls.handshake.extensions_server_name",
            "-e",
            "http.host",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut names = Names::default();
    for line in text.lines() {
        let mut cols = line.split('\t');
        for (i, set) in [&mut names.dns, &mut names.sni, &mut names.http]
            .into_iter()
            .enumerate()
        {
            for v in cols
                .next()
                .unwrap_or("")
                .split('\u{1}')
                .filter(|v| !v.is_empty())
            {
                set.insert(if i == 0 {
                    skeleton_tshark(v)
                } else {
                    v.to_string()
                });
            }
        }
    }
    Some(names)
}

/// A DNS name reduced to what both renderings agree on: printable ASCII kept, every run of other
/// bytes (control characters, non-ASCII, invalid UTF-8) shown as one `?`; the root is empty.
/// tshark renders such bytes as octal escapes or U+FFFD, we keep raw bytes: only this skeleton
/// is comparable.
pub fn skeleton_bytes(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        if (0x21..0x7f).contains(&c) {
            s.push(c as char);
        } else if !s.ends_with('?') {
            s.push('?');
        }
    }
    s
}

/// The same skeleton from tshark's rendering (`<Root>`, `\ddd` escapes, U+FFFD).
pub fn skeleton_tshark(v: &str) -> String {
    if v == "<Root>" {
        return String::new();
    }
    let b = v.as_bytes();
    let mut raw = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
            raw.push(0);
            i += 4;
        } else {
            raw.push(b[i]);
            i += 1;
        }
    }
    skeleton_bytes(&raw)
}

/// Writes a report under `target/reports/` so CI logs and humans can read it after the run.
pub fn write_report(name: &str, text: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/reports");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join(name), text);
}
