//! Hostile input end to end: attacker-chosen names never become spreadsheet formulas whatever
//! protocol carries them, and every limit is a flag that is counted, warned once, and survived.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use phonehome_testkit::build::{client_hello, Capture};
use phonehome_testkit::{read_csv_rows as read_csv, TempDir};

fn bin() -> Command {
    let mut c = Command::cargo_bin("phonehome-extract").expect("binary built");
    c.env_remove("NO_COLOR");
    c
}

/// Writes `capture` as `dir/name`, runs the extractor on it with `flags` into `dir/out-<name>`,
/// checks the exit status, and returns the output folder.
fn extract_into(dir: &Path, name: &str, capture: Vec<u8>, flags: &[&str], code: i32) -> PathBuf {
    let cap = dir.join(name);
    fs::write(&cap, capture).unwrap();
    let out = dir.join(format!("out-{name}"));
    bin()
        .arg("-q")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(&cap)
        .assert()
        .code(code);
    out
}

/// The leads OWASP lists for CSV injection.
const LEADS: [&str; 6] = ["=", "+", "-", "@", "\t", "\r"];

/// A DHCPREQUEST announcing `hostname` and `vendor` (options 12 and 60).
fn dhcp_request(hostname: &str, vendor: &str) -> Vec<u8> {
    let mut p = vec![0u8; 236];
    p[0] = 1; // BOOTREQUEST
    p[1] = 1; // Ethernet
    p[2] = 6;
    p[4..8].copy_from_slice(&[0x12, 0x34, 0x56, 0x78]);
    p[28..34].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
    p.extend_from_slice(&[99, 130, 83, 99]);
    p.extend_from_slice(&[53, 1, 3]);
    for (code, text) in [(12u8, hostname), (60, vendor)] {
        p.push(code);
        p.push(text.len() as u8);
        p.extend_from_slice(text.as_bytes());
    }
    p.push(255);
    p
}

/// One capture carrying `lead` at the start of a DNS name (then contacted), a TLS SNI, an HTTP
/// Host and User-Agent, and a DHCP hostname and vendor class.
fn leading(lead: &str, i: u8) -> Vec<u8> {
    let mut c = Capture::new();
    let me = [10, 0, 0, 2];
    // DNS: the name, then a connection to the address it gave (attributed by rule 2).
    let addr = [198, 51, 100, 10 + i];
    c.dns_exchange(
        (me, 40_000),
        [10, 0, 0, 1],
        7,
        &format!("{lead}dns.example"),
        &[],
        addr,
    );
    c.tcp_handshake((me, 40_001), (addr, 8443), 100, 200);
    // TLS: the SNI.
    let tls = ((me, 40_002), ([203, 0, 113, 5], 443));
    c.tcp_handshake(tls.0, tls.1, 1_000, 9_000);
    c.tcp_data(
        tls.0,
        tls.1,
        1_001,
        9_001,
        &client_hello(&format!("{lead}sni.example"), 0),
    );
    // HTTP: Host and User-Agent.
    let web = ((me, 40_003), ([203, 0, 113, 6], 80));
    c.tcp_handshake(web.0, web.1, 5_000, 7_000);
    let req = format!(
        "GET /{lead}path HTTP/1.1\r\nHost: {lead}host.example\r\nUser-Agent: {lead}agent\r\n\r\n"
    );
    c.tcp_data(web.0, web.1, 5_001, 7_001, req.as_bytes());
    // DHCP: hostname and vendor class.
    c.udp(
        ([0, 0, 0, 0], 68),
        ([255, 255, 255, 255], 67),
        &dhcp_request(&format!("{lead}dhcp-host"), &format!("{lead}vendor")),
    );
    c.finish()
}

/// A cell a spreadsheet would evaluate: `=`, `+`, `@`, tab or CR first, or `-` not starting a
/// number.
fn formula_like(cell: &str) -> bool {
    let b = cell.as_bytes();
    match b.first() {
        Some(b'=' | b'+' | b'@' | b'\t' | b'\r') => true,
        Some(b'-') => b.get(1).is_some_and(|d| !d.is_ascii_digit()),
        _ => false,
    }
}

