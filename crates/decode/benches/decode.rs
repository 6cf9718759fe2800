//! Micro-benchmarks of decoding: whole-capture read + L2–L4 decode from memory, and each
//! application dissector on a typical payload. Throughput is reported in bytes/s.
//!
//! The end-to-end comparison with `cat` and tshark lives in `scripts/bench-decode.sh`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use phonehome_decode::{app, decode, CaptureReader};

/// The largest mixed capture of the corpus, if present.
fn corpus_capture() -> Option<Vec<u8>> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/general/pcapplusplus/many-protocols.pcap");
    std::fs::read(p).ok()
}

fn read_and_decode(c: &mut Criterion) {
    let Some(bytes) = corpus_capture() else {
        eprintln!("SKIPPED: corpus capture not found");
        return;
    };
    let mut g = c.benchmark_group("capture");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("read+decode L2-L4 (many-protocols.pcap, memory)", |b| {
        b.iter(|| {
            let mut r = CaptureReader::from_bytes("bench", bytes.clone()).unwrap();
            let mut n = 0u64;
            while let Some(f) = r.next_frame() {
                if let Ok(p) = decode(&f) {
                    n += u64::from(p.payload_len);
                }
            }
            black_box(n)
        })
    });
    g.bench_function("read+decode+dissect (many-protocols.pcap, memory)", |b| {
        b.iter(|| {
            let mut r = CaptureReader::from_bytes("bench", bytes.clone()).unwrap();
            let mut n = 0u64;
            while let Some(f) = r.next_frame() {
                if let Ok(p) = decode(&f) {
                    n += u64::from(app::dissect(&p).is_some());
                }
            }
            black_box(n)
        })
    });
    g.finish();
}

fn dissectors(c: &mut Criterion) {
    let mut dns = vec![0xbe, 0xef, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
    dns.extend_from_slice(b"\x06albert\x05apple\x03com\x00\x00\x01\x00\x01");
    dns.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 18]);
    dns.extend_from_slice(b"\x06albert\x07edgekey\x03net\x00");
    dns.extend_from_slice(&[0xc0, 46, 0, 1, 0, 1, 0, 0, 1, 0, 0, 4, 17, 32, 194, 2]);
    let http = b"GET /library/test/success.html HTTP/1.0\r\nHost: www.apple.com\r\nUser-Agent: CaptiveNetworkSupport-390 wispr\r\n\r\n";
    let mut g = c.benchmark_group("dissect");
    g.throughput(Throughput::Bytes(dns.len() as u64));
    g.bench_function("dns response with CNAME", |b| {
        b.iter(|| black_box(app::dns::parse(black_box(&dns)).map(|m| m.records.len())))
    });
    g.throughput(Throughput::Bytes(http.len() as u64));
    g.bench_function("http request", |b| {
        b.iter(|| black_box(app::http::parse_request(black_box(http)).map(|r| r.host)))
    });
    g.finish();
}

criterion_group!(benches, read_and_decode, dissectors);
criterion_main!(benches);
