//! Walks a scenario's timeline and writes the capture: a DNS lookup before the first contact
//! with each host, then its connections in turn — NTP exchanges, or TCP connections with the
//! seed case's SYN, a ClientHello or HTTP request, the server's data (stored snapped), stretch
//! ACKs and a FIN teardown.

use std::collections::BTreeSet;
use std::io::Write;

use crate::build::{client_hello, dns_message, dns_message_aaaa, flags, ipv6_of, Capture, Ep};
use crate::scenario::{Contact, Proto, Scenario};

/// Payload bytes per data segment (Ethernet MSS).
const SEGMENT: u64 = 1460;
/// The client acknowledges every this many data segments.
const ACK_EVERY: u64 = 8;

/// How to write.
#[derive(Debug, Clone, Copy, Default)]
pub struct GenerateOptions {
    /// pcapng instead of pcap.
    pub pcapng: bool,
    /// Play the timeline this many times (at least once), each after the previous one ends:
    /// large captures for the benchmarks, written in constant memory.
    pub repeat: u32,
    /// Store bulk data segments whole instead of their first 54 bytes (benchmark captures
    /// with realistic frame sizes; the samples keep them snapped).
    pub full_payload: bool,
    /// Vary the timeline's passes (benchmark mixes): of every four passes, the second is
    /// tagged with a VLAN id, the third carried over IPv6 (AAAA answers, addresses by
    /// [`crate::build::ipv6_of`]), the fourth both, with its HTTPS contacts made over QUIC.
    pub mix: bool,
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Frames.
    pub frames: u64,
    /// Bytes of the file.
    pub bytes: u64,
}

struct Gen<'w> {
    cap: Capture,
    out: &'w mut dyn Write,
    bytes: u64,
    client: [u8; 4],
    resolver: [u8; 4],
    next_port: u16,
    dns_id: u16,
    looked_up: BTreeSet<String>,
    /// HTTPS contacts are made over QUIC.
    https_over_quic: bool,
}

impl Gen<'_> {
    fn flush(&mut self) -> std::io::Result<()> {
        let b = self.cap.drain();
        self.bytes += b.len() as u64;
        self.out.write_all(&b)
    }

    fn port(&mut self) -> u16 {
        let p = self.next_port;
        self.next_port = if p >= 65_000 { 49_152 } else { p + 1 };
        p
    }

    fn lookup(&mut self, c: &Contact) {
        if !self.looked_up.insert(c.host.clone()) {
            return;
        }
        let port = self.port();
        self.dns_id = self.dns_id.wrapping_add(1);
        let addr = c.servers[0].octets();
        let cnames: Vec<&str> = c.cnames.iter().map(String::as_str).collect();
        let id = self.dns_id;
        let (q, r) = if self.cap.ipv6 {
            let a6 = ipv6_of(addr);
            (
                dns_message_aaaa(id, false, &c.host, &[], a6),
                dns_message_aaaa(id, true, &c.host, &cnames, a6),
            )
        } else {
            (
                dns_message(id, false, &c.host, &[], addr),
                dns_message(id, true, &c.host, &cnames, addr),
            )
        };
        let client = (self.client, port);
        let resolver = (self.resolver, 53);
        self.cap.udp_after(1_000, client, resolver, &q);
        self.cap.udp_after(18_000, resolver, client, &r);
    }

    fn ntp(&mut self, server: [u8; 4]) {
        let mut m = [0u8; 48];
        m[0] = 0x23;
        let c = (self.client, 123);
        let s = (server, 123);
        self.cap.udp_after(2_000, c, s, &m);
        m[0] = 0x24;
        m[1] = 2;
        self.cap.udp_after(30_000, s, c, &m);
    }

    /// A QUIC connection: the client's Initial, then the server's data in 1,200-byte
    /// short-header datagrams (stored snapped), the client acknowledging every 8.
    fn quic(&mut self, c: &Contact, server: [u8; 4], down: u64) {
        let port = self.port();
        let cl: Ep = (self.client, port);
        let sv: Ep = (server, 443);
        let id = u64::from(port).to_be_bytes();
        let dcid = [0xd0, id[6], id[7], 1, 2, 3, 4, 5];
        let scid = [0x5c, id[6], id[7], 9, 8, 7, 6, 5];
        let hello = client_hello(&c.host, 0);
        if let Some(initial) = crate::quic::client_initial(&dcid, &scid, 0, &hello[5..]) {
            self.cap.udp_after(20_000, cl, sv, &initial);
        }
        self.cap.gap_us = 300;
        let (mut got, mut n) = (0u64, 0u64);
        while got < down {
            let len = 1200u64.min(down - got).max(30) as usize;
            let mut d = vec![0u8; len];
            d[0] = 0x40;
            d[1..9].copy_from_slice(&scid);
            self.cap.udp_bulk(sv, cl, &d);
            got += len as u64;
            n += 1;
            if n % ACK_EVERY == 0 {
                let mut a = vec![0u8; 40];
                a[0] = 0x40;
                a[1..9].copy_from_slice(&dcid);
                self.cap.udp(cl, sv, &a);
            }
        }
    }

    fn tcp(&mut self, c: &Contact, server: [u8; 4], down: u64, up: u64) {
        let port = self.port();
        let cl: Ep = (self.client, port);
        let sv: Ep = (server, if c.proto == Proto::Https { 443 } else { 80 });
        let (cs, ss) = (
            0x1000_0000u32.wrapping_add(u32::from(port) << 8),
            0x5000_0000u32,
        );
        self.cap.gap_us = 20_000;
        self.cap.tcp_handshake(cl, sv, cs, ss);
        self.cap.gap_us = 300;
        let request = request(c);
        self.cap.tcp_data(cl, sv, cs + 1, ss + 1, &request);
        let mut cseq = cs + 1 + request.len() as u32;
        // Extra upload, then the server's data with stretch ACKs.
        let mut sent = 0u64;
        while sent < up {
            let n = SEGMENT.min(up - sent);
            self.cap.tcp_bulk(cl, sv, cseq, ss + 1, n as usize);
            cseq = cseq.wrapping_add(n as u32);
            sent += n;
        }
        let mut sseq = ss + 1;
        let (mut got, mut segs) = (0u64, 0u64);
        self.cap.gap_us = 200;
        while got < down {
            let n = SEGMENT.min(down - got);
            self.cap.tcp_bulk(sv, cl, sseq, cseq, n as usize);
            sseq = sseq.wrapping_add(n as u32);
            got += n;
            segs += 1;
            if segs % ACK_EVERY == 0 || got == down {
                self.cap
                    .tcp_after(100, cl, sv, cseq, sseq, flags::ACK, &[], &[]);
            }
        }
        self.cap.gap_us = 1_000;
        let fa = flags::FIN | flags::ACK;
        self.cap.tcp_after(1_000, cl, sv, cseq, sseq, fa, &[], &[]);
        self.cap
            .tcp_after(20_000, sv, cl, sseq, cseq + 1, fa, &[], &[]);
        self.cap
            .tcp_after(300, cl, sv, cseq + 1, sseq + 1, flags::ACK, &[], &[]);
    }
}

