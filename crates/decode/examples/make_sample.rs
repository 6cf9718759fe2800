//! `make_sample`: writes `data/samples/handmade.pcap`, a small capture built packet by packet
//! from the facts of the seed case (a Mac's first contacts: NTP to time.apple.com, the captive
//! probe to www.apple.com, HTTPS to albert.apple.com with the Catalina SYN), with correct
//! checksums so that tshark reads it with no malformed frame. The scenario generator issue
//! replaces this with a full generator; until then this is the README's sample input.
//!
//! Usage: `cargo run -p phonehome-decode --example make_sample -- [OUT]`

use phonehome_testkit::build::{client_hello, Capture};

const CLIENT: [u8; 4] = [192, 168, 1, 23];
const RESOLVER: [u8; 4] = [192, 168, 1, 1];

/// A DNS lookup from the client's port `port`, 2 ms then 18 ms apart like a home router's.
fn lookup(p: &mut Capture, port: u16, id: u16, name: &str, cnames: &[&str], addr: [u8; 4]) {
    p.gap_us = 2_000;
    p.udp(
        (CLIENT, port),
        (RESOLVER, 53),
        &phonehome_testkit::build::dns_message(id, false, name, cnames, addr),
    );
    p.gap_us = 18_000;
    p.udp(
        (RESOLVER, 53),
        (CLIENT, port),
        &phonehome_testkit::build::dns_message(id, true, name, cnames, addr),
    );
    p.gap_us = 20_000;
}

/// Builds the sample capture.
fn build() -> Vec<u8> {
    let mut p = Capture::new();
    let time = [17, 253, 4, 125];
    lookup(
        &mut p,
        50_101,
        0x1a01,
        "time.apple.com",
        &["time.g.aaplimg.com"],
        time,
    );
    let mut ntp = [0u8; 48];
    ntp[0] = 0x23;
    p.udp_after(5_000, (CLIENT, 123), (time, 123), &ntp);
    ntp[0] = 0x24;
    ntp[1] = 1;
    ntp[12..16].copy_from_slice(b"GPSs");
    p.udp_after(30_000, (time, 123), (CLIENT, 123), &ntp);
    let www = [23, 52, 176, 44];
    lookup(
        &mut p,
        50_102,
        0x1a02,
        "www.apple.com",
        &["www.apple.com.edgekey.net", "e6858.dscx.akamaiedge.net"],
        www,
    );
    let probe = b"GET /library/test/success.html HTTP/1.0\r\nHost: www.apple.com\r\nConnection: close\r\nUser-Agent: CaptiveNetworkSupport-390 wispr\r\n\r\n";
    let reply = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 68\r\n\r\n<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>";
    p.connection((CLIENT, 49_152), (www, 80), probe, reply);
    let albert = [17, 32, 194, 2];
    lookup(&mut p, 50_103, 0x1a03, "albert.apple.com", &[], albert);
    let server_flight: Vec<u8> = (0..4000u32).map(|i| (i * 7) as u8).collect();
    p.connection(
        (CLIENT, 49_153),
        (albert, 443),
        &client_hello("albert.apple.com", 0),
        &server_flight,
    );
    let ocsp = [17, 253, 21, 203];
    lookup(
        &mut p,
        50_104,
        0x1a04,
        "ocsp.apple.com",
        &["ocsp-lb.apple.com.akadns.net"],
        ocsp,
    );
    let req = b"POST / HTTP/1.1\r\nHost: ocsp.apple.com\r\nContent-Type: application/ocsp-request\r\nContent-Length: 0\r\n\r\n";
    p.connection(
        (CLIENT, 49_154),
        (ocsp, 80),
        req,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: 0\r\n\r\n",
    );
    p.finish()
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "data/samples/handmade.pcap".into());
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir).expect("create output folder");
    }
    std::fs::write(&out, build()).expect("write sample capture");
    eprintln!("wrote {out}");
}
