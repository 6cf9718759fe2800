//! Helpers shared by the corpus tests: where the corpus is, whether an oracle is installed,
//! and what our decoder says about a capture.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use phonehome_decode::app::{self, App};
use phonehome_decode::{decode, CaptureReader};

// Each test binary uses a different subset of these.
#[allow(unused_imports)]
pub use phonehome_testkit::{corpus, files_below, have_tool, in_ci, is_capture};

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
    phonehome_testkit::write_report(name, text);
}
