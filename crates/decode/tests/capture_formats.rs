//! Capture reading end to end on real captures: compressed and piped input give the same frames
//! as the plain file; damaged input keeps every whole record before the damage and says where it
//! is; timestamps and lengths equal tshark's for every container variant in the corpus.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use phonehome_decode::{CaptureReader, WarningKind};

/// (offset, timestamp, link type, orig len, data) of every frame.
type Frames = Vec<(u64, String, u16, u32, Vec<u8>)>;

fn frames(mut r: CaptureReader) -> (Frames, Vec<phonehome_decode::Warning>) {
    let mut v = Vec::new();
    while let Some(f) = r.next_frame() {
        v.push((
            f.offset,
            f.ts.to_string(),
            f.link_type,
            f.orig_len,
            f.data.to_vec(),
        ));
    }
    (v, r.warnings().to_vec())
}

fn corpus_file(rel: &str) -> Option<std::path::PathBuf> {
    common::corpus().map(|c| c.join(rel))
}

#[test]
fn gzip_and_pipe_give_the_same_frames_as_the_file() {
    let Some(path) = corpus_file("apple/ndpi/iphone.pcap") else {
        return;
    };
    let (plain, w) = frames(CaptureReader::open(&path).unwrap());
    assert_eq!(plain.len(), 500);
    assert!(w.is_empty());

    let raw = std::fs::read(&path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    let gz = gz.finish().unwrap();
    let r = CaptureReader::from_bytes("iphone.pcap.gz", gz.clone()).unwrap();
    assert_eq!(r.compression().name(), "gzip");
    let (unzipped, w) = frames(r);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(unzipped, plain);

    // Detected by magic, not by name: a gzip file named .pcap is still read.
    let dir = std::env::temp_dir().join(format!("phonehome-gz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let disguised = dir.join("not-compressed.pcap");
    std::fs::write(&disguised, &gz).unwrap();
    assert_eq!(frames(CaptureReader::open(&disguised).unwrap()).0, plain);
    let _ = std::fs::remove_dir_all(&dir);

    // A real pipe, as `tcpdump -w - | phonehome ...` gives.
    let mut child = Command::new("cat")
        .arg(&path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let r = CaptureReader::from_reader("<stdin>", child.stdout.take().unwrap()).unwrap();
    assert_eq!(frames(r).0, plain);
    assert!(child.wait().unwrap().success());
}

#[test]
fn zstd_gives_the_same_frames_as_the_plain_pcapng() {
    let Some(plain) = corpus_file("malformed/pcapplusplus/heuristics_pcapng-example.pcapng.zst")
    else {
        return;
    };
    let Some(other) = corpus_file("malformed/pcapplusplus/pcapng-example.pcapng") else {
        return;
    };
    let r = CaptureReader::open(&plain).unwrap();
    assert_eq!(r.compression().name(), "zstd");
    let (z, w) = frames(r);
    assert!(w.is_empty(), "{w:?}");
    let (p, _) = frames(CaptureReader::open(&other).unwrap());
    assert_eq!(z.len(), 159);
    // Same packets (offsets differ only if the files differ in metadata blocks).
    let strip = |v: &Frames| {
        v.iter()
            .map(|f| (f.1.clone(), f.2, f.3, f.4.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&z), strip(&p));
}

/// Cuts a capture at many points: every record that ends before the cut is delivered, and a cut
/// inside a record is reported with the record's offset.
fn truncation_keeps_whole_records(rel: &str, header_len: impl Fn(&[u8], u64) -> u64) {
    let Some(path) = corpus_file(rel) else { return };
    let raw = std::fs::read(&path).unwrap();
    let (all, _) = frames(CaptureReader::from_bytes("whole", raw.clone()).unwrap());
    let ends: Vec<u64> = all.iter().map(|f| f.0 + header_len(&raw, f.0)).collect();
    let mut cuts: Vec<usize> = (100..raw.len()).step_by(raw.len() / 97 + 1).collect();
    cuts.extend(all.iter().take(5).map(|f| f.0 as usize + 3));
    for cut in cuts {
        let (got, warnings) =
            frames(CaptureReader::from_bytes("cut", raw[..cut].to_vec()).unwrap());
        let expected = ends.iter().filter(|&&e| e <= cut as u64).count();
        assert_eq!(got.len(), expected, "{rel} cut at {cut}");
        assert_eq!(&got[..], &all[..expected]);
        let at_boundary =
            ends.contains(&(cut as u64)) || cut as u64 == all.first().map_or(0, |f| f.0);
        if at_boundary {
            continue;
        }
        let w = warnings
            .first()
            .unwrap_or_else(|| panic!("{rel} cut at {cut}: no warning"));
        assert_eq!(w.kind, WarningKind::TruncatedRecord, "{w}");
        assert!(
            w.offset < cut as u64 && w.to_string().contains("byte offset"),
            "{w}"
        );
    }
}

#[test]
fn truncated_pcap_keeps_every_whole_record() {
    // A pcap record is its 16-byte header plus its captured length (read back from the file).
    truncation_keeps_whole_records("apple/ndpi/iphone.pcap", |raw, off| {
        let o = off as usize;
        16 + u64::from(u32::from_le_bytes([
            raw[o + 8],
            raw[o + 9],
            raw[o + 10],
            raw[o + 11],
        ]))
    });
}

#[test]
fn truncated_pcapng_keeps_every_whole_record() {
    truncation_keeps_whole_records(
        "malformed/pcapplusplus/many_interfaces-1.pcapng",
        |raw, off| {
            let o = off as usize;
            u64::from(u32::from_le_bytes([
                raw[o + 4],
                raw[o + 5],
                raw[o + 6],
                raw[o + 7],
            ]))
        },
    );
}

#[test]
fn impossible_record_lengths_end_the_read_with_the_offset() {
    let Some(path) = corpus_file("apple/ndpi/iphone.pcap") else {
        return;
    };
    let mut raw = std::fs::read(&path).unwrap();
    let (all, _) = frames(CaptureReader::from_bytes("whole", raw.clone()).unwrap());
    // Make the 11th record claim 4 GB.
    let off = all[10].0 as usize;
    raw[off + 8..off + 12].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let (got, w) = frames(CaptureReader::from_bytes("bad", raw).unwrap());
    assert_eq!(got.len(), 10);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].kind, WarningKind::BadRecordLength);
    assert_eq!(w[0].offset, off as u64);

    // pcapng: a block whose trailing length disagrees.
    let Some(path) = corpus_file("malformed/pcapplusplus/many_interfaces-1.pcapng") else {
        return;
    };
    let mut raw = std::fs::read(&path).unwrap();
    let (all, _) = frames(CaptureReader::from_bytes("whole", raw.clone()).unwrap());
    let off = all[20].0 as usize;
    let len = u32::from_le_bytes([raw[off + 4], raw[off + 5], raw[off + 6], raw[off + 7]]) as usize;
    raw[off + len - 4] ^= 0x40;
    let (got, w) = frames(CaptureReader::from_bytes("bad", raw).unwrap());
    assert_eq!(got.len(), 20);
    assert_eq!(
        (w[0].kind, w[0].offset),
        (WarningKind::MalformedBlock, off as u64)
    );
}

#[test]
fn unknown_formats_are_refused_by_name() {
    let Some(path) = corpus_file("malformed/pcapplusplus/solaris.snoop") else {
        return;
    };
    let e = CaptureReader::open(&path)
        .err()
        .expect("snoop is refused")
        .to_string();
    assert!(
        e.contains("solaris.snoop") && e.contains("Solaris snoop"),
        "{e}"
    );
    let e = CaptureReader::from_bytes("x", b"hello\n".to_vec())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("text"), "{e}");
    let e = CaptureReader::from_bytes("x", vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("shorter than the 24-byte pcap header"), "{e}");
}

/// Per-frame time (µs), captured length and wire length equal tshark's, for every container
/// variant the corpus has: both byte orders, micro/nano seconds, modified pcap, pcapng with many
/// interfaces and resolutions, zstd.
#[test]
fn timestamps_and_lengths_equal_tshark() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    if !common::have_tool("tshark") {
        return;
    }
    let files = [
        "malformed/pcapplusplus/nanosecs_big_endian.pcap",
        "malformed/pcapplusplus/microsecs_big_endian.pcap",
        "malformed/pcapplusplus/heuristics_nanosecs.pcap",
        "malformed/pcapplusplus/many_interfaces-1.pcapng",
        "malformed/pcapplusplus/heuristics_pcapng-example.pcapng.zst",
        "malformed/pcapplusplus/sll2.pcap",
        "malformed/pcapplusplus/null_loopback.pcap",
        "malformed/pcap-parser/modified-format.pcap",
        "malformed/pcap-parser/test016-be.pcapng",
        "malformed/pcap-parser/test010-le.pcapng",
        "malformed/pcap-parser/wireshark_samples-test.pcapng",
        "apple/ndpi/iphone.pcap",
    ];
    for rel in files {
        let path = corpus.join(rel);
        let out = Command::new("tshark")
            .arg("-r")
            .arg(&path)
            .args([
                "-T",
                "fields",
                "-E",
                "separator=,",
                "-e",
                "frame.time_epoch",
                "-e",
                "frame.cap_len",
                "-e",
                "frame.len",
            ])
            .stderr(Stdio::null())
            .output()
            .unwrap();
        let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(micro)
            .collect();
        let mut r = CaptureReader::open(&path).unwrap();
        let mut ours = Vec::new();
        while let Some(f) = r.next_frame() {
            let us = f.ts.secs as i128 * 1_000_000 + i128::from(f.ts.nanos / 1000);
            ours.push(format!("{us},{},{}", f.data.len(), f.orig_len));
        }
        assert_eq!(ours.len(), theirs.len(), "{rel}");
        assert_eq!(ours, theirs, "{rel}");
    }
}

/// tshark prints `seconds.fraction`; reduce to whole microseconds (truncated) for comparison.
fn micro(line: &str) -> String {
    let mut cols = line.split(',');
    let t = cols.next().unwrap_or("");
    let (s, frac) = t.split_once('.').unwrap_or((t, "0"));
    let frac6: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
    let us = s.parse::<i128>().unwrap_or(0) * 1_000_000 + frac6.parse::<i128>().unwrap_or(0);
    format!(
        "{us},{},{}",
        cols.next().unwrap_or(""),
        cols.next().unwrap_or("")
    )
}

#[test]
fn sample_capture_in_data_decodes_and_tshark_reads_it_cleanly() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/samples/handmade.pcap");
    let names = common::our_names(&path);
    let dns: Vec<&str> = names.dns.iter().map(String::as_str).collect();
    assert_eq!(
        dns,
        [
            "albert.apple.com",
            "ocsp.apple.com",
            "time.apple.com",
            "www.apple.com"
        ]
    );
    assert_eq!(names.sni.iter().collect::<Vec<_>>(), ["albert.apple.com"]);
    assert_eq!(names.http.len(), 2);
    if !common::have_tool("tshark") {
        return;
    }
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args([
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
        ])
        .args(["-Y", "_ws.malformed || _ws.expert.severity >= error"])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "",
        "tshark flags frames of the sample"
    );
    assert_eq!(common::tshark_names(&path).unwrap(), names);
}
