//! End-to-end runs of the real `phonehome-extract` binary: the terminal table (snapshot), output
//! files, determinism, spreadsheet safety, exit codes, stdin, batches.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use phonehome_testkit::build::{client_hello, Capture};
use phonehome_testkit::{corpus, read_csv_rows as read_csv, TempDir};

fn bin() -> Command {
    let mut c = Command::cargo_bin("phonehome-extract").expect("binary built");
    c.env_remove("NO_COLOR");
    c
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sample() -> PathBuf {
    root().join("data/samples/handmade.pcap")
}

/// Every file below `dir` with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    phonehome_testkit::files_below(dir)
        .into_iter()
        .map(|p| {
            let b = fs::read(&p).unwrap();
            (p.strip_prefix(dir).unwrap().to_path_buf(), b)
        })
        .collect()
}

#[test]
fn sample_terminal_table() {
    let out = bin()
        .args(["--color", "never"])
        .arg(sample())
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    // The file name as given is the first line; make it independent of the checkout path.
    let text = text.replace(&sample().display().to_string(), "handmade.pcap");
    insta::assert_snapshot!("sample_table", text);
}

#[test]
fn sample_files_have_the_contract_columns() {
    let dir = TempDir::new("sample-files");
    bin()
        .arg("-q")
        .arg("-o")
        .arg(dir.path())
        .arg(sample())
        .assert()
        .code(0);
    for (file, first) in [
        ("flows.csv", "id,start,end,rel_s,duration_s,proto,client_ip,client_port,server_ip,server_port,vlan,conn_state,history,packets_up,packets_down,ip_bytes_up,ip_bytes_down,payload_bytes_up,payload_bytes_down,app,hostname,name_source,registrable_domain,owner,category,role"),
        ("hosts.csv", "host,registrable_domain,owner,operator,category,role,confidence,connections,tcp_connections,udp_flows,packets_up,packets_down,ip_bytes_up,ip_bytes_down,payload_bytes_up,payload_bytes_down,first_seen_s,last_seen_s,server_ips,ports,apps,name_sources"),
        ("dns.csv", "ts,rel_s,client_ip,server_ip,id,qname,qtype,rcode,answers,cname_chain,ttl_min"),
        ("tls.csv", "ts,rel_s,flow_id,sni,versions,alpn,ja3,ja4"),
        ("http.csv", "ts,rel_s,flow_id,method,host,uri,user_agent,content_type"),
        ("fingerprints.csv", "client_ip,kind,tcpdump,p0f,flags,ttl,initial_ttl,window,mss,wscale,os_guess,confidence,count"),
        ("local_names.csv", "name,address,source"),
    ] {
        let text = fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(text.starts_with(first), "{file}: {}", text.lines().next().unwrap_or(""));
    }
    let hosts = read_csv(&dir.path().join("hosts.csv"));
    let albert = hosts
        .iter()
        .find(|h| h["host"] == "albert.apple.com")
        .unwrap();
    assert_eq!(albert["category"], "vendor");
    assert_eq!(albert["role"], "activation");
    assert_eq!(albert["name_sources"], "sni");
    assert_eq!(albert["tcp_connections"], "1");
    // The diary's SYN, as tcpdump prints it (per-packet values starred) and as p0f signs it.
    let fps = read_csv(&dir.path().join("fingerprints.csv"));
    let syn = fps.iter().find(|f| f["kind"] == "syn").unwrap();
    assert_eq!(
        syn["tcpdump_normalised"],
        "Flags [SEW], seq *, win 65535, options [mss 1460,nop,wscale 6,nop,nop,TS val * ecr 0,sackOK,eol], length 0"
    );
    assert_eq!(
        syn["p0f"],
        "4:64+0:0:1460:65535,6:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+,ecn:0"
    );
    assert_eq!(
        (syn["flags_byte"].as_str(), syn["count"].as_str()),
        ("0xc2", "3")
    );
    let www = hosts.iter().find(|h| h["host"] == "www.apple.com").unwrap();
    assert_eq!(www["role"], "connectivity-check");
    let time = hosts
        .iter()
        .find(|h| h["host"] == "time.apple.com")
        .unwrap();
    assert_eq!(
        (time["apps"].as_str(), time["name_sources"].as_str()),
        ("ntp", "dns")
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    for k in [
        "file",
        "format",
        "link_types",
        "packets",
        "bytes",
        "first_ts",
        "last_ts",
        "duration_s",
        "flows",
        "hosts",
        "categories",
        "warnings",
        "tool_version",
        "rules_version",
    ] {
        assert!(summary.get(k).is_some(), "summary.json lacks {k}");
    }
    assert_eq!(summary["packets"], 39);
    assert_eq!(summary["categories"]["vendor"]["hosts"], 4);
}

#[test]
fn json_and_jsonl_carry_the_same_rows() {
    let csv_dir = TempDir::new("fmt-csv");
    let json_dir = TempDir::new("fmt-json");
    let jsonl_dir = TempDir::new("fmt-jsonl");
    for (d, f) in [
        (&csv_dir, "csv"),
        (&json_dir, "json"),
        (&jsonl_dir, "jsonl"),
    ] {
        bin()
            .args(["-q", "--format", f, "-o"])
            .arg(d.path())
            .arg(sample())
            .assert()
            .code(0);
    }
    let rows = read_csv(&csv_dir.path().join("flows.csv"));
    let json: Vec<serde_json::Value> =
        serde_json::from_slice(&fs::read(json_dir.path().join("flows.json")).unwrap()).unwrap();
    let jsonl = fs::read_to_string(jsonl_dir.path().join("flows.jsonl")).unwrap();
    assert_eq!(rows.len(), json.len());
    assert_eq!(rows.len(), jsonl.lines().count());
    for (r, j) in rows.iter().zip(&json) {
        assert_eq!(r["id"], j["id"].to_string());
        assert_eq!(r["hostname"], j["hostname"].as_str().unwrap_or(""));
        assert_eq!(r["packets_up"], j["packets_up"].to_string());
    }
    // Without -o, --format prints the host table to stdout.
    let out = bin()
        .args(["--format", "csv"])
        .arg(sample())
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("host,registrable_domain,"));
}

