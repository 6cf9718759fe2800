//! Merging the summaries of the two halves of a real capture equals the summary of the whole for
//! counts; merging is associative.

use phonehome_decode::CaptureReader;
use phonehome_flows::{Analyzer, CaptureSummary, Config, Counters, Source};
use phonehome_testkit::corpus;

/// Summaries of `file`'s frames split at the given frame numbers.
fn parts(file: &std::path::Path, cuts: &[u64]) -> Vec<CaptureSummary> {
    let mut reader = CaptureReader::open(file).unwrap();
    let mut out = Vec::new();
    let mut a = Analyzer::new(Config::default());
    let mut counters = Counters::default();
    let mut n = 0u64;
    let mut next = cuts.iter().copied();
    let mut cut = next.next();
    let source = || Source {
        file: "part".into(),
        format: "pcap".into(),
        compression: "none".into(),
        warnings: Vec::new(),
    };
    while let Some(f) = reader.next_frame() {
        if Some(n) == cut {
            out.push(
                std::mem::replace(&mut a, Analyzer::new(Config::default()))
                    .finish_capture(source(), std::mem::take(&mut counters)),
            );
            cut = next.next();
        }
        counters.frames += 1;
        counters.captured_bytes += f.data.len() as u64;
        a.feed(&f);
        n += 1;
    }
    out.push(a.finish_capture(source(), counters));
    out
}

fn totals(s: &CaptureSummary) -> [u64; 9] {
    let (mut pk, mut ipb, mut pb, mut conns) = (0, 0, 0, 0);
    for h in s.hosts.values() {
        pk += h.up.packets + h.down.packets;
        ipb += h.up.ip_bytes + h.down.ip_bytes;
        pb += h.up.payload_bytes + h.down.payload_bytes;
        conns += h.connections;
    }
    [
        s.counters.frames,
        s.counters.captured_bytes,
        s.counters.packets,
        pk,
        ipb,
        pb,
        s.dns.len() as u64,
        s.http.len() as u64,
        conns - s.flows.len() as u64,
    ]
}

#[test]
fn halves_merge_to_the_whole() {
    let Some(corpus) = corpus() else { return };
    for name in [
        "apple/ndpi/iphone.pcap",
        "ndpi/pcap/443-chrome.pcap",
        "ndpi/pcap/1kxun.pcap",
    ] {
        let file = corpus.join(name);
        let whole = parts(&file, &[]).pop().unwrap();
        let n = whole.counters.frames;
        let mut halves = parts(&file, &[n / 2]);
        let second = halves.pop().unwrap();
        let mut merged = halves.pop().unwrap();
        merged.merge(second);
        assert_eq!(totals(&merged), totals(&whole), "{name}");
        assert_eq!(merged.first_ts, whole.first_ts);
        assert_eq!(merged.last_ts, whole.last_ts);
        // Flows that span the cut are counted in both halves, never lost.
        assert!(merged.flows.len() >= whole.flows.len(), "{name}");
        let ids: std::collections::BTreeSet<u64> = merged.flows.iter().map(|f| f.id).collect();
        assert_eq!(
            ids.len(),
            merged.flows.len(),
            "ids stay unique after merging"
        );
    }
}

#[test]
fn merging_is_associative() {
    let Some(corpus) = corpus() else { return };
    let file = corpus.join("apple/ndpi/iphone.pcap");
    let p = parts(&file, &[120, 300]);
    let (a, b, c) = (p[0].clone(), p[1].clone(), p[2].clone());
    let mut left = a.clone();
    left.merge(b.clone());
    left.merge(c.clone());
    let mut bc = b;
    bc.merge(c);
    let mut right = a;
    right.merge(bc);
    assert_eq!(left, right);
}
