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
    // Symbolic links to directories are not followed (a link to `.` would loop); links to
    // files are read.
    let mut paths: Vec<(PathBuf, bool)> = entries
        .filter_map(|e| e.ok())
        .map(|e| (e.path(), e.file_type().is_ok_and(|t| t.is_dir())))
        .collect();
    paths.sort();
    for (p, is_dir) in paths {
        if is_dir {
            walk(&p, out, errors);
        } else if is_capture_name(&p) && p.is_file() {
            out.push(p);
        }
    }
}

/// Output sub-directory names for several captures: the file name, made unique with `-2`,
/// `-3`... in input order.
pub fn unique_names(paths: &[PathBuf]) -> Vec<String> {
    let mut taken = std::collections::BTreeSet::<String>::new();
    paths
        .iter()
        .map(|p| {
            let base = if p.as_os_str() == "-" {
                "stdin".to_string()
            } else {
                p.file_name()
                    .map_or_else(|| "capture".into(), |n| n.to_string_lossy().into_owned())
            };
            // A suffix that no other input took, not even one whose own name ends in `-2`.
            let mut name = base.clone();
            let mut n = 1;
            while taken.contains(&name) {
                n += 1;
                name = format!("{base}-{n}");
            }
            taken.insert(name.clone());
            name
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