/// A capture whose ClientHello names `sni`, split over two segments sent out of order with a
/// retransmission, followed by an HTTP request whose Host is hostile too.
fn hostile_capture(sni: &str) -> Vec<u8> {
    let mut c = Capture::new();
    let (cl, sv) = (([10, 0, 0, 2], 50_000), ([17, 253, 1, 1], 443));
    c.tcp_handshake(cl, sv, 1000, 9000);
    let hello = client_hello(sni, 1500);
    let (a, b) = hello.split_at(1000);
    c.tcp_data(cl, sv, 1001 + 1000, 9001, b);
    c.tcp_data(cl, sv, 1001, 9001, a);
    c.tcp_data(cl, sv, 1001, 9001, a);
    c.tcp_data(
        sv,
        cl,
        9001,
        1001 + hello.len() as u32,
        &[22, 3, 3, 0, 2, 2, 0],
    );
    let web = (([10, 0, 0, 2], 50_001), ([93, 184, 216, 34], 80));
    c.tcp_handshake(web.0, web.1, 5000, 7000);
    c.tcp_data(
        web.0,
        web.1,
        5001,
        7001,
        b"GET /x HTTP/1.1\r\nHost: @evil\x1b[2J.example\r\nUser-Agent: +cmd|' /C calc'!A0\r\n\r\n",
    );
    c.finish()
}

