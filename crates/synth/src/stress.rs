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

impl Sink<'_> {
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
    let mut s = Sink {
        cap: Capture::new(),
        out,
        written: Written::default(),
    };
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
    let mut s = Sink {
        cap: Capture::new(),
        out,
        written: Written::default(),
    };
    s.cap.gap_us = gap_us;
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

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn a_flood_names_a_new_address_every_answer() {
        let mut out = Vec::new();
        let w = dns_flood(500, 20, &mut out).unwrap();
        assert_eq!(w.frames, 500);
        let mut r = CaptureReader::from_bytes("flood.pcap", out).unwrap();
        let mut names = std::collections::BTreeSet::new();
        while let Some(f) = r.next_frame() {
            let p = decode(&f).unwrap();
            let m = phonehome_decode::app::dns::parse(p.payload).unwrap();
            names.insert(m.questions[0].name.to_lowercase_string());
        }
        assert_eq!(names.len(), 500);
    }
}
