//! Category is relative to the vendor under study: on `apple/ndpi/tls_certificate_too_long.pcap`
//! (a Mac talking to Microsoft services) the Microsoft hosts are third-party with
//! `--vendor apple` and first-party with `--vendor microsoft`, while Apple's become third-party.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use phonehome_testkit::{corpus, is_apple, TempDir};

fn hosts(cap: &Path, vendor: &str) -> BTreeMap<String, (String, String)> {
    let dir = TempDir::new(&format!("vendor-{vendor}"));
    Command::cargo_bin("phonehome-extract")
        .unwrap()
        .args(["-q", "--vendor", vendor, "-o"])
        .arg(dir.path())
        .arg(cap)
        .assert()
        .code(0);
    let mut r = csv::Reader::from_path(dir.path().join("hosts.csv")).unwrap();
    let head = r.headers().unwrap().clone();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let (h, o, c) = (col("host"), col("owner"), col("category"));
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[h].to_string(), (rec[o].to_string(), rec[c].to_string()))
        })
        .collect()
}

#[test]
fn microsoft_hosts_switch_category_with_the_vendor() {
    let Some(corpus) = corpus() else { return };
    let cap = corpus.join("apple/ndpi/tls_certificate_too_long.pcap");
    let apple = hosts(&cap, "apple");
    let microsoft = hosts(&cap, "microsoft");
    let ms_hosts: Vec<&String> = apple
        .iter()
        .filter(|(_, (owner, _))| owner.starts_with("Microsoft"))
        .map(|(h, _)| h)
        .collect();
    assert!(ms_hosts.len() >= 2, "{apple:?}");
    for h in &ms_hosts {
        assert_eq!(apple[*h].1, "third-party", "{h} with --vendor apple");
        assert_eq!(microsoft[*h].1, "vendor", "{h} with --vendor microsoft");
    }
    assert_eq!(apple["time-macos.apple.com"].1, "vendor");
    assert_eq!(microsoft["time-macos.apple.com"].1, "third-party");
    // Local traffic stays local whoever the vendor is.
    for (h, (_, cat)) in &apple {
        if cat == "local" {
            assert_eq!(microsoft[h].1, "local", "{h}");
        }
    }
}

#[test]
fn every_apple_name_in_the_apple_corpus_is_first_party() {
    let Some(corpus) = corpus() else { return };
    let dir = TempDir::new("apple-corpus");
    Command::cargo_bin("phonehome-extract")
        .unwrap()
        .args(["-q", "--combined", "-o"])
        .arg(dir.path())
        .arg(corpus.join("apple"))
        .assert()
        .code(0);
    let mut r = csv::Reader::from_path(dir.path().join("hosts.csv")).unwrap();
    let head = r.headers().unwrap().clone();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let (h, o, c) = (col("host"), col("owner"), col("category"));
    let mut apple = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        let host = &rec[h];
        if is_apple(host) {
            apple += 1;
            assert_eq!((&rec[o], &rec[c]), ("Apple Inc.", "vendor"), "{host}");
        }
    }
    // Measured: 15 Apple host rows across the five captures; fewer means hosts went missing.
    assert!(apple >= 15, "{apple} Apple hosts");
}