#[test]
fn formulas_from_the_capture_open_as_text() {
    let dir = TempDir::new("formula");
    let cap = dir.path().join("hyperlink.pcap");
    fs::write(&cap, hostile_capture("=HYPERLINK(\"x\")")).unwrap();
    let out_dir = dir.path().join("out");
    bin()
        .arg("-q")
        .arg("-o")
        .arg(&out_dir)
        .arg(&cap)
        .assert()
        .code(0);
    let tls = read_csv(&out_dir.join("tls.csv"));
    assert_eq!(
        tls.len(),
        1,
        "the split, reordered, retransmitted ClientHello is dissected once"
    );
    assert_eq!(tls[0]["sni"], "'=hyperlink(\"x\")");
    let flows = read_csv(&out_dir.join("flows.csv"));
    assert_eq!(flows[0]["hostname"], "'=hyperlink(\"x\")");
    assert_eq!(flows[0]["name_source"], "sni");
    let http = read_csv(&out_dir.join("http.csv"));
    assert_eq!(http[0]["host"], "'@evil\u{1b}[2J.example");
    assert_eq!(http[0]["user_agent"], "'+cmd|' /C calc'!A0");
    let hosts = read_csv(&out_dir.join("hosts.csv"));
    assert!(hosts.iter().any(|h| h["host"] == "'=hyperlink(\"x\")"));
    // --raw-csv keeps the text as captured.
    let raw_dir = dir.path().join("raw");
    bin()
        .args(["-q", "--raw-csv", "-o"])
        .arg(&raw_dir)
        .arg(&cap)
        .assert()
        .code(0);
    assert_eq!(
        read_csv(&raw_dir.join("tls.csv"))[0]["sni"],
        "=hyperlink(\"x\")"
    );
    // The terminal never receives the escape character.
    let out = bin()
        .arg("--color")
        .arg("always")
        .arg(&cap)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("@evil\\x1b[2j.example"), "{text}");
    assert!(!text.contains("@evil\u{1b}"));
}

#[test]
fn threads_and_reruns_give_identical_bytes() {
    let Some(corpus) = corpus() else { return };
    let mut inputs = vec![
        sample(),
        corpus.join("apple/ndpi/iphone.pcap"),
        corpus.join("ndpi/pcap/dns_fragmented.pcap"),
        corpus.join("ndpi/pcap/443-chrome.pcap"),
        corpus.join("ndpi/pcap/http_ua_splitted_in_two_pkts.pcapng"),
    ];
    inputs.retain(|p| p.exists());
    let run = |threads: &str, name: &str, combined: bool| {
        let d = TempDir::new(name);
        let mut c = bin();
        c.args(["-q", "--threads", threads, "-o"]).arg(d.path());
        if combined {
            c.arg("--combined");
        }
        c.args(&inputs).assert().code(0);
        d
    };
    let one = run("1", "det-1", false);
    let two = run("2", "det-2", false);
    let again = run("2", "det-2b", false);
    let (t1, t2, t3) = (tree(one.path()), tree(two.path()), tree(again.path()));
    assert_eq!(
        t1.len(),
        inputs.len() * 8,
        "seven tables and summary.json each"
    );
    assert!(t1 == t2, "--threads 1 and --threads 2 differ");
    assert!(t2 == t3, "two runs differ");
    let c1 = tree(run("1", "det-c1", true).path());
    let c2 = tree(run("2", "det-c2", true).path());
    assert!(c1 == c2, "--combined differs by thread count");
    let flows = String::from_utf8(c1[Path::new("flows.csv")].clone()).unwrap();
    assert!(flows.starts_with("capture,id,start,"));
    assert!(flows.contains("\r\niphone.pcap,"));
}

