//! IPv4 and IPv6 fragment reassembly, bounded in datagrams, bytes and time.
//!
//! A datagram is complete when the fragment without "more fragments" has arrived and the
//! fragments cover every byte before it. Overlapping fragments keep the first bytes received
//! (overlaps are an evasion trick; the first copy is what most stacks keep too).

use std::net::IpAddr;

use phonehome_decode::ip::IpHeader;

/// Most pieces kept per datagram (a 64 KiB datagram in 1500-byte frames has 45; beyond this
/// it is an attack or garbage, and the datagram is abandoned).
const MAX_PIECES: usize = 512;

/// Limits for fragment reassembly.
#[derive(Debug, Clone, Copy)]
pub struct FragLimits {
    /// Datagrams under reassembly at once; the oldest is dropped when full.
    pub max_datagrams: usize,
    /// Largest datagram reassembled (bytes of transport data).
    pub max_bytes: usize,
    /// Seconds of capture time a datagram may wait for its missing fragments.
    pub timeout_ns: i64,
}

impl Default for FragLimits {
    fn default() -> Self {
        FragLimits {
            max_datagrams: 4096,
            max_bytes: 65_535,
            timeout_ns: 30_000_000_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct DatagramKey {
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    id: u32,
}

#[derive(Debug)]
struct Datagram {
    first_seen: i64,
    /// Header of the first fragment (offset 0), once seen.
    header: Option<IpHeader>,
    /// (offset, bytes) pieces in arrival order.
    pieces: Vec<(usize, Vec<u8>)>,
    /// Total transport length, once the last fragment arrived.
    total: Option<usize>,
    /// Sum of the fragments' IP total lengths (the wire volume).
    wire_ip_bytes: u64,
    fragments: u32,
    vlan: Option<u16>,
    damaged: bool,
    /// The first fragment's captured bytes after the IP header (even when snapped) and time.
    first: Option<(Vec<u8>, phonehome_decode::Timestamp)>,
}

/// A reassembled datagram: the whole transport bytes with a header describing them.
#[derive(Debug)]
pub struct Reassembled {
    /// The first fragment's header, with `fragment: None` and the reassembled total length.
    pub header: IpHeader,
    /// Transport header and payload.
    pub data: Vec<u8>,
    /// Sum of the fragments' IP total lengths.
    pub wire_ip_bytes: u64,
    /// Fragments that made it.
    pub fragments: u32,
    /// Outermost VLAN id of the fragments.
    pub vlan: Option<u16>,
}

/// A datagram that never completed but whose first fragment arrived: what can still be counted
/// towards its flow (one packet, the fragments' IP bytes, the transport header it carries).
#[derive(Debug)]
pub struct Partial {
    /// The first fragment's header (still marked as a fragment).
    pub header: IpHeader,
    /// The first fragment's captured bytes after the IP header.
    pub data: Vec<u8>,
    /// When the first fragment was seen.
    pub ts: phonehome_decode::Timestamp,
    /// Sum of the IP total lengths of the fragments that arrived.
    pub wire_ip_bytes: u64,
    /// Outermost VLAN id.
    pub vlan: Option<u16>,
}

/// Counters of what the reassembler did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FragStats {
    /// Fragments received.
    pub fragments: u64,
    /// Datagrams reassembled.
    pub reassembled: u64,
    /// Datagrams given up (timeout, limits, snapped or inconsistent fragments).
    pub abandoned: u64,
    /// Fragments inside abandoned datagrams.
    pub abandoned_fragments: u64,
    /// IP bytes inside abandoned datagrams.
    pub abandoned_ip_bytes: u64,
    /// Abandoned datagrams whose first fragment arrived: counted towards their flow anyway.
    pub counted_partial: u64,
}

/// The fragment reassembler.
#[derive(Debug, Default)]
pub struct Defragmenter {
    limits: FragLimits,
    table: crate::FastMap<DatagramKey, Datagram>,
    stats: FragStats,
    evicted: Vec<Partial>,
}

impl Defragmenter {
    /// A reassembler with these limits.
    pub fn new(limits: FragLimits) -> Defragmenter {
        Defragmenter {
            limits,
            ..Defragmenter::default()
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> FragStats {
        self.stats
    }

    /// Adds one fragment (`ip.fragment` must be set; `data` is what follows the IP header(s)).
    /// Returns the datagram when this fragment completes it.
    pub fn add(
        &mut self,
        ip: &IpHeader,
        data: &[u8],
        ts: phonehome_decode::Timestamp,
        vlan: Option<u16>,
    ) -> Option<Reassembled> {
        let now = ts.as_nanos();
        let frag = ip.fragment?;
        self.stats.fragments += 1;
        let key = DatagramKey {
            src: ip.src,
            dst: ip.dst,
            protocol: ip.protocol,
            id: frag.id,
        };
        if !self.table.contains_key(&key) && self.table.len() >= self.limits.max_datagrams {
            if let Some(p) = self.drop_oldest() {
                self.evicted.push(p);
            }
        }
        let d = self.table.entry(key).or_insert_with(|| Datagram {
            first_seen: now,
            header: None,
            pieces: Vec::new(),
            total: None,
            wire_ip_bytes: 0,
            fragments: 0,
            vlan,
            damaged: false,
            first: None,
        });
        d.fragments += 1;
        d.wire_ip_bytes += u64::from(ip.total_len);
        let len = ip.total_len.saturating_sub(ip.header_len) as usize;
        let off = frag.offset as usize;
        if data.len() < len || off + len > self.limits.max_bytes || d.pieces.len() >= MAX_PIECES {
            // Snapped by the capture, larger than allowed, or too many pieces: cannot be
            // rebuilt, and nothing more is kept for it.
            d.damaged = true;
            d.pieces.clear();
        } else if !d.damaged {
            d.pieces.push((off, data[..len].to_vec()));
        }
        if off == 0 && d.first.is_none() {
            d.header = Some(*ip);
            d.first = Some((data[..len.min(data.len())].to_vec(), ts));
        }
        if !frag.more {
            d.total = Some(off + len);
        }
        let done = d.total.is_some_and(|t| covered(&d.pieces) >= t) && d.header.is_some();
        if done && !d.damaged {
            let d = self.table.remove(&key)?;
            self.stats.reassembled += 1;
            return Some(assemble(d));
        }
        None
    }

    /// Gives up datagrams older than the timeout; returns those whose first fragment arrived.
    pub fn expire(&mut self, now: i64) -> Vec<Partial> {
        let timeout = self.limits.timeout_ns;
        let mut old: Vec<DatagramKey> = self
            .table
            .iter()
            .filter(|(_, d)| now.saturating_sub(d.first_seen) > timeout)
            .map(|(k, _)| *k)
            .collect();
        self.give_up(&mut old)
    }

    /// Partial datagrams evicted by [`Defragmenter::add`] because the table was full.
    pub fn take_evicted(&mut self) -> Vec<Partial> {
        std::mem::take(&mut self.evicted)
    }

    /// Gives up every datagram still waiting (end of capture).
    pub fn finish(&mut self) -> Vec<Partial> {
        let mut all: Vec<DatagramKey> = self.table.keys().copied().collect();
        self.give_up(&mut all)
    }

    /// Abandons `keys` in a deterministic order (first seen, then key).
    fn give_up(&mut self, keys: &mut [DatagramKey]) -> Vec<Partial> {
        keys.sort_unstable_by_key(|k| (self.table.get(k).map_or(0, |d| d.first_seen), *k));
        let mut out = Vec::new();
        for k in keys.iter() {
            if let Some(p) = self.table.remove(k).and_then(|d| self.abandon(d)) {
                out.push(p);
            }
        }
        out
    }

    fn abandon(&mut self, d: Datagram) -> Option<Partial> {
        self.stats.abandoned += 1;
        self.stats.abandoned_fragments += u64::from(d.fragments);
        self.stats.abandoned_ip_bytes += d.wire_ip_bytes;
        let (header, (data, ts)) = (d.header?, d.first?);
        self.stats.counted_partial += 1;
        Some(Partial {
            header,
            data,
            ts,
            wire_ip_bytes: d.wire_ip_bytes,
            vlan: d.vlan,
        })
    }

    /// Gives up the oldest datagram (the table is full).
    fn drop_oldest(&mut self) -> Option<Partial> {
        let oldest = self
            .table
            .iter()
            .min_by_key(|(k, d)| (d.first_seen, **k))
            .map(|(k, _)| *k)?;
        let d = self.table.remove(&oldest)?;
        self.abandon(d)
    }
}

/// How many bytes from offset 0 the pieces cover without a hole.
fn covered(pieces: &[(usize, Vec<u8>)]) -> usize {
    let mut spans: Vec<(usize, usize)> = pieces.iter().map(|(o, b)| (*o, o + b.len())).collect();
    spans.sort_unstable();
    let mut end = 0;
    for (s, e) in spans {
        if s > end {
            break;
        }
        end = end.max(e);
    }
    end
}

fn assemble(d: Datagram) -> Reassembled {
    let total = d.total.unwrap_or(0);
    let mut data = vec![0u8; total];
    let mut filled = vec![false; total];
    for (off, bytes) in &d.pieces {
        for (i, b) in bytes.iter().enumerate() {
            let at = off + i;
            if at < total && !filled[at] {
                data[at] = *b;
                filled[at] = true;
            }
        }
    }
    let mut header = d.header.unwrap_or_else(unreachable_header);
    header.fragment = None;
    header.total_len = header.header_len + total as u32;
    Reassembled {
        header,
        data,
        wire_ip_bytes: d.wire_ip_bytes,
        fragments: d.fragments,
        vlan: d.vlan,
    }
}

/// Never used: `assemble` runs only once the first fragment's header is known.
fn unreachable_header() -> IpHeader {
    IpHeader {
        version: 4,
        src: IpAddr::from([0, 0, 0, 0]),
        dst: IpAddr::from([0, 0, 0, 0]),
        ttl: 0,
        protocol: 0,
        total_len: 0,
        header_len: 0,
        ident: 0,
        dont_fragment: false,
        fragment: None,
        options_len: 0,
        flow_label: 0,
        ecn: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_decode::ip::Fragment;
    use phonehome_decode::Timestamp;

    fn t(ns: i64) -> Timestamp {
        Timestamp {
            secs: ns / 1_000_000_000,
            nanos: (ns % 1_000_000_000) as u32,
        }
    }

    fn hdr(offset: u32, more: bool, len: u32) -> IpHeader {
        IpHeader {
            version: 4,
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            ttl: 64,
            protocol: 17,
            total_len: 20 + len,
            header_len: 20,
            ident: 7,
            dont_fragment: false,
            fragment: Some(Fragment {
                id: 7,
                offset,
                more,
            }),
            options_len: 0,
            flow_label: 0,
            ecn: 0,
        }
    }

    #[test]
    fn reassembles_out_of_order_with_overlap() {
        let mut d = Defragmenter::new(FragLimits::default());
        let whole: Vec<u8> = (0..40u8).collect();
        assert!(d
            .add(&hdr(24, false, 16), &whole[24..], t(0), None)
            .is_none());
        assert!(d
            .add(&hdr(8, true, 24), &whole[8..32], t(1), None)
            .is_none());
        let r = d.add(&hdr(0, true, 16), &whole[..16], t(2), None).unwrap();
        assert_eq!(r.data, whole);
        assert_eq!(r.fragments, 3);
        assert_eq!(r.wire_ip_bytes, 36 + 44 + 36);
        assert_eq!(r.header.total_len, 60);
        assert!(r.header.fragment.is_none());
        assert_eq!(d.stats().reassembled, 1);
    }

    #[test]
    fn timeouts_and_limits_bound_memory() {
        let mut d = Defragmenter::new(FragLimits {
            max_datagrams: 2,
            max_bytes: 100,
            timeout_ns: 10,
        });
        for id in 0..5u32 {
            let mut h = hdr(0, true, 8);
            h.fragment = Some(Fragment {
                id,
                offset: 0,
                more: true,
            });
            d.add(&h, &[0; 8], t(i64::from(id)), None);
        }
        assert_eq!(d.table.len(), 2);
        // The three evicted and the two expired all had their first fragment: countable.
        assert_eq!(d.take_evicted().len(), 3);
        assert_eq!(d.expire(100).len(), 2);
        assert_eq!(d.table.len(), 0);
        assert_eq!(d.stats().abandoned, 5);
        assert_eq!(d.stats().counted_partial, 5);
        // Too large a datagram is never rebuilt.
        assert!(d.add(&hdr(96, false, 8), &[0; 8], t(0), None).is_none());
        // No first fragment: nothing to count towards a flow.
        assert!(d.finish().is_empty());
        assert_eq!(d.stats().abandoned, 6);
    }

    #[test]
    fn snapped_fragment_abandons_the_datagram() {
        let mut d = Defragmenter::new(FragLimits::default());
        assert!(d.add(&hdr(0, true, 16), &[0; 10], t(0), None).is_none());
        assert!(d.add(&hdr(16, false, 8), &[0; 8], t(0), None).is_none());
        let p = d.finish();
        assert_eq!(d.stats().abandoned_fragments, 2);
        // The snapped first fragment still counts: its 10 captured bytes, both fragments' bytes.
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].data.len(), p[0].wire_ip_bytes), (10, 36 + 28));
    }
}
