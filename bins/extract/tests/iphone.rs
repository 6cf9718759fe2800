//! `apple/ndpi/iphone.pcap` against tshark: every Apple host that tshark's SNI, HTTP Host and DNS
//! fields show is in hosts.csv with connections and the right name source, under the vendor
//! category; the CNAME chains through Akamai/Apple zones are kept in dns.csv.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;

use assert_cmd::Command as Bin;
use phonehome_testkit::{corpus, have_tool, is_apple, read_csv_rows as read_csv, TempDir};

fn tshark(file: &Path, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut c = Command::new("tshark");
    c.arg("-r").arg(file).args([
        "-Y",
        filter,
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator= ",
    ]);
    for f in fields {
        c.args(["-e", f]);
    }
    let out = c.output().expect("tshark runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn iphone_apple_hosts_and_cname_chains() {
    let Some(corpus) = corpus() else { return };
    if !have_tool("tshark") {
        return;
    }
    let cap = corpus.join("apple/ndpi/iphone.pcap");
    let dir = TempDir::new("iphone");
    Bin::cargo_bin("phonehome-extract")
        .unwrap()
        .arg("-q")
        .arg("-o")
        .arg(dir.path())
        .arg(&cap)
        .assert()
        .code(0);
    let hosts = read_csv(&dir.path().join("hosts.csv"));
    let by_host: BTreeMap<&str, &BTreeMap<String, String>> =
        hosts.iter().map(|h| (h["host"].as_str(), h)).collect();
    let flows = read_csv(&dir.path().join("flows.csv"));
    let dns = read_csv(&dir.path().join("dns.csv"));

    let expect = |name: &str, source: &str| {
        let h = by_host
            .get(name)
            .unwrap_or_else(|| panic!("{name} ({source}) missing from hosts.csv"));
        assert!(h["connections"].parse::<u64>().unwrap() > 0, "{name}");
        assert!(
            h["name_sources"].split(' ').any(|s| s == source),
            "{name}: name_sources {} lacks {source}",
            h["name_sources"]
        );
        assert_eq!(h["category"], "vendor", "{name} is Apple's");
    };
    // SNI and HTTP Host: the flow names itself.
    let snis: BTreeSet<String> = tshark(
        &cap,
        "tls.handshake.type == 1",
        &["tls.handshake.extensions_server_name"],
    )
    .into_iter()
    .filter_map(|r| r.into_iter().next().filter(|s| !s.is_empty()))
    .collect();
    assert!(snis.len() >= 10, "{snis:?}");
    for s in snis.iter().filter(|s| is_apple(s)) {
        expect(s, "sni");
    }
    let http: BTreeSet<String> = tshark(&cap, "http.request", &["http.host"])
        .into_iter()
        .filter_map(|r| r.into_iter().next().filter(|s| !s.is_empty()))
        .collect();
    for h in http.iter().filter(|h| is_apple(h)) {
        expect(h, "http");
    }
    // DNS: a name looked up and then contacted (a flow to one of its addresses carrying no name
    // of its own) is a host with source dns.
    let answers = tshark(
        &cap,
        "dns.flags.response == 1",
        &["dns.id", "dns.qry.name", "dns.cname", "dns.a", "dns.aaaa"],
    );
    let mut dns_named = 0;
    for r in &answers {
        let (qname, addrs) = (&r[1], format!("{} {}", r[3], r[4]));
        if !is_apple(qname) {
            continue;
        }
        let addrs: BTreeSet<&str> = addrs.split(' ').filter(|a| !a.is_empty()).collect();
        let contacted_unnamed = flows.iter().any(|f| {
            addrs.contains(f["server_ip"].as_str())
                && f["app"] != "dns"
                && matches!(f["name_source"].as_str(), "dns" | "dns-any")
        });
        if contacted_unnamed {
            expect(qname, "dns");
            dns_named += 1;
        }
    }
    // No Apple name lands outside the vendor category, whatever the source.
    for h in &hosts {
        if is_apple(&h["host"]) {
            assert_eq!(h["category"], "vendor", "{}", h["host"]);
        }
    }
    // CNAME chains kept, in order, for every answer tshark shows with CNAMEs.
    let mut chains = 0;
    for r in answers.iter().filter(|r| !r[2].is_empty()) {
        let id = u16::from_str_radix(r[0].trim_start_matches("0x"), 16)
            .unwrap()
            .to_string();
        let ours = dns
            .iter()
            .find(|d| d["id"] == id && d["qname"] == r[1] && d["is_response"] == "1")
            .unwrap_or_else(|| panic!("answer {id} {} missing from dns.csv", r[1]));
        assert_eq!(ours["cname_chain"], r[2], "chain of {}", r[1]);
        chains += 1;
    }
    assert!(chains >= 15, "{chains}");
    let through: Vec<&str> = ["aaplimg.com", "apple-dns.net", "akadns.net", "edgekey.net"]
        .into_iter()
        .filter(|z| dns.iter().any(|d| d["cname_chain"].contains(z)))
        .collect();
    assert_eq!(through.len(), 4, "{through:?}");
    // Flows to an Apple host with a DNS-learnt name keep the chain beside the name.
    assert!(
        flows
            .iter()
            .any(|f| f["name_source"] == "dns" && f["cname_chain"].contains("akadns.net"))
            || dns_named == 0
    );
    let _ = fs::metadata(dir.path());
}