#[test]
fn damaged_and_missing_captures_set_the_exit_code() {
    let dir = TempDir::new("exit");
    let whole = fs::read(sample()).unwrap();
    let cut = dir.path().join("cut.pcap");
    fs::write(&cut, &whole[..whole.len() - 30]).unwrap();
    let out_dir = dir.path().join("out");
    let out = bin()
        .arg("-q")
        .arg("-o")
        .arg(&out_dir)
        .arg(&cut)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("cut.pcap") && err.contains("byte offset"),
        "{err}"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(out_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["packets"], 38);
    assert!(summary["warnings"][0]["offset"].as_u64().unwrap() > 24);
    // A missing file and a text file are errors; the good capture is still written.
    let text = dir.path().join("notes.txt");
    fs::write(&text, "not a capture\n").unwrap();
    let batch = dir.path().join("batch");
    let out = bin()
        .arg("-q")
        .arg("-o")
        .arg(&batch)
        .arg(dir.path().join("missing.pcap"))
        .arg(&text)
        .arg(sample())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("missing.pcap") && err.contains("notes.txt"),
        "{err}"
    );
    assert!(batch.join("handmade.pcap/hosts.csv").is_file());
    // Bad arguments.
    bin()
        .arg("--sort")
        .arg("nonsense")
        .arg(sample())
        .assert()
        .code(2);
    bin()
        .args(["--vendor", "acme"])
        .arg(sample())
        .assert()
        .code(2);
}