/// Every cell of every CSV file in `dir`.
fn all_cells(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in phonehome_testkit::files_below(dir) {
        if f.extension().is_some_and(|e| e == "csv") {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_path(&f)
                .unwrap();
            for rec in r.records() {
                for cell in rec.unwrap().iter() {
                    let file = f.file_name().unwrap().to_string_lossy().into_owned();
                    out.push((file, cell.to_string()));
                }
            }
        }
    }
    out
}

#[test]
fn no_lead_becomes_a_formula_whatever_protocol_carries_it() {
    let dir = TempDir::new("leads");
    for (i, lead) in LEADS.iter().enumerate() {
        let capture = leading(lead, i as u8);
        let out = extract_into(
            dir.path(),
            &format!("lead{i}.pcap"),
            capture.clone(),
            &[],
            0,
        );
        let cells = all_cells(&out);
        let bad: Vec<_> = cells.iter().filter(|(_, c)| formula_like(c)).collect();
        assert!(bad.is_empty(), "lead {lead:?}: {bad:?}");
        // Each carrier reached a CSV file, marked as text where it would have been a formula.
        let marked = |s: &str| {
            if formula_like(s) {
                format!("'{s}")
            } else {
                s.to_string()
            }
        };
        let has = |file: &str, want: &str| {
            cells
                .iter()
                .any(|(f, c)| f == file && (c == want || c == &marked(want)))
        };
        let dns_name = match *lead {
            // DNS presentation form escapes bytes below 0x21 as \DDD, as dig does.
            "\t" => "\\009dns.example".to_string(),
            "\r" => "\\013dns.example".to_string(),
            l => format!("{l}dns.example"),
        };
        assert!(has("dns.csv", &marked(&dns_name)), "lead {lead:?}: dns.csv");
        assert!(
            has("flows.csv", &marked(&dns_name)),
            "lead {lead:?}: DNS-named flow"
        );
        assert!(
            has("hosts.csv", &marked(&dns_name)),
            "lead {lead:?}: DNS-named host"
        );
        assert!(
            has("tls.csv", &marked(&format!("{lead}sni.example"))),
            "lead {lead:?}: tls.csv sni"
        );
        assert!(
            has("local_names.csv", &marked(&format!("{lead}dhcp-host"))),
            "lead {lead:?}: DHCP hostname"
        );
        assert!(
            has("local_names.csv", &marked(&format!("{lead}vendor"))),
            "lead {lead:?}: DHCP vendor class"
        );
        if !matches!(*lead, "\t" | "\r") {
            // (HTTP trims white space around header values.)
            assert!(
                has("http.csv", &marked(&format!("{lead}host.example"))),
                "lead {lead:?}: http host"
            );
            assert!(
                has("http.csv", &marked(&format!("{lead}agent"))),
                "lead {lead:?}: user agent"
            );
        }
        // --raw-csv leaves the text as captured.
        let raw = extract_into(
            dir.path(),
            &format!("raw{i}.pcap"),
            capture,
            &["--raw-csv"],
            0,
        );
        let tls = read_csv(&raw.join("tls.csv"));
        assert_eq!(tls[0]["sni"], format!("{lead}sni.example"));
    }
}

/// `n` TLS connections that each send the first 1000 bytes of a ClientHello and no more.
fn stalled_hellos(n: u16) -> Vec<u8> {
    let hello = client_hello("stalled.example", 3000);
    let mut c = Capture::new();
    for i in 0..n {
        let client = ([10, 0, 0, 2], 30_000 + i);
        let isn = 1_000 + u32::from(i);
        c.tcp_handshake(client, ([17, 253, 4, 125], 443), isn, 9_000);
        c.tcp_data(
            client,
            ([17, 253, 4, 125], 443),
            isn + 1,
            9_001,
            &hello[..1000],
        );
    }
    c.finish()
}

