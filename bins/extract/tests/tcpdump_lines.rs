//! The SYN and SYN-ACK lines of `fingerprints.csv` against tcpdump itself: for every SYN or
//! SYN-ACK tcpdump prints in the nDPI captures, our normalised line for that host (per-packet
//! seq, ack and TS values as `*`) is the same text.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use phonehome_testkit::{self as kit, corpus, have_tool, read_csv_rows, TempDir};

/// Replaces the per-packet values in a tcpdump TCP line as our normalised form does.
fn normalise(line: &str) -> String {
    let mut out = Vec::new();
    let mut prev = "";
    for w in line.split(' ') {
        let starred = match prev {
            "seq" | "ack" => Some(if w.ends_with(',') { "*," } else { "*" }),
            "val" => Some("*"),
            "ecr" if !w.starts_with('0') => Some(if w.ends_with(',') { "*," } else { "*" }),
            _ => None,
        };
        // `ecr 0,sackOK` keeps its tail after the number.
        let keep = match (prev, starred) {
            ("ecr", Some(_)) => {
                let tail = w
                    .find(|c: char| !c.is_ascii_digit())
                    .map_or("", |i| &w[i..]);
                format!("*{tail}")
            }
            (_, Some(s)) => s.to_string(),
            _ => w.to_string(),
        };
        out.push(keep);
        prev = w;
    }
    out.join(" ")
}

/// (sender address, normalised line) of every SYN / SYN-ACK tcpdump prints.
fn tcpdump_syns(file: &Path) -> BTreeSet<(String, String)> {
    let out = Command::new("tcpdump")
        .args(["-nn", "-r"])
        .arg(file)
        .arg("tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & (tcp-rst|tcp-fin) == 0")
        .output()
        .expect("tcpdump runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (head, tcp) = l.split_once(": Flags ")?;
            let src = head.split(" > ").next()?.rsplit(' ').next()?;
            let ip = src.rsplit_once('.')?.0.to_string();
            Some((ip, normalise(&format!("Flags {tcp}"))))
        })
        .collect()
}

#[test]
fn syn_lines_equal_tcpdump() {
    let Some(corpus) = corpus() else { return };
    if !have_tool("tcpdump") {
        return;
    }
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_phonehome-extract"));
    let files: Vec<PathBuf> = kit::files_below(&corpus.join("ndpi/pcap"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .filter(|p| !p.to_string_lossy().contains("/fuzz-"))
        .collect();
    let results = kit::par_map(&files, 2, |f| {
        let theirs = tcpdump_syns(f);
        if theirs.is_empty() {
            return (0, Vec::new());
        }
        let dir = TempDir::new("tcpdump");
        let st = Command::new(&bin)
            .arg("-q")
            .arg("-o")
            .arg(dir.path())
            .arg(f)
            .status()
            .expect("extractor runs");
        assert!(matches!(st.code(), Some(0 | 1)));
        let ours: BTreeSet<(String, String)> = read_csv_rows(&dir.path().join("fingerprints.csv"))
            .into_iter()
            .map(|r| (r["client_ip"].clone(), r["tcpdump_normalised"].clone()))
            .collect();
        let missing: Vec<String> = theirs
            .difference(&ours)
            .map(|(ip, l)| format!("{}\t{ip}\t{l}", kit::relative(f, &corpus)))
            .collect();
        (theirs.len(), missing)
    });
    let total: usize = results.iter().map(|r| r.0).sum();
    let missing: Vec<&String> = results.iter().flat_map(|r| &r.1).collect();
    let mut report = format!(
        "distinct (host, SYN line) tcpdump prints: {total}\nmissing or different in fingerprints.csv: {}\n\n",
        missing.len()
    );
    for l in &missing {
        report.push_str(l);
        report.push('\n');
    }
    let path = kit::write_report("tcpdump-lines.txt", &report);
    println!("{report}");
    assert!(total >= 300, "only {total} lines");
    assert!(missing.is_empty(), "see {}", path.display());
}

#[test]
fn normalises_like_our_lines() {
    assert_eq!(
        normalise("Flags [SEW], seq 12, win 65535, options [mss 1460,nop,wscale 6,nop,nop,TS val 9 ecr 0,sackOK,eol], length 0"),
        "Flags [SEW], seq *, win 65535, options [mss 1460,nop,wscale 6,nop,nop,TS val * ecr 0,sackOK,eol], length 0"
    );
    assert_eq!(
        normalise("Flags [S.], seq 1, ack 2, win 5, options [TS val 3 ecr 4,nop], length 0"),
        "Flags [S.], seq *, ack *, win 5, options [TS val * ecr *,nop], length 0"
    );
}