#[test]
fn stdin_equals_the_file() {
    let a = TempDir::new("stdin-a");
    let b = TempDir::new("stdin-b");
    bin()
        .arg("-q")
        .arg("-o")
        .arg(a.path())
        .arg(sample())
        .assert()
        .code(0);
    bin()
        .args(["-q", "-o"])
        .arg(b.path())
        .arg("-")
        .write_stdin(fs::read(sample()).unwrap())
        .assert()
        .code(0);
    for f in ["flows.csv", "hosts.csv", "dns.csv", "tls.csv", "http.csv"] {
        assert_eq!(
            fs::read(a.path().join(f)).unwrap(),
            fs::read(b.path().join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn directories_are_searched_and_names_kept_apart() {
    let dir = TempDir::new("dirs");
    for sub in ["a", "b"] {
        fs::create_dir_all(dir.path().join(sub)).unwrap();
        fs::copy(sample(), dir.path().join(sub).join("boot.pcap")).unwrap();
    }
    fs::write(dir.path().join("a/readme.txt"), "ignored").unwrap();
    let out = dir.path().join("out");
    bin()
        .arg("-q")
        .arg("-o")
        .arg(&out)
        .arg(dir.path().join("a"))
        .arg(dir.path().join("b"))
        .assert()
        .code(0);
    assert!(out.join("boot.pcap/flows.csv").is_file());
    assert!(out.join("boot.pcap-2/flows.csv").is_file());
}

#[test]
fn time_window_keeps_the_first_seconds() {
    let dir = TempDir::new("window");
    bin()
        .args(["-q", "--until", "0.2", "-o"])
        .arg(dir.path())
        .arg(sample())
        .assert()
        .code(0);
    let hosts = read_csv(&dir.path().join("hosts.csv"));
    let names: Vec<&str> = hosts.iter().map(|h| h["host"].as_str()).collect();
    assert!(names.contains(&"time.apple.com"), "{names:?}");
    assert!(!names.contains(&"ocsp.apple.com"), "{names:?}");
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert!(summary["filtered"].as_u64().unwrap() > 0);
}

#[test]
fn explain_names_the_rule() {
    let out = bin()
        .args(["--explain", "gspe21-ssl.ls.apple.com"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("ls.apple.com") && text.contains("maps"),
        "{text}"
    );
}

#[test]
fn port_reuse_and_idle_gaps_start_new_flows() {
    use phonehome_testkit::build::flags::{ACK, RST};
    let mut c = Capture::new();
    let (cl, sv) = (([10, 0, 0, 2], 49_500), ([17, 253, 1, 1], 443));
    // A whole connection, then the same 5-tuple again 2 s later (port reuse in a boot).
    c.connection(cl, sv, b"\x16\x03\x01\x00\x01\x01", b"reply");
    c.t_us += 2_000_000;
    c.tcp_handshake(cl, sv, 7_000, 9_000);
    c.tcp_after(1_000, cl, sv, 7_001, 9_001, RST | ACK, &[], &[]);
    // A UDP exchange, then silence past the 60 s UDP timeout, then more on the same 5-tuple.
    let (dc, ds) = (([10, 0, 0, 2], 50_000), ([17, 253, 4, 125], 123));
    c.udp(dc, ds, &[0x23; 48]);
    c.udp(ds, dc, &[0x24; 48]);
    c.t_us += 61_000_000;
    c.udp(dc, ds, &[0x23; 48]);
    let dir = TempDir::new("reuse");
    let cap = dir.path().join("reuse.pcap");
    fs::write(&cap, c.finish()).unwrap();
    let out = dir.path().join("out");
    bin()
        .arg("-q")
        .arg("-o")
        .arg(&out)
        .arg(&cap)
        .assert()
        .code(0);
    let flows = read_csv(&out.join("flows.csv"));
    let states: Vec<(&str, &str, &str)> = flows
        .iter()
        .map(|f| {
            (
                f["proto"].as_str(),
                f["conn_state"].as_str(),
                f["history"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("tcp", "SF", "ShADdFf"),
            ("tcp", "RSTO", "ShAR"),
            ("udp", "SF", ""),
            ("udp", "S0", ""),
        ]
    );
    let hosts = read_csv(&out.join("hosts.csv"));
    let tcp_host = hosts.iter().find(|h| h["host"] == "17.253.1.1").unwrap();
    assert_eq!(tcp_host["tcp_connections"], "2");
    assert_eq!(
        tcp_host["category"], "vendor",
        "17.0.0.0/8 is Apple's by range"
    );
    // --udp-idle longer than the gap keeps one UDP flow.
    let out2 = dir.path().join("out2");
    bin()
        .args(["-q", "--udp-idle", "120", "-o"])
        .arg(&out2)
        .arg(&cap)
        .assert()
        .code(0);
    assert_eq!(read_csv(&out2.join("flows.csv")).len(), 3);
}

#[test]
fn user_rules_add_owners_and_bad_rules_are_refused() {
    let dir = TempDir::new("rules");
    let rules = dir.path().join("mine.toml");
    fs::write(
        &rules,
        r#"schema = 1

[owners.acme]
name = "Acme Resolvers"
source = "our network team"

[[rule]]
pattern = "192.168.1.1"
match = "exact"
owner = "acme"
role = "dns"
source = "our network team"
"#,
    )
    .unwrap();
    // An address is not a name rule: the loader refuses it, naming the file.
    let out = bin()
        .arg("--rules")
        .arg(&rules)
        .arg(sample())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("mine.toml"));
    fs::write(
        &rules,
        r#"schema = 1

[owners.acme]
name = "Acme Time"
source = "our network team"

[[rule]]
pattern = "time.apple.com"
match = "exact"
owner = "acme"
role = "time"
source = "a test that overrides a built-in rule"
"#,
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    bin()
        .args(["-q", "--rules"])
        .arg(&rules)
        .arg("-o")
        .arg(&out_dir)
        .arg(sample())
        .assert()
        .code(0);
    let hosts = read_csv(&out_dir.join("hosts.csv"));
    let time = hosts
        .iter()
        .find(|h| h["host"] == "time.apple.com")
        .unwrap();
    assert_eq!(
        (time["owner"].as_str(), time["category"].as_str()),
        ("Acme Time", "third-party")
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(out_dir.join("summary.json")).unwrap()).unwrap();
    assert!(summary["rules_version"]
        .as_str()
        .unwrap()
        .ends_with("+user"));
}

#[test]
fn fragmented_dns_answers_are_reassembled_and_dissected() {
    let Some(corpus) = corpus() else { return };
    let dir = TempDir::new("frag");
    bin()
        .arg("-q")
        .arg("-o")
        .arg(dir.path())
        .arg(corpus.join("ndpi/pcap/dns_fragmented.pcap"))
        .assert()
        .code(0);
    let dns = read_csv(&dir.path().join("dns.csv"));
    // IPv4 (weberlab.de DNSKEY) and IPv6 (fg2.weberlab.de A) answers arrive in fragments.
    let answered = |q: &str, t: &str| {
        dns.iter().any(|d| {
            d["qname"] == q && d["qtype"] == t && d["is_response"] == "1" && d["rcode"] == "NOERROR"
        })
    };
    assert!(answered("weberlab.de", "DNSKEY"));
    assert!(answered("fg2.weberlab.de", "A"));
    let flows = read_csv(&dir.path().join("flows.csv"));
    let first = &flows[0];
    // One reassembled datagram each way; its bytes are the fragments' IP lengths together.
    assert_eq!(
        (first["packets_up"].as_str(), first["packets_down"].as_str()),
        ("1", "1")
    );
    assert_eq!(first["ip_bytes_down"], "1750");
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["fragments"]["fragments"], 14);
    assert_eq!(summary["fragments"]["reassembled"], 7);
    assert_eq!(summary["fragments"]["abandoned"], 0);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    // Not a terminal (a pipe), no --color: no escape sequences.
    let plain = bin().arg(sample()).output().unwrap();
    assert!(!String::from_utf8(plain.stdout).unwrap().contains('\u{1b}'));
    let forced = bin()
        .args(["--color", "always"])
        .arg(sample())
        .output()
        .unwrap();
    assert!(String::from_utf8(forced.stdout)
        .unwrap()
        .contains("\u{1b}[1m"));
    // And no progress bar on a stderr that is not a terminal.
    assert!(!String::from_utf8(plain.stderr).unwrap().contains('\u{1b}'));
}

/// A pcapng with one interface whose timestamps count whole seconds, holding two copies of
/// `frame` stamped `ts` and `ts - 1` units.
fn pcapng_with_times(frame: &[u8], ts: u64) -> Vec<u8> {
    let mut b = Vec::new();
    // Section header.
    b.extend_from_slice(&0x0a0d_0d0au32.to_le_bytes());
    b.extend_from_slice(&28u32.to_le_bytes());
    b.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&u64::MAX.to_le_bytes());
    b.extend_from_slice(&28u32.to_le_bytes());
    // Interface: Ethernet, if_tsresol = 10^0.
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&32u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&65535u32.to_le_bytes());
    b.extend_from_slice(&[9, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    b.extend_from_slice(&32u32.to_le_bytes());
    for t in [ts, ts - 1] {
        let padded = frame.len().div_ceil(4) * 4;
        let len = (32 + padded) as u32;
        b.extend_from_slice(&6u32.to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&((t >> 32) as u32).to_le_bytes());
        b.extend_from_slice(&(t as u32).to_le_bytes());
        b.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        b.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        b.extend_from_slice(frame);
        b.resize(b.len() + padded - frame.len(), 0);
        b.extend_from_slice(&len.to_le_bytes());
    }
    b
}

#[test]
fn hostile_timestamps_stay_rfc3339_and_never_panic() {
    let mut c = Capture::new();
    c.udp(([10, 0, 0, 2], 5000), ([17, 253, 4, 125], 123), &[0x23; 48]);
    let pcap = c.finish();
    let frame = &pcap[24 + 16..];
    let dir = TempDir::new("times");
    for (i, ts) in [1u64 << 63, u64::MAX, 1 << 62].into_iter().enumerate() {
        let cap = dir.path().join(format!("t{i}.pcapng"));
        fs::write(&cap, pcapng_with_times(frame, ts)).unwrap();
        let out = dir.path().join(format!("out{i}"));
        bin()
            .arg("-q")
            .arg("-o")
            .arg(&out)
            .arg(&cap)
            .assert()
            .code(0);
        let flows = read_csv(&out.join("flows.csv"));
        assert_eq!(flows.len(), 1);
        for col in ["start", "end"] {
            let t = &flows[0][col];
            // Beyond year 9999: clamped there, still RFC 3339.
            assert_eq!(t, "9999-12-31T23:59:59.999999Z");
        }
    }
}

#[test]
fn outputs_are_never_replaced_silently_nor_left_half_written() {
    let dir = TempDir::new("force");
    bin()
        .arg("-q")
        .arg("-o")
        .arg(dir.path())
        .arg(sample())
        .assert()
        .code(0);
    let first = fs::read(dir.path().join("flows.csv")).unwrap();
    let again = bin()
        .arg("-q")
        .arg("-o")
        .arg(dir.path())
        .arg(sample())
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8(again.stderr).unwrap().contains("--force"));
    bin()
        .args(["-q", "--force", "-o"])
        .arg(dir.path())
        .arg(sample())
        .assert()
        .code(0);
    assert_eq!(fs::read(dir.path().join("flows.csv")).unwrap(), first);
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".partial")), "{names:?}");
}

#[test]
fn the_live_flow_limit_is_a_flag() {
    let dir = TempDir::new("maxflows");
    bin()
        .args(["-q", "--max-flows", "2", "-o"])
        .arg(dir.path())
        .arg(sample())
        .assert()
        .code(1);
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert!(summary["limits"]["flows_finished_early"].as_u64().unwrap() > 0);
}

/// One capture and two threads: the capture is read on a thread of its own while the other
/// analyses it, handing read buffers over without copying. Every output byte must be the same
/// as with one thread, for files spanning many read buffers, damaged files, gzip and stdin.
#[test]
fn one_capture_read_ahead_gives_the_same_bytes() {
    use std::io::Write;
    let dir = TempDir::new("ahead");
    let install = root().join("data/samples/macos-catalina-install.pcap");
    let whole = fs::read(&install).unwrap();
    assert!(whole.len() > 3 << 20, "spans several 1 MiB read buffers");
    let cut = dir.path().join("cut.pcap");
    fs::write(&cut, &whole[..whole.len() * 2 / 3]).unwrap();
    let gz = dir.path().join("install.pcap.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&whole).unwrap();
    fs::write(&gz, enc.finish().unwrap()).unwrap();
    let mut inputs = vec![install.clone(), cut, gz];
    match corpus() {
        Some(c) => inputs.extend(
            [
                "general/pcapplusplus/many-protocols.pcap",
                "general/pcapplusplus/tls2.pcap",
                "ndpi/pcap/1kxun.pcap",
                "malformed/pcap-parser/wireshark_samples-test.pcapng",
            ]
            .map(|p| c.join(p)),
        ),
        None => eprintln!("corpus absent: read-ahead checked on the project's samples only"),
    }
    let run = |threads: &str, input: &Path, n: usize| {
        let d = TempDir::new(&format!("ahead-{threads}-{n}"));
        let out = bin()
            .args(["-q", "--threads", threads, "-o"])
            .arg(d.path())
            .arg(input)
            .output()
            .unwrap();
        (out.status.code(), out.stderr, tree(d.path()), d)
    };
    for (n, input) in inputs.iter().enumerate() {
        let (c1, e1, t1, _d1) = run("1", input, n);
        let (c2, e2, t2, _d2) = run("2", input, n);
        assert!(
            c1 == Some(0) || c1 == Some(1),
            "{}: {c1:?}",
            input.display()
        );
        assert_eq!((c1, &e1), (c2, &e2), "{}", input.display());
        assert_eq!(t1.len(), 8, "{}", input.display());
        assert!(t1 == t2, "{}: --threads 1 and 2 differ", input.display());
    }
    // The damaged copy still warns, with the byte offset, and keeps its flows.
    let (code, err, t, _d) = run("2", &inputs[1], 99);
    assert_eq!(code, Some(1));
    assert!(String::from_utf8_lossy(&err).contains("offset"), "{err:?}");
    assert!(t
        .iter()
        .any(|(p, b)| p.ends_with("flows.csv") && b.len() > 1000));
    // Standard input, read ahead the same way.
    let stdin = |threads: &str| {
        let d = TempDir::new(&format!("ahead-stdin-{threads}"));
        bin()
            .args(["-q", "--threads", threads, "-o"])
            .arg(d.path())
            .arg("-")
            .pipe_stdin(&install)
            .unwrap()
            .assert()
            .code(0);
        (tree(d.path()), d)
    };
    assert!(
        stdin("1").0 == stdin("2").0,
        "stdin: --threads 1 and 2 differ"
    );
}
