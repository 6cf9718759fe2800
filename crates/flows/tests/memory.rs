//! Memory is bounded by live flows: expired flows are finished and handed on as they go.

use phonehome_decode::CaptureReader;
use phonehome_flows::{Analyzer, Config};
use phonehome_testkit::build::Capture;

/// `n` UDP exchanges on distinct ports, one every `gap_s` seconds.
fn spaced_flows(n: u16, gap_s: u64) -> Vec<u8> {
    let mut c = Capture::new();
    for i in 0..n {
        c.t_us += gap_s * 1_000_000;
        let client = ([10, 0, 0, 2], 20_000 + i);
        let server = ([17, 253, 4, 125], 123);
        c.udp(client, server, &[0x23; 48]);
        c.udp(server, client, &[0x24; 48]);
    }
    c.finish()
}

#[test]
fn live_flows_stay_bounded_by_the_idle_timeout() {
    let bytes = spaced_flows(3_000, 2);
    let mut reader = CaptureReader::from_bytes("spaced.pcap", bytes).unwrap();
    let mut a = Analyzer::new(Config::default());
    let mut most = 0;
    while let Some(f) = reader.next_frame() {
        a.feed(&f);
        most = most.max(a.live_flows());
    }
    // 60 s of UDP idle timeout at one new flow every 2 s, plus the sweep's 1 s granularity.
    assert!(most <= 32, "{most} flows alive at once");
    let s = a.finish_capture(
        phonehome_flows::Source {
            file: "spaced.pcap".into(),
            format: "pcap".into(),
            compression: "none".into(),
            warnings: Vec::new(),
        },
        Default::default(),
    );
    assert_eq!(s.flows.len(), 3_000);
    assert!(s.flows.iter().all(|f| f.conn_state == "SF"));
}

#[test]
fn the_live_flow_cap_finishes_the_least_recent() {
    let bytes = spaced_flows(2_000, 0);
    let mut reader = CaptureReader::from_bytes("dense.pcap", bytes).unwrap();
    let cfg = Config {
        max_live_flows: 100,
        ..Config::default()
    };
    let mut a = Analyzer::new(cfg);
    let mut most = 0;
    while let Some(f) = reader.next_frame() {
        a.feed(&f);
        most = most.max(a.live_flows());
    }
    assert!(most <= 100, "{most}");
}
