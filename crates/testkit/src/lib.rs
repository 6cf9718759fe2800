//! Test support shared by phonehome's corpus and differential tests: where the corpus is,
//! whether an external oracle (tshark, capinfos, …) is installed, which corpus files are
//! captures, temporary directories, a small worker pool, reports under `target/reports/`,
//! running `phonehome-extract` and reading its `flows.csv` and `dns.csv` ([`run_extract`]), and
//! captures built packet by packet ([`build`]).
//!
//! Outside CI a missing corpus or tool skips a test with a printed reason; with `CI` set it
//! fails the test instead, so that CI can never pass by skipping.

/// The packet-by-packet capture builder (it lives in the generator crate).
pub use phonehome_synth::build;
mod extract;
pub mod mutate;
mod tempdir;

pub use extract::{read_dns_csv, read_flows_csv, run_extract, DnsRow, Extract, FlowRow};
pub use tempdir::TempDir;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// Whether we run in CI (`CI` set to anything but empty, `0` or `false`), where nothing may be
/// skipped.
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// `../shared/corpus` relative to the workspace root, or `None` (with a printed reason) when it
/// is absent outside CI. In CI a missing corpus fails the test.
pub fn corpus() -> Option<PathBuf> {
    let dir = workspace_root().join("../shared/corpus");
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

/// Whether `tool` can be started; outside CI a missing tool skips the test with a printed
/// reason, in CI it fails the test.
pub fn have_tool(tool: &str) -> bool {
    // Installed = it starts; some tools (p0f) exit non-zero on `--version`.
    let ok = Command::new(tool).arg("--version").output().is_ok();
    if !ok {
        assert!(
            !in_ci(),
            "CI is set but `{tool}` is not installed (.ci/run installs it)"
        );
        eprintln!("SKIPPED: `{tool}` not installed (Wireshark's tools: apt-get install -y tshark)");
    }
    ok
}

/// Every file below `dir`, recursively, sorted; an unreadable or missing `dir` gives none.
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

/// `path` relative to `base` for messages and reports, or the whole path when it is not below.
pub fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Writes `target/reports/NAME` (creating the folder) so that CI logs and humans can read a
/// test's findings after the run, and returns its path. Failing to write is not a test failure.
pub fn write_report(name: &str, text: &str) -> PathBuf {
    let dir = workspace_root().join("target/reports");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(name);
    let _ = std::fs::write(&path, text);
    path
}

/// `f` applied to every item on `workers` threads (at least one), results in the items' order.
/// A panic in `f` propagates to the caller.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    workers: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|s| {
        for _ in 0..workers.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((i, r));
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Apple's own zones (research/domains.md): a name under one of these is an Apple host.
pub const APPLE_ZONES: &[&str] = &[
    "apple.com",
    "icloud.com",
    "itunes.com",
    "mzstatic.com",
    "apple-cloudkit.com",
    "icloud-content.com",
    "cdn-apple.com",
    "aaplimg.com",
    "apple-dns.net",
    "apple.news",
    "apple-mapkit.com",
];

/// Whether `name` is under one of [`APPLE_ZONES`] (on a label boundary).
pub fn is_apple(name: &str) -> bool {
    APPLE_ZONES
        .iter()
        .any(|z| name == *z || name.strip_suffix(z).is_some_and(|p| p.ends_with('.')))
}

/// A CSV file with a header row as rows keyed by column name.
pub fn read_csv_rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let head = r.headers().expect("header row").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("CSV record");
            head.iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// The seed case's first-boot third parties: Yahoo's finance widget and Safari's favourites.
pub const FIRST_BOOT_THIRD_PARTIES: &[&str] = &[
    "apple-finance.query.yahoo.com",
    "www.yelp.com",
    "www.yahoo.com",
    "www.weather.com",
    "www.tripadvisor.com",
    "www.linkedin.com",
    "www.facebook.com",
    "www.bing.com",
    "www.twitter.com",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn par_map_keeps_order() {
        let items: Vec<u32> = (0..100).collect();
        assert_eq!(
            par_map(&items, 3, |x| x * 2),
            (0..100).map(|x| x * 2).collect::<Vec<_>>()
        );
    }

    #[test]
    fn temp_dir_is_removed_on_drop() {
        let t = TempDir::new("testkit");
        let p = t.path().to_path_buf();
        std::fs::write(p.join("x"), "y").unwrap();
        drop(t);
        assert!(!p.exists());
    }

    #[test]
    fn captures_by_extension() {
        assert!(is_capture(Path::new("a/b.pcapng")));
        assert!(!is_capture(Path::new("a/b.pcap.out")));
    }
}
