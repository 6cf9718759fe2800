//! The extractor on the project's Catalina samples gives the diary's numbers.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use phonehome_testkit::{read_csv_rows, TempDir};

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../data/samples/{name}.pcap"))
}

fn hosts(name: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let dir = TempDir::new(name);
    Command::cargo_bin("phonehome-extract")
        .unwrap()
        .arg("-q")
        .arg("-o")
        .arg(dir.path())
        .arg(sample(name))
        .assert()
        .code(0);
    read_csv_rows(&dir.path().join("hosts.csv"))
}

#[test]
fn install_has_the_diary_volumes() {
    let h = hosts("macos-catalina-install");
    let get = |n: &str| {
        h.iter()
            .find(|r| r["host"] == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    let gspe = get("gspe21-ssl.ls.apple.com");
    assert_eq!(gspe["connections"], "206");
    assert_eq!(gspe["payload_bytes_down"], "23000000");
    let swscan = get("swscan.apple.com");
    assert_eq!(swscan["connections"], "18");
    assert_eq!(swscan["payload_bytes_down"], "42000000");
    for r in [gspe, swscan] {
        assert_eq!(
            (r["category"].as_str(), r["name_sources"].as_str()),
            ("vendor", "sni")
        );
    }
    // NTP to time.apple.com is the first contact (the resolver aside).
    let first = h
        .iter()
        .filter(|r| r["role"] != "dns")
        .min_by(|a, b| {
            a["first_seen_s"]
                .parse::<f64>()
                .unwrap()
                .total_cmp(&b["first_seen_s"].parse::<f64>().unwrap())
        })
        .unwrap();
    assert_eq!(
        (first["host"].as_str(), first["apps"].as_str()),
        ("time.apple.com", "ntp")
    );
    assert_eq!(get("www.apple.com")["role"], "connectivity-check");
    assert_eq!(get("ocsp.apple.com")["role"], "cert-status");
}

#[test]
fn first_boot_reaches_the_third_parties() {
    let h = hosts("macos-catalina-firstboot");
    for n in phonehome_testkit::FIRST_BOOT_THIRD_PARTIES.iter().copied() {
        let r = h
            .iter()
            .find(|r| r["host"] == n)
            .unwrap_or_else(|| panic!("{n}"));
        assert_eq!(r["category"], "third-party", "{n}");
        assert_eq!(r["connections"], "1", "{n}");
    }
    let time = h.iter().find(|r| r["host"] == "time.apple.com").unwrap();
    assert_eq!(time["category"], "vendor");
}
