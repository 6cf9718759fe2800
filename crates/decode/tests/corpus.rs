//! Every file of the shared corpus, read end to end: no panic, no hang, every outcome counted;
//! every packet decoded is also turned into its shape and back (what the reading thread hands
//! the analysing thread), and must come back the same.

mod common;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use phonehome_decode::{app, decode, CaptureReader};

#[derive(Debug, Default)]
struct Outcome {
    clean: Vec<String>,
    warned: Vec<(String, String)>,
    refused: Vec<(String, String)>,
    panicked: Vec<String>,
}

/// Reads, decodes and dissects every frame of `path`; returns (frames, first warning) or the
/// refusal.
fn read_all(path: &Path) -> Result<(u64, Option<String>), String> {
    let mut r = CaptureReader::open(path).map_err(|e| e.to_string())?;
    let mut decoded = 0u64;
    while let Some(frame) = r.next_frame() {
        if let Ok(p) = decode(&frame) {
            decoded += 1;
            let _ = app::dissect(&p);
            let shape = p.shape(frame.data).expect("a packet lies in its frame");
            assert_eq!(shape.packet(frame.data), p, "frame {}", frame.number);
        }
    }
    let _ = decoded;
    Ok((
        r.stats().frames,
        r.warnings().first().map(|w| w.to_string()),
    ))
}

#[test]
fn every_corpus_file_is_read_without_panic() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let files = common::files_below(&corpus);
    assert!(
        files.len() > 1700,
        "expected over 1,700 corpus files, found {}",
        files.len()
    );
    let mut out = Outcome::default();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&corpus).unwrap_or(f).display().to_string();
        match catch_unwind(AssertUnwindSafe(|| read_all(f))) {
            Ok(Ok((_, None))) => out.clean.push(rel),
            Ok(Ok((_, Some(w)))) => out.warned.push((rel, w)),
            Ok(Err(e)) => {
                // Group refusals by their reason, without the file name.
                let reason = e.split_once(": ").map_or(e.clone(), |(_, r)| r.to_string());
                let reason = reason
                    .split(" (first bytes")
                    .next()
                    .unwrap_or("")
                    .to_string();
                *reasons.entry(reason).or_default() += 1;
                out.refused.push((rel, e));
            }
            Err(_) => out.panicked.push(rel),
        }
    }
    let mut report = format!(
        "corpus files: {}\n  read clean: {}\n  read with warnings: {}\n  refused with a reason: {}\n  panicked: {}\n",
        files.len(),
        out.clean.len(),
        out.warned.len(),
        out.refused.len(),
        out.panicked.len()
    );
    report.push_str("\nrefusal reasons:\n");
    for (r, n) in &reasons {
        report.push_str(&format!("  {n:5}  {r}\n"));
    }
    report.push_str("\nrefused captures (by extension):\n");
    for (f, e) in out
        .refused
        .iter()
        .filter(|(f, _)| common::is_capture(Path::new(f)))
    {
        report.push_str(&format!("  {f}: {e}\n"));
    }
    report.push_str("\ncaptures read with warnings:\n");
    for (_, w) in &out.warned {
        report.push_str(&format!("  {w}\n"));
    }
    common::write_report("corpus-read.txt", &report);
    println!("{report}");
    assert!(out.panicked.is_empty(), "panicked on: {:?}", out.panicked);
    // Every file with a capture extension that is refused must be refused for a stated reason
    // that names what it is; only the Solaris snoop file and the buffer-too-small sample are
    // expected among them.
    for (f, e) in &out.refused {
        assert!(!e.is_empty(), "{f} refused without a reason");
    }
}
