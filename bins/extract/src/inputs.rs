//! Expanding the command line's captures: files, directories, stdin.

use std::path::{Path, PathBuf};

/// File name endings taken from directories.
const CAPTURE_ENDINGS: &[&str] = &[
    ".pcap",
    ".pcapng",
    ".cap",
    ".pcap.gz",
    ".pcapng.gz",
    ".cap.gz",
    ".pcap.zst",
    ".pcapng.zst",
];

/// Whether a file in a directory looks like a capture by its name.
pub fn is_capture_name(p: &Path) -> bool {
    let n = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    CAPTURE_ENDINGS.iter().any(|e| n.ends_with(e))
}

/// Expands directories (recursively, sorted) and keeps files and `-` as given. Errors are
/// returned per unreadable directory, so the rest still runs.
pub fn expand(args: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, std::io::Error)>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for a in args {
        if a.as_os_str() != "-" && a.is_dir() {
            walk(a, &mut out, &mut errors);
        } else {
            out.push(a.clone());
        }
    }
    (out, errors)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<(PathBuf, std::io::Error)>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push((dir.to_path_buf(), e));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, out, errors);
        } else if is_capture_name(&p) {
            out.push(p);
        }
    }
}

/// Output sub-directory names for several captures: the file name, made unique with `-2`,
/// `-3`... in input order.
pub fn unique_names(paths: &[PathBuf]) -> Vec<String> {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    paths
        .iter()
        .map(|p| {
            let base = if p.as_os_str() == "-" {
                "stdin".to_string()
            } else {
                p.file_name()
                    .map_or_else(|| "capture".into(), |n| n.to_string_lossy().into_owned())
            };
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                base
            } else {
                format!("{base}-{n}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_stable() {
        let p: Vec<PathBuf> = ["a/x.pcap", "b/x.pcap", "-", "y.pcapng"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(
            unique_names(&p),
            ["x.pcap", "x.pcap-2", "stdin", "y.pcapng"]
        );
        assert!(is_capture_name(Path::new("A.PCAP.GZ")));
        assert!(!is_capture_name(Path::new("notes.txt")));
    }
}
