//! The row limit (`--max-rows`): DNS messages past it are counted, not kept as rows, and
//! nothing else in the summary changes.

use phonehome_decode::CaptureReader;
use phonehome_flows::{analyze, CaptureSummary, Config};

fn run(bytes: &[u8], max_rows: usize) -> CaptureSummary {
    let mut reader = CaptureReader::from_bytes("lookups.pcap", bytes.to_vec()).unwrap();
    let cfg = Config {
        max_rows,
        ..Config::default()
    };
    analyze(&mut reader, cfg, |_, _| {})
}

#[test]
fn dns_messages_past_the_row_limit_are_counted_and_change_nothing_else() {
    // 25,000 lookups on 20,000 client ports: the last 5,000 reuse a port, so their queries
    // arrive on flows already named.
    let mut bytes = Vec::new();
    phonehome_synth::stress::dns_lookups(25_000, 20, &mut bytes).unwrap();
    let full = run(&bytes, usize::MAX);
    let limited = run(&bytes, 100);
    assert_eq!(full.dns_rows().count(), 50_000);
    assert_eq!(full.counters.dropped_rows, 0);
    assert_eq!(limited.dns_rows().count(), 100);
    assert_eq!(limited.counters.dropped_rows, 49_900);
    let kept: Vec<_> = limited.dns_rows().map(|r| r.into_owned()).collect();
    let first: Vec<_> = full.dns_rows().take(100).map(|r| r.into_owned()).collect();
    assert!(kept == first, "the rows kept are the first ones");
    let flows = |s: &CaptureSummary| s.flow_iter().map(|f| f.into_owned()).collect::<Vec<_>>();
    let (limited_flows, full_flows) = (flows(&limited), flows(&full));
    assert_eq!(limited_flows.len(), 20_000);
    assert!(
        limited_flows == full_flows,
        "flows, their names and counts are the same"
    );
    assert!(limited_flows.iter().all(|f| f.hostname.is_some()));
    // The other counters too, but for the records spilled to disk (fewer rows, fewer spills).
    let mut rest = limited.counters.clone();
    rest.dropped_rows = 0;
    rest.spilled_flows = full.counters.spilled_flows;
    assert_eq!(rest, full.counters);
}
