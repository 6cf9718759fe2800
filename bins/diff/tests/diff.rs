//! End-to-end runs of `phonehome-diff` on the Catalina samples and on IoT setups.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use phonehome_testkit::{corpus, read_csv_rows, TempDir};

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../data/samples/{name}.pcap"))
}

fn diff() -> Command {
    let mut c = Command::cargo_bin("phonehome-diff").unwrap();
    c.env_remove("NO_COLOR");
    c
}

/// Runs the diff with `-o` and returns (exit code, rows by key).
fn rows(a: &Path, b: &Path, extra: &[&str]) -> (i32, BTreeMap<String, BTreeMap<String, String>>) {
    let dir = TempDir::new("diff");
    let out = dir.path().join("diff.csv");
    let o = diff()
        .args(extra)
        .arg("-o")
        .arg(&out)
        .arg(a)
        .arg(b)
        .output()
        .unwrap();
    let code = o.status.code().unwrap();
    let rows = read_csv_rows(&out)
        .into_iter()
        .map(|r| (r["key"].clone(), r))
        .collect();
    (code, rows)
}

#[test]
fn install_versus_first_boot() {
    let (i, f) = (
        sample("macos-catalina-install"),
        sample("macos-catalina-firstboot"),
    );
    let (code, r) = rows(&i, &f, &[]);
    assert_eq!(code, 1, "differences exit 1, as diff(1)");
    for h in phonehome_testkit::FIRST_BOOT_THIRD_PARTIES.iter().copied() {
        assert_eq!(r[h]["status"], "added", "{h}");
        assert_eq!(r[h]["category"], "third-party", "{h}");
    }
    assert_eq!(r["swscan.apple.com"]["status"], "removed");
    assert_eq!(r["gspe21-ssl.ls.apple.com"]["status"], "removed");
    assert_eq!(r["gspe21-ssl.ls.apple.com"]["connections_a"], "206");
    assert!(matches!(
        r["time.apple.com"]["status"].as_str(),
        "same" | "changed"
    ));
    // The biggest change comes first.
    let dir = TempDir::new("order");
    let p = dir.path().join("d.csv");
    diff().arg("-o").arg(&p).arg(&i).arg(&f).assert().code(1);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("swscan.apple.com,removed"));
    // Reports.
    let term = diff().arg(&i).arg(&f).output().unwrap();
    insta::assert_snapshot!(
        "install_vs_firstboot_terminal",
        String::from_utf8(term.stdout).unwrap()
    );
    let md = diff()
        .args(["--format", "markdown"])
        .arg(&i)
        .arg(&f)
        .output()
        .unwrap();
    insta::assert_snapshot!(
        "install_vs_firstboot_markdown",
        String::from_utf8(md.stdout).unwrap()
    );
}

#[test]
fn identity_mirror_and_folders() {
    let (i, f) = (
        sample("macos-catalina-install"),
        sample("macos-catalina-firstboot"),
    );
    let (code, same) = rows(&i, &i, &[]);
    assert_eq!(code, 0);
    assert!(same.values().all(|r| r["status"] == "same"));
    let (_, ab) = rows(&i, &f, &[]);
    let (_, ba) = rows(&f, &i, &[]);
    assert_eq!(ab.len(), ba.len());
    for (k, r) in &ab {
        let m = &ba[k];
        fn flip(s: &str) -> &str {
            match s {
                "added" => "removed",
                "removed" => "added",
                s => s,
            }
        }
        assert_eq!(flip(&r["status"]), m["status"], "{k}");
        for (x, y) in [
            ("connections_a", "connections_b"),
            ("bytes_down_a", "bytes_down_b"),
            ("bytes_up_a", "bytes_up_b"),
        ] {
            assert_eq!(r[x], m[y], "{k} {x}");
        }
    }
    // Extractor output folders (and their summary.json) give the same answer as the captures.
    let dir = TempDir::new("folders");
    let (da, db) = (dir.path().join("a"), dir.path().join("b"));
    let extract = extract_bin();
    if !extract.is_file() {
        assert!(
            !phonehome_testkit::in_ci(),
            "{} not built",
            extract.display()
        );
        eprintln!("SKIPPED: build phonehome-extract first (cargo test --workspace does)");
        return;
    }
    for (d, s) in [(&da, &i), (&db, &f)] {
        let st = std::process::Command::new(&extract)
            .arg("-q")
            .arg("-o")
            .arg(d)
            .arg(s)
            .status()
            .unwrap();
        assert!(st.success());
    }
    let (_, from_dirs) = rows(&da, &db, &[]);
    assert_eq!(from_dirs, ab);
    let (_, from_summary) = rows(&da.join("summary.json"), &db, &[]);
    assert_eq!(from_summary, ab);
    // Levels and noise controls.
    let (_, by_cat) = rows(&i, &f, &["--by", "category"]);
    assert_eq!(by_cat["third-party"]["status"], "added");
    let (_, big) = rows(&i, &f, &["--min-bytes", "1000000"]);
    assert!(big
        .keys()
        .all(|k| k.contains("swscan") || k.contains("gspe21") || k.contains("swcdn")));
    let (_, added) = rows(&i, &f, &["--only", "added", "--ignore-local"]);
    assert!(added
        .values()
        .all(|r| r["status"] == "added" && r["category"] != "local"));
    diff().arg(&i).assert().code(2);
}

/// The extractor binary beside this one.
fn extract_bin() -> PathBuf {
    let me = PathBuf::from(env!("CARGO_BIN_EXE_phonehome-diff"));
    me.with_file_name("phonehome-extract")
}

#[test]
fn same_device_setups_differ_less_than_different_devices() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("general/iot-sentinel");
    let setup = |d: &str, n: u32| dir.join(d).join(format!("Setup-A-{n}-STA.pcap"));
    let changed = |a: &Path, b: &Path| {
        let (_, r) = rows(a, b, &["--ignore-local"]);
        r.values()
            .filter(|x| x["status"] == "added" || x["status"] == "removed")
            .count()
    };
    let mut same = Vec::new();
    let mut different = Vec::new();
    for d in ["Aria", "HueBridge", "WeMoSwitch"] {
        same.push(changed(&setup(d, 1), &setup(d, 2)));
    }
    for (x, y) in [
        ("Aria", "HueBridge"),
        ("HueBridge", "WeMoSwitch"),
        ("Aria", "WeMoSwitch"),
    ] {
        different.push(changed(&setup(x, 1), &setup(y, 1)));
    }
    let (s, d): (usize, usize) = (same.iter().sum(), different.iter().sum());
    println!("hosts added+removed: same device {same:?} (total {s}), different devices {different:?} (total {d})");
    assert!(s * 2 < d, "same {same:?} vs different {different:?}");
}