/// The first bytes a client sends for a contact.
fn request(c: &Contact) -> Vec<u8> {
    let path = c.path.as_deref().unwrap_or("/");
    match c.proto {
        Proto::Https => client_hello(&c.host, 0),
        Proto::Http => format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: */*\r\nUser-Agent: CFNetwork/1121 Darwin/19.0.0\r\n\r\n",
            c.host
        )
        .into_bytes(),
        Proto::Ocsp => format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/ocsp-request\r\nContent-Length: 83\r\n\r\n",
            c.host
        )
        .into_bytes(),
        Proto::Ntp | Proto::Quic => Vec::new(),
    }
}

/// Writes the capture of `s` to `out`.
pub fn generate(
    s: &Scenario,
    opts: GenerateOptions,
    out: &mut dyn Write,
) -> std::io::Result<Written> {
    let mut cap = if opts.pcapng {
        Capture::new_pcapng()
    } else {
        Capture::new()
    };
    cap.t_us = s.start * 1_000_000;
    cap.bulk_snap = if opts.full_payload { 1 << 16 } else { 54 };
    cap.local = vec![s.client.ip.octets()];
    cap.profile = s
        .client
        .profile()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let mut g = Gen {
        cap,
        out,
        bytes: 0,
        client: s.client.ip.octets(),
        resolver: s.client.resolver.octets(),
        next_port: 49_152,
        dns_id: 0x1a00,
        looked_up: BTreeSet::new(),
        https_over_quic: false,
    };
    let mut contacts: Vec<&Contact> = s.contacts.iter().collect();
    contacts.sort_by(|a, b| a.at.total_cmp(&b.at));
    let mut base = s.start * 1_000_000;
    for pass in 0..opts.repeat.max(1) {
        g.looked_up.clear();
        if opts.mix {
            let kind = pass % 4;
            g.cap.vlan = (kind % 2 == 1).then_some(100 + kind as u16);
            g.cap.ipv6 = kind >= 2;
            g.https_over_quic = kind == 3;
        }
        for c in &contacts {
            let n = u64::from(c.connections);
            for i in 0..n {
                let at = base + ((c.at + c.spacing * i as f64) * 1e6) as u64;
                g.cap.t_us = g.cap.t_us.max(at);
                g.lookup(c);
                let server = c.servers[i as usize % c.servers.len()].octets();
                // Bytes spread evenly, the remainder on the last connection.
                let share = |total: u64| total / n + if i + 1 == n { total % n } else { 0 };
                match c.proto {
                    Proto::Ntp => g.ntp(server),
                    Proto::Quic => g.quic(c, server, share(c.bytes_down)),
                    Proto::Https if g.https_over_quic => g.quic(c, server, share(c.bytes_down)),
                    _ => g.tcp(c, server, share(c.bytes_down), share(c.bytes_up)),
                }
                g.flush()?;
            }
        }
        base = g.cap.t_us + 1_000_000;
    }
    g.flush()?;
    Ok(Written {
        frames: g.cap.frames,
        bytes: g.bytes,
    })
}
