//! Hostile-shaped captures for the limit tests and the memory benchmark: a SYN scan of many
//! distinct flows and a DNS flood of many distinct names. Written in constant memory, however
//! large.

use std::io::{self, Write};

use crate::build::{dns_message, flags, Capture};
use crate::generate::Written;

/// Frames built between two writes to the output.
const BATCH: u64 = 4096;

struct Sink<'w> {
    cap: Capture,
    out: &'w mut dyn Write,
    written: Written,
}

impl<'w> Sink<'w> {
    /// A capture written to `out`, its frames `gap_us` apart unless placed otherwise.
    fn new(out: &'w mut dyn Write, gap_us: u64) -> Sink<'w> {
        let mut cap = Capture::new();
        cap.gap_us = gap_us;
        Sink {
            cap,
            out,
            written: Written::default(),
        }
    }

    fn flush_if(&mut self, every: u64) -> io::Result<()> {
        if self.cap.frames % every == 0 {
            let b = self.cap.drain();
            self.written.bytes += b.len() as u64;
            self.out.write_all(&b)?;
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<Written> {
        self.flush_if(1)?;
        self.written.frames = self.cap.frames;
        Ok(self.written)
    }
}

/// A scan of `n` distinct targets: one SYN each from 192.0.2.66 to an address of 198.18.0.0/15
/// and a port (every address, then the next port), `gap_us` apart; every fourth target answers
/// with RST-ACK. Each target is a flow: `n` flows, all alive at once unless the scan is slower
/// than the TCP idle timeout.
pub fn syn_scan(n: u64, gap_us: u64, out: &mut dyn Write) -> io::Result<Written> {
    let mut s = Sink::new(out, gap_us);
    let scanner = [192, 0, 2, 66];
    let mss = [2, 4, 0x05, 0xb4];
    for i in 0..n {
        let a = (i % (1 << 17)) as u32;
        let port = (1 + i / (1 << 17)) as u16;
        let target = [198, 18 + (a >> 16) as u8, (a >> 8) as u8, a as u8];
        let src = (scanner, 40_000 + (i % 20_000) as u16);
        let seq = 0x1000_0000u32.wrapping_add(i as u32);
        s.cap
            .tcp_after(gap_us, src, (target, port), seq, 0, flags::SYN, &mss, &[]);
        if i % 4 == 3 {
            let rst = flags::RST | flags::ACK;
            s.cap
                .tcp_after(1, (target, port), src, 0, seq + 1, rst, &[], &[]);
        }
        s.flush_if(BATCH)?;
    }
    s.finish()
}

/// A flood of `n` DNS responses from 10.0.0.1 to 10.0.0.2, each for a distinct name
/// (`n<i>.flood.example`) with a distinct address (from 100.64.0.0 on), `gap_us` apart, the
/// client port cycling over 20,000 values.
pub fn dns_flood(n: u64, gap_us: u64, out: &mut dyn Write) -> io::Result<Written> {
    let mut s = Sink::new(out, gap_us);
    for i in 0..n {
        let a = 0x6440_0000u32.wrapping_add(i as u32).to_be_bytes();
        let name = format!("n{i}.flood.example");
        let client = ([10, 0, 0, 2], 30_000 + (i % 20_000) as u16);
        let answer = dns_message(i as u16, true, &name, &[], a);
        s.cap.udp(([10, 0, 0, 1], 53), client, &answer);
        s.flush_if(BATCH)?;
    }
    s.finish()
}

/// Distinct names a DNS-heavy capture looks up ([`dns_lookups`]).
const LOOKUP_NAMES: u64 = 2_000;

/// A DNS-heavy capture as a busy client makes it: `n` lookups (a query from 192.168.1.23 to
/// its resolver and the answer, about 80 and 110 bytes), `gap_us` between packets, of
/// [`LOOKUP_NAMES`] names under 50 domains, each name always with the same address; every
/// third answer leads through a CNAME. The client port cycles over 20,000 values, so a port
/// (a flow) carries a lookup again every 20,000 lookups.
pub fn dns_lookups(n: u64, gap_us: u64, out: &mut dyn Write) -> io::Result<Written> {
    let mut s = Sink::new(out, gap_us);
    let resolver = ([192, 168, 1, 1], 53);
    for i in 0..n {
        // Names in a shuffled order (a multiplier prime to the pool size), not round robin.
        let k = (i * 7_919) % LOOKUP_NAMES;
        let name = format!("host{k}.svc{}.example.com", k % 50);
        let cname = format!("edge{}.cdn.example.net", k % 97);
        let cnames: &[&str] = if k % 3 == 0 { &[&cname] } else { &[] };
        let a = 0x6440_0000u32.wrapping_add(k as u32).to_be_bytes();
        let client = ([192, 168, 1, 23], 30_000 + (i % 20_000) as u16);
        let id = i as u16;
        s.cap
            .udp(client, resolver, &dns_message(id, false, &name, &[], a));
        s.cap
            .udp(resolver, client, &dns_message(id, true, &name, cnames, a));
        s.flush_if(BATCH)?;
    }
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_decode::app::dns;
    use phonehome_decode::{decode, CaptureReader, Transport};

    #[test]
    fn a_scan_has_one_syn_per_target_and_some_resets() {
        let mut out = Vec::new();
        let w = syn_scan(1000, 10, &mut out).unwrap();
        assert_eq!(w.frames, 1250);
        assert_eq!(w.bytes, out.len() as u64);
        let mut r = CaptureReader::from_bytes("scan.pcap", out).unwrap();
        let mut targets = std::collections::BTreeSet::new();
        while let Some(f) = r.next_frame() {
            let p = decode(&f).unwrap();
            if let Transport::Tcp(h) = p.transport {
                if h.flags.0 == u16::from(flags::SYN) {
                    targets.insert((p.ip.dst, p.ports().1));
                }
            }
        }
        assert_eq!(targets.len(), 1000);
    }

    /// Calls `f` with each frame's length and its DNS message.
    fn each_dns_message(bytes: Vec<u8>, mut f: impl FnMut(usize, &dns::Message<'_>)) {
        let mut r = CaptureReader::from_bytes("dns.pcap", bytes).unwrap();
        while let Some(frame) = r.next_frame() {
            let p = decode(&frame).unwrap();
            f(frame.data.len(), &dns::parse(p.payload).unwrap());
        }
    }

    #[test]
    fn lookups_repeat_a_pool_of_names_in_small_frames() {
        let mut out = Vec::new();
        let w = dns_lookups(5_000, 20, &mut out).unwrap();
        assert_eq!(w.frames, 10_000);
        let (mut names, mut answers, mut bytes) = (std::collections::BTreeMap::new(), 0, 0);
        each_dns_message(out, |len, m| {
            bytes += len;
            let name = m.questions[0].name.to_lowercase_string();
            if m.is_response {
                answers += 1;
                let addr = m.records.iter().find_map(|(_, r)| match r.data {
                    dns::RData::A(a) => Some(a),
                    _ => None,
                });
                let addr = addr.expect("an address");
                // A name always comes with the same address.
                assert_eq!(*names.entry(name).or_insert(addr), addr);
            }
        });
        assert_eq!(answers, 5_000);
        assert_eq!(names.len(), LOOKUP_NAMES as usize);
        let mean = bytes / 10_000;
        assert!((70..=130).contains(&mean), "{mean} bytes a frame");
    }

    #[test]
    fn a_flood_names_a_new_address_every_answer() {
        let mut out = Vec::new();
        let w = dns_flood(500, 20, &mut out).unwrap();
        assert_eq!(w.frames, 500);
        let mut names = std::collections::BTreeSet::new();
        each_dns_message(out, |_, m| {
            names.insert(m.questions[0].name.to_lowercase_string());
        });
        assert_eq!(names.len(), 500);
    }
}
