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

/// `n` TLS connections that each send the first 1000 bytes of a ClientHello and never the rest,
/// all alive at once.
fn stalled_hellos(n: u16) -> Vec<u8> {
    let hello = phonehome_testkit::build::client_hello("stalled.example", 3000);
    let mut c = Capture::new();
    for i in 0..n {
        let client = ([10, 0, 0, 2], 30_000 + i);
        let server = ([17, 253, 4, 125], 443);
        let isn = 1_000 + u32::from(i);
        c.tcp_handshake(client, server, isn, 9_000);
        c.tcp_data(client, server, isn + 1, 9_001, &hello[..1000]);
    }
    c.finish()
}

#[test]
fn the_reassembly_budget_releases_the_oldest_buffers() {
    let bytes = stalled_hellos(200);
    let cfg = Config {
        stream: phonehome_flows::dissect::StreamLimits {
            per_flow: 4096,
            total: 20_000,
        },
        ..Config::default()
    };
    let mut reader = CaptureReader::from_bytes("stalled.pcap", bytes).unwrap();
    let mut a = Analyzer::new(cfg);
    let mut most = 0;
    while let Some(f) = reader.next_frame() {
        a.feed(&f);
        most = most.max(a.reassembly_bytes());
    }
    assert!(most <= 20_000, "{most} bytes held");
    assert!(most >= 19_000, "the budget is used: {most}");
    let s = a.finish_capture(
        phonehome_flows::Source {
            file: "stalled.pcap".into(),
            format: "pcap".into(),
            compression: "none".into(),
            warnings: Vec::new(),
        },
        Default::default(),
    );
    // 20 buffers of 1000 bytes fit; each new one beyond releases the oldest.
    assert_eq!(s.counters.evicted_streams, 180);
    assert_eq!(s.flows.len(), 200);
    // Released buffers were dissected with what they held: every flow is still seen as TLS.
    assert!(
        s.flows.iter().all(|f| f.app == Some("tls")),
        "{:?}",
        s.flows[0].app
    );
}

#[test]
fn the_name_table_is_bounded_and_forgets_the_oldest() {
    let mut c = Capture::new();
    let client = ([10, 0, 0, 2], 50_000);
    for i in 0..5_000u32 {
        let name = format!("n{i}.flood.example");
        let addr = [198, 18, (i >> 8) as u8, i as u8];
        c.dns_exchange(client, [10, 0, 0, 1], i as u16, &name, &[], addr);
    }
    let cfg = Config {
        max_name_addresses: 1_000,
        ..Config::default()
    };
    let mut reader = CaptureReader::from_bytes("flood.pcap", c.finish()).unwrap();
    let mut a = Analyzer::new(cfg);
    let mut most = 0;
    while let Some(f) = reader.next_frame() {
        a.feed(&f);
        most = most.max(a.name_addresses());
    }
    assert_eq!(most, 1_000);
    let s = a.finish_capture(
        phonehome_flows::Source {
            file: "flood.pcap".into(),
            format: "pcap".into(),
            compression: "none".into(),
            warnings: Vec::new(),
        },
        Default::default(),
    );
    assert_eq!(s.counters.evicted_name_addresses, 4_000);
}