/// `n` DNS answers, each for a new name and a new address.
fn dns_flood(n: u32) -> Vec<u8> {
    let mut c = Capture::new();
    for i in 0..n {
        let addr = [198, 18, (i >> 8) as u8, i as u8];
        c.dns_exchange(
            ([10, 0, 0, 2], 50_000),
            [10, 0, 0, 1],
            i as u16,
            &format!("n{i}.flood.example"),
            &[],
            addr,
        );
    }
    c.finish()
}

/// Runs the extractor with `flags` on `capture`; returns the exit code, stderr and summary.json.
fn run_limited(name: &str, capture: Vec<u8>, flags: &[&str]) -> (i32, String, serde_json::Value) {
    let dir = TempDir::new(name);
    let cap = dir.path().join(name);
    fs::write(&cap, capture).unwrap();
    let out = dir.path().join("out");
    let o = bin()
        .arg("-q")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(&cap)
        .output()
        .unwrap();
    let summary = serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    (
        o.status.code().unwrap(),
        String::from_utf8(o.stderr).unwrap(),
        summary,
    )
}

/// Lines of `stderr` that contain `what`.
fn lines_with(stderr: &str, what: &str) -> usize {
    stderr.lines().filter(|l| l.contains(what)).count()
}

#[test]
fn the_reassembly_limit_is_a_flag_counted_and_warned_once() {
    let dir = TempDir::new("stalled-flows");
    let (code, stderr, s) = run_limited(
        "stalled.pcap",
        stalled_hellos(200),
        &[
            "--max-stream-bytes",
            "4096",
            "--max-reassembly-bytes",
            "20000",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    // All 200 connections are still there, each seen as TLS from what its buffer held.
    let flags = ["--max-reassembly-bytes", "20000"];
    let out = extract_into(dir.path(), "stalled.pcap", stalled_hellos(200), &flags, 1);
    let flows = read_csv(&out.join("flows.csv"));
    assert_eq!(flows.len(), 200);
    assert!(flows.iter().all(|f| f["app"] == "tls"));
    assert_eq!(
        lines_with(&stderr, "--max-reassembly-bytes 20000"),
        1,
        "{stderr}"
    );
    assert_eq!(s["limits"]["reassembly_buffers_released"], 180);
    // With the default budget nothing is released and nothing is warned.
    let (code, stderr, s) = run_limited("stalled.pcap", stalled_hellos(200), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(s["limits"]["reassembly_buffers_released"], 0);
}

#[test]
fn the_name_table_limit_is_a_flag_counted_and_warned_once() {
    let (code, stderr, s) = run_limited(
        "flood.pcap",
        dns_flood(5_000),
        &["--max-dns-addresses", "1000"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        lines_with(&stderr, "--max-dns-addresses 1000"),
        1,
        "{stderr}"
    );
    assert_eq!(s["limits"]["dns_addresses_evicted"], 4_000);
}

#[test]
fn the_live_flow_limit_is_warned_once() {
    let (code, stderr, s) =
        run_limited("stalled.pcap", stalled_hellos(200), &["--max-flows", "50"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(lines_with(&stderr, "--max-flows 50"), 1, "{stderr}");
    assert!(s["limits"]["flows_finished_early"].as_u64().unwrap() >= 150);
}

#[test]
fn oversized_pcapng_blocks_are_skipped_and_warned_once() {
    let mut c = Capture::new_pcapng();
    let small = vec![0u8; 60];
    let big = vec![0u8; 6000];
    for f in [&small, &big, &small, &big, &small] {
        c.raw_frame(1_000, f);
    }
    let (code, stderr, s) = run_limited("big.pcapng", c.finish(), &["--max-block", "4096"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(lines_with(&stderr, "--max-block"), 1, "{stderr}");
    assert_eq!(s["limits"]["oversized_blocks_skipped"], 2);
    assert_eq!(s["packets"], 3, "{s}");
}

#[test]
fn records_spilled_to_disk_give_the_same_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut inputs = vec![
        root.join("data/samples/macos-catalina-install.pcap"),
        root.join("data/samples/handmade.pcap"),
    ];
    if let Some(c) = phonehome_testkit::corpus() {
        // Rule 3 names (dns-any) and HTTP paths come into play here.
        inputs.push(c.join("apple/ndpi/iphone.pcap"));
        inputs.push(c.join("ndpi/pcap/dns_fragmented.pcap"));
    }
    let dir = TempDir::new("spill");
    let run = |spill: &str| {
        let out = dir.path().join(format!("spill-{spill}"));
        bin()
            .args(["-q", "--spill-after", spill, "-o"])
            .arg(&out)
            .args(&inputs)
            .assert()
            .code(0);
        out
    };
    let (mem, disk) = (run("0"), run("3"));
    let files = phonehome_testkit::files_below(&mem);
    assert_eq!(files.len(), inputs.len() * 8);
    let mut spilled = 0;
    for f in files {
        let rel = f.strip_prefix(&mem).unwrap();
        let (a, b) = (fs::read(&f).unwrap(), fs::read(disk.join(rel)).unwrap());
        if rel.ends_with("summary.json") {
            let mut a: serde_json::Value = serde_json::from_slice(&a).unwrap();
            let mut b: serde_json::Value = serde_json::from_slice(&b).unwrap();
            spilled += b["limits"]["records_spilled_to_disk"].as_u64().unwrap();
            assert_eq!(a["limits"]["records_spilled_to_disk"], 0);
            a["limits"]["records_spilled_to_disk"] = 0.into();
            b["limits"]["records_spilled_to_disk"] = 0.into();
            assert_eq!(a, b, "{}", rel.display());
        } else {
            assert!(a == b, "{} differs when flows are spilled", rel.display());
        }
    }
    assert!(spilled > 100, "flows spilled: {spilled}");
}

#[test]
fn invalid_utf8_is_shown_escaped_not_dropped() {
    let mut c = Capture::new();
    let web = (([10, 0, 0, 2], 40_010), ([203, 0, 113, 7], 80));
    c.tcp_handshake(web.0, web.1, 5_000, 7_000);
    c.tcp_data(
        web.0,
        web.1,
        5_001,
        7_001,
        b"GET /caf\xe9?\xff HTTP/1.1\r\nHost: bad\xffname.example\r\nUser-Agent: A\xc3\r\n\r\n",
    );
    let dir = TempDir::new("utf8");
    let out = extract_into(dir.path(), "utf8.pcap", c.finish(), &[], 0);
    let http = read_csv(&out.join("http.csv"));
    assert_eq!(http[0]["uri"], "/caf\\xe9?\\xff");
    assert_eq!(http[0]["host"], "bad\\xffname.example");
    assert_eq!(http[0]["user_agent"], "A\\xc3");
    let flows = read_csv(&out.join("flows.csv"));
    assert_eq!(flows[0]["hostname"], "bad\\xffname.example");
}

#[test]
fn unwritable_temporary_files_keep_records_in_memory_and_warn() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cap = root.join("data/samples/macos-catalina-install.pcap");
    let dir = TempDir::new("notmp");
    let (good, bad) = (dir.path().join("good"), dir.path().join("bad"));
    bin()
        .args(["-q", "--spill-after", "0", "-o"])
        .arg(&good)
        .arg(&cap)
        .assert()
        .code(0);
    let o = bin()
        .env("TMPDIR", dir.path().join("does-not-exist"))
        .args(["-q", "--spill-after", "3", "-o"])
        .arg(&bad)
        .arg(&cap)
        .output()
        .unwrap();
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert_eq!(
        lines_with(&stderr, "temporary files could not be written"),
        1,
        "{stderr}"
    );
    for f in ["flows.csv", "dns.csv", "tls.csv", "http.csv", "hosts.csv"] {
        assert!(
            fs::read(good.join(f)).unwrap() == fs::read(bad.join(f)).unwrap(),
            "{f}"
        );
    }
}
