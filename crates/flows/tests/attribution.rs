//! Attribution and row order on captures built packet by packet.

use phonehome_decode::CaptureReader;
use phonehome_flows::{analyze, CaptureSummary, Config, NameSource};
use phonehome_testkit::build::Capture;

fn run(bytes: Vec<u8>) -> CaptureSummary {
    let mut r = CaptureReader::from_bytes("built.pcap", bytes).unwrap();
    analyze(&mut r, Config::default(), |_, _| {})
}

const CLIENT: [u8; 4] = [10, 0, 0, 2];
const RESOLVER: [u8; 4] = [10, 0, 0, 1];

#[test]
fn rule_two_uses_the_answer_before_the_start_even_after_many_later_ones() {
    let mut c = Capture::new();
    let server = [17, 1, 1, 1];
    c.dns_exchange(
        (CLIENT, 50_000),
        RESOLVER,
        1,
        "first.apple.com",
        &["first.apple.com.akadns.net"],
        server,
    );
    c.tcp_handshake((CLIENT, 40_000), (server, 5223), 100, 900);
    // 40 later lookups that also map the address (a shared CDN address during a long flow).
    for i in 0..40u16 {
        let name = format!("later{i}.example.net");
        c.dns_exchange((CLIENT, 50_001 + i), RESOLVER, 2 + i, &name, &[], server);
    }
    c.tcp_data((CLIENT, 40_000), (server, 5223), 101, 901, b"\x00\x01");
    let s = run(c.finish());
    let f = s.flows.iter().find(|f| f.server.port == 5223).unwrap();
    assert_eq!(f.hostname.as_deref(), Some("first.apple.com"));
    assert_eq!(f.name_source, NameSource::Dns);
    assert_eq!(f.cname_chain, ["first.apple.com.akadns.net"]);
    // A flow to an address only answered later, or to another client, gets the weaker rule.
    let mut c = Capture::new();
    c.tcp_handshake((CLIENT, 40_001), (server, 443), 100, 900);
    c.dns_exchange((CLIENT, 50_000), RESOLVER, 1, "late.apple.com", &[], server);
    let s = run(c.finish());
    let f = s.flows.iter().find(|f| f.server.port == 443).unwrap();
    assert_eq!(
        (f.hostname.as_deref(), f.name_source),
        (Some("late.apple.com"), NameSource::DnsAny)
    );
}

#[test]
fn retransmitted_requests_are_one_row() {
    let mut c = Capture::new();
    let (cl, sv) = ((CLIENT, 40_000), ([93, 184, 216, 34], 80));
    c.tcp_handshake(cl, sv, 100, 900);
    let one = b"GET /one HTTP/1.1\r\nHost: a.example\r\n\r\n";
    let two = b"GET /two HTTP/1.1\r\nHost: a.example\r\n\r\n";
    c.tcp_data(cl, sv, 101, 901, one);
    let seq2 = 101 + one.len() as u32;
    c.tcp_data(cl, sv, seq2, 901, two);
    c.tcp_data(cl, sv, seq2, 901, two);
    c.tcp_data(cl, sv, seq2, 901, two);
    let s = run(c.finish());
    let uris: Vec<&str> = s.http.iter().map(|h| h.uri.as_str()).collect();
    assert_eq!(uris, ["/one", "/two"]);
}

#[test]
fn rows_of_flows_finished_by_timeout_keep_one_order() {
    // Eight HTTP flows whose heads never complete, finished together by the idle timeout.
    let mut c = Capture::new();
    for i in 0..8u16 {
        let (cl, sv) = ((CLIENT, 40_000 + i), ([93, 184, 216, 34], 80));
        c.tcp_handshake(cl, sv, 100, 900);
        c.tcp_data(
            cl,
            sv,
            101,
            901,
            format!("GET /{i} HTTP/1.1\r\nHost: a").as_bytes(),
        );
    }
    c.t_us += 400_000_000;
    c.udp((CLIENT, 1), ([10, 0, 0, 9], 9), b"tick");
    let bytes = c.finish();
    let first: Vec<u64> = run(bytes.clone()).http.iter().map(|h| h.flow_id).collect();
    assert_eq!(first.len(), 8);
    for _ in 0..5 {
        let again: Vec<u64> = run(bytes.clone()).http.iter().map(|h| h.flow_id).collect();
        assert_eq!(again, first);
    }
}
