//! `reference_loop`: the yardstick of issue 9, built as the issue describes it — a streaming
//! loop over pcap records read with `pcap-parser`, L2–L4 decoded with `pnet_packet`, a 5-tuple
//! flow table with a fast hasher (packets and bytes each way), and names learnt from DNS
//! answers, TLS SNI and HTTP Host. It writes nothing but a one-line total.
//!
//! It is not part of phonehome: `scripts/bench-extract.sh` times it beside `cat` and the
//! extractor, so that the extractor's ratio to `cat` can be read against what such a loop
//! reaches on the same machine, in the same page-cache state.
//!
//! Usage: `cargo run --release -p phonehome-decode --example reference_loop -- CAPTURE`

use std::collections::HashMap;
use std::fs::File;
use std::net::IpAddr;
use std::process::ExitCode;

use pcap_parser::pcapng::Block;
use pcap_parser::{create_reader, PcapBlockOwned, PcapError};
use pnet_packet::ethernet::{EtherTypes, EthernetPacket};
use pnet_packet::ip::{IpNextHeaderProtocol, IpNextHeaderProtocols};
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::ipv6::Ipv6Packet;
use pnet_packet::tcp::TcpPacket;
use pnet_packet::udp::UdpPacket;
use pnet_packet::vlan::VlanPacket;
use pnet_packet::Packet;

use phonehome_decode::app::{dns, http, tls};

type Fast<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Both endpoints, the lower first, and the protocol.
type Key = (u8, IpAddr, u16, IpAddr, u16);

/// What the table keeps per flow.
#[derive(Default)]
struct Stats {
    packets: [u64; 2],
    bytes: [u64; 2],
    name: Option<String>,
}

/// The loop's state.
#[derive(Default)]
struct Table {
    flows: Fast<Key, Stats>,
    /// Address → the last name a DNS answer gave it.
    names: Fast<IpAddr, String>,
}

impl Table {
    fn packet(&mut self, proto: IpNextHeaderProtocol, src: IpAddr, dst: IpAddr, l4: &[u8]) {
        match proto {
            IpNextHeaderProtocols::Tcp => {
                if let Some(t) = TcpPacket::new(l4) {
                    let (a, b) = ((src, t.get_source()), (dst, t.get_destination()));
                    self.flow(6, a, b, l4.len(), t.payload());
                }
            }
            IpNextHeaderProtocols::Udp => {
                if let Some(u) = UdpPacket::new(l4) {
                    let (a, b) = ((src, u.get_source()), (dst, u.get_destination()));
                    self.flow(17, a, b, l4.len(), u.payload());
                }
            }
            other => self.flow(other.0, (src, 0), (dst, 0), l4.len(), &[]),
        }
    }

    fn flow(&mut self, proto: u8, a: (IpAddr, u16), b: (IpAddr, u16), len: usize, pl: &[u8]) {
        let (key, dir) = if a <= b {
            ((proto, a.0, a.1, b.0, b.1), 0)
        } else {
            ((proto, b.0, b.1, a.0, a.1), 1)
        };
        let names = &self.names;
        let s = self.flows.entry(key).or_insert_with(|| Stats {
            name: names.get(&b.0).cloned(),
            ..Stats::default()
        });
        s.packets[dir] += 1;
        s.bytes[dir] += len as u64;
        if pl.is_empty() {
            return;
        }
        if proto == 17 && a.1 == 53 {
            if let Ok(m) = dns::parse(pl) {
                let q = m.questions.first().map(|q| q.name.to_lowercase_string());
                for r in m.answers() {
                    let ip = match r.data {
                        dns::RData::A(v4) => IpAddr::V4(v4),
                        dns::RData::Aaaa(v6) => IpAddr::V6(v6),
                        _ => continue,
                    };
                    if let Some(q) = &q {
                        self.names.insert(ip, q.clone());
                    }
                }
            }
        } else if proto == 6 && s.name.is_none() {
            if tls::looks_like_handshake(pl) {
                if let Ok(ch) = tls::parse_client_hello(pl) {
                    s.name = ch.sni_string();
                }
            } else if http::looks_like_request(pl) {
                s.name = http::parse_request(pl).and_then(|r| r.host_name());
            }
        }
    }

    fn frame(&mut self, data: &[u8]) {
        if let Some(eth) = EthernetPacket::new(data) {
            self.network(eth.get_ethertype(), eth.payload());
        }
    }

    fn network(&mut self, kind: pnet_packet::ethernet::EtherType, rest: &[u8]) {
        match kind {
            EtherTypes::Ipv4 => {
                if let Some(ip) = Ipv4Packet::new(rest) {
                    let src = IpAddr::V4(ip.get_source());
                    let dst = IpAddr::V4(ip.get_destination());
                    self.packet(ip.get_next_level_protocol(), src, dst, ip.payload());
                }
            }
            EtherTypes::Ipv6 => {
                if let Some(ip) = Ipv6Packet::new(rest) {
                    let src = IpAddr::V6(ip.get_source());
                    let dst = IpAddr::V6(ip.get_destination());
                    self.packet(ip.get_next_header(), src, dst, ip.payload());
                }
            }
            EtherTypes::Vlan => {
                if let Some(v) = VlanPacket::new(rest) {
                    self.network(v.get_ethertype(), v.payload());
                }
            }
            _ => {}
        }
    }
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: reference_loop CAPTURE");
        return ExitCode::from(2);
    };
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("reference_loop: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut reader = match create_reader(1 << 20, file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("reference_loop: {path}: {e:?}");
            return ExitCode::from(2);
        }
    };
    let mut t = Table::default();
    let mut frames = 0u64;
    loop {
        match reader.next() {
            Ok((used, block)) => {
                match block {
                    PcapBlockOwned::Legacy(b) => {
                        frames += 1;
                        t.frame(b.data);
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(b)) => {
                        frames += 1;
                        t.frame(b.data);
                    }
                    _ => {}
                }
                reader.consume(used);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if reader.refill().is_err() {
                    eprintln!("reference_loop: {path}: read error");
                    return ExitCode::from(1);
                }
            }
            Err(e) => {
                eprintln!("reference_loop: {path}: {e:?}");
                return ExitCode::from(1);
            }
        }
    }
    let named = t.flows.values().filter(|s| s.name.is_some()).count();
    let bytes: u64 = t.flows.values().map(|s| s.bytes[0] + s.bytes[1]).sum();
    println!(
        "{frames} frames, {} flows ({named} named), {bytes} L4 bytes, {} addresses named by DNS",
        t.flows.len(),
        t.names.len()
    );
    ExitCode::SUCCESS
}
