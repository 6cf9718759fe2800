//! `CaptureSummary`: everything one capture (or a merge of several) yields, mergeable
//! associatively so that captures can be extracted anywhere and combined.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use phonehome_decode::{Timestamp, Warning};

use crate::frag::FragStats;
use crate::hosts::{aggregate, HostStats};
use crate::records::{DnsRow, FingerprintRow, FlowRecord, HttpRow, LocalName, TlsRow};
use crate::spill::{Record, Spilled, SpilledFlows};

/// Where the packets came from: one entry per capture file.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// File name as given (`-` for stdin).
    pub file: String,
    /// `pcap`, `pcapng`, ...
    pub format: String,
    /// `none`, `gzip`, `zstd`.
    pub compression: String,
    /// Read warnings (damage), each with its byte offset.
    pub warnings: Vec<Warning>,
}

/// Packet-level counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames read.
    pub frames: u64,
    /// Bytes captured (frame data).
    pub captured_bytes: u64,
    /// Bytes on the wire (original lengths).
    pub wire_bytes: u64,
    /// Frames per link type.
    pub link_types: BTreeMap<u16, u64>,
    /// Frames that reached the flow table (after fragment reassembly, one per datagram).
    pub packets: u64,
    /// Frames not decoded to IP, by reason.
    pub undecoded: BTreeMap<String, u64>,
    /// Frames outside `--since`/`--until`.
    pub filtered: u64,
    /// Fragment reassembly.
    pub fragments: FragStatsSum,
    /// DNS/TLS/HTTP rows not kept because a per-capture limit was reached.
    pub dropped_rows: u64,
    /// Addresses the DNS name table forgot (the first learnt) to make room for newer ones.
    pub evicted_name_addresses: u64,
    /// Reassembly buffers released early (dissected with what they held) because the total
    /// reassembly limit was reached.
    pub evicted_streams: u64,
    /// Flows finished early because the live-flow limit was reached.
    pub shed_flows: u64,
    /// Finished flows and DNS/TLS/HTTP rows written to temporary files (memory bound; the
    /// output is the same).
    pub spilled_flows: u64,
    /// Whether writing a temporary file failed (the flows then stayed in memory).
    pub spill_failed: bool,
    /// pcapng blocks skipped for being over the block size limit.
    pub oversized_blocks: u64,
}

/// Summed fragment counters (see [`FragStats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FragStatsSum(pub FragStats);

impl FragStatsSum {
    fn add(&mut self, o: &FragStatsSum) {
        let (a, b) = (&mut self.0, &o.0);
        a.fragments += b.fragments;
        a.reassembled += b.reassembled;
        a.abandoned += b.abandoned;
        a.abandoned_fragments += b.abandoned_fragments;
        a.abandoned_ip_bytes += b.abandoned_ip_bytes;
        a.counted_partial += b.counted_partial;
    }
}

impl Counters {
    fn merge(&mut self, o: Counters) {
        self.frames += o.frames;
        self.captured_bytes += o.captured_bytes;
        self.wire_bytes += o.wire_bytes;
        for (k, v) in o.link_types {
            *self.link_types.entry(k).or_default() += v;
        }
        self.packets += o.packets;
        for (k, v) in o.undecoded {
            *self.undecoded.entry(k).or_default() += v;
        }
        self.filtered += o.filtered;
        self.fragments.add(&o.fragments);
        self.dropped_rows += o.dropped_rows;
        self.evicted_name_addresses += o.evicted_name_addresses;
        self.evicted_streams += o.evicted_streams;
        self.shed_flows += o.shed_flows;
        self.spilled_flows += o.spilled_flows;
        self.spill_failed |= o.spill_failed;
        self.oversized_blocks += o.oversized_blocks;
    }
}

/// The result of extracting one capture, or the merge of several.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaptureSummary {
    /// The captures this summary covers, in merge order.
    pub sources: Vec<Source>,
    /// Packet counters.
    pub counters: Counters,
    /// Earliest packet time.
    pub first_ts: Option<Timestamp>,
    /// Latest packet time.
    pub last_ts: Option<Timestamp>,
    /// Flows held in memory, by id. When the capture had more finished flows than
    /// [`crate::Config::spill_after`], the others are in `spilled`: read every flow with
    /// [`CaptureSummary::flow_iter`].
    pub flows: Vec<FlowRecord>,
    /// DNS/mDNS/LLMNR messages, in capture order.
    pub dns: Vec<DnsRow>,
    /// ClientHellos, in capture order.
    pub tls: Vec<TlsRow>,
    /// HTTP requests, in capture order.
    pub http: Vec<HttpRow>,
    /// Hosts (name or address) with their counts.
    pub hosts: BTreeMap<String, HostStats>,
    /// Names local machines announced (mDNS, LLMNR, DHCP).
    pub local_names: BTreeSet<LocalName>,
    /// Distinct SYN and SYN-ACK signatures per host, in (host, kind, signature) order.
    pub fingerprints: Vec<FingerprintRow>,
    /// Flows written to temporary files while the capture was read (see [`crate::spill`]).
    pub spilled: Option<Arc<SpilledFlows>>,
    /// DNS rows on disk (then `dns` is empty): read them with [`CaptureSummary::dns_rows`].
    pub spilled_dns: Option<Arc<Spilled<DnsRow>>>,
    /// TLS rows on disk (then `tls` is empty).
    pub spilled_tls: Option<Arc<Spilled<TlsRow>>>,
    /// HTTP rows on disk (then `http` is empty).
    pub spilled_http: Option<Arc<Spilled<HttpRow>>>,
}

/// Rows from memory, or from their spill.
fn rows_of<'a, T: Record + Clone>(
    mem: &'a [T],
    disk: &'a Option<Arc<Spilled<T>>>,
) -> Box<dyn Iterator<Item = Cow<'a, T>> + 'a> {
    match disk {
        None => Box::new(mem.iter().map(Cow::Borrowed)),
        Some(d) => Box::new(
            mem.iter()
                .map(Cow::Borrowed)
                .chain(d.iter().map(Cow::Owned)),
        ),
    }
}

fn count_of<T: Record>(mem: &[T], disk: &Option<Arc<Spilled<T>>>) -> u64 {
    mem.len() as u64 + disk.as_ref().map_or(0, |d| d.len())
}

impl CaptureSummary {
    /// Seconds from the first packet to `ts`.
    pub fn rel_s(&self, ts: Timestamp) -> f64 {
        self.first_ts.map_or(0.0, |f| ts.since(f))
    }

    /// Seconds from the first to the last packet.
    pub fn duration_s(&self) -> f64 {
        match (self.first_ts, self.last_ts) {
            (Some(a), Some(b)) => b.since(a),
            _ => 0.0,
        }
    }

    /// Every flow, in id order: those in memory, merged with those spilled to disk.
    pub fn flow_iter(&self) -> Box<dyn Iterator<Item = Cow<'_, FlowRecord>> + '_> {
        match &self.spilled {
            None => Box::new(self.flows.iter().map(Cow::Borrowed)),
            Some(s) => Box::new(
                self.flows
                    .iter()
                    .map(Cow::Borrowed)
                    .chain(s.iter().map(Cow::Owned)),
            ),
        }
    }

    /// Every DNS row in time order, from memory or disk.
    pub fn dns_rows(&self) -> Box<dyn Iterator<Item = Cow<'_, DnsRow>> + '_> {
        rows_of(&self.dns, &self.spilled_dns)
    }

    /// Every TLS row in time order.
    pub fn tls_rows(&self) -> Box<dyn Iterator<Item = Cow<'_, TlsRow>> + '_> {
        rows_of(&self.tls, &self.spilled_tls)
    }

    /// Every HTTP row in time order.
    pub fn http_rows(&self) -> Box<dyn Iterator<Item = Cow<'_, HttpRow>> + '_> {
        rows_of(&self.http, &self.spilled_http)
    }

    /// DNS rows, in memory and on disk.
    pub fn dns_count(&self) -> u64 {
        count_of(&self.dns, &self.spilled_dns)
    }

    /// TLS rows, in memory and on disk.
    pub fn tls_count(&self) -> u64 {
        count_of(&self.tls, &self.spilled_tls)
    }

    /// HTTP rows, in memory and on disk.
    pub fn http_count(&self) -> u64 {
        count_of(&self.http, &self.spilled_http)
    }

    /// How many flows there are, in memory and on disk.
    pub fn flow_count(&self) -> u64 {
        self.flows.len() as u64 + self.spilled.as_ref().map_or(0, |s| s.len())
    }

    /// Reads spilled flows back into memory (merging needs them there).
    pub fn load_spilled(&mut self) {
        if self.spilled.is_some() {
            let all: Vec<FlowRecord> = self.flow_iter().map(Cow::into_owned).collect();
            self.flows = all;
            self.spilled = None;
        }
        if self.spilled_dns.is_some() {
            self.dns = self.dns_rows().map(Cow::into_owned).collect();
            self.spilled_dns = None;
        }
        if self.spilled_tls.is_some() {
            self.tls = self.tls_rows().map(Cow::into_owned).collect();
            self.spilled_tls = None;
        }
        if self.spilled_http.is_some() {
            self.http = self.http_rows().map(Cow::into_owned).collect();
            self.spilled_http = None;
        }
    }

    /// Recomputes the host table from the flows.
    pub fn rebuild_hosts(&mut self) {
        // Aggregation does not depend on the order of the flows: those on disk are counted run
        // by run, on the thread pool, and merged.
        let mut hosts = aggregate(self.flows.iter());
        if let Some(s) = &self.spilled {
            for (k, v) in s.hosts() {
                hosts.entry(k).or_default().merge(v);
            }
        }
        self.hosts = hosts;
    }

    /// Appends `other`: counts are summed, times take the minimum/maximum, rows are
    /// concatenated (the other summary's flow ids are shifted past this one's, so ids stay
    /// unique and the rows that refer to them still do), host rows are merged.
    ///
    /// Associative: `(a + b) + c == a + (b + c)`. What cannot equal a single pass over the
    /// concatenated packets: a flow that spans both parts is two flows (so `connections`
    /// counts it twice), and a flow in the second part whose DNS answer lies in the first
    /// part keeps the weaker name it got alone. Packet, byte and row counts are exact.
    pub fn merge(&mut self, mut other: CaptureSummary) {
        self.load_spilled();
        other.load_spilled();
        let shift = self.flows.iter().map(|f| f.id).max().unwrap_or(0);
        for f in &mut other.flows {
            f.id += shift;
        }
        for t in &mut other.tls {
            t.flow_id += shift;
        }
        for h in &mut other.http {
            h.flow_id += shift;
        }
        self.sources.append(&mut other.sources);
        self.counters.merge(other.counters);
        self.first_ts = min_opt(self.first_ts, other.first_ts, true);
        self.last_ts = min_opt(self.last_ts, other.last_ts, false);
        self.flows.append(&mut other.flows);
        self.dns.append(&mut other.dns);
        self.tls.append(&mut other.tls);
        self.http.append(&mut other.http);
        for (k, v) in other.hosts {
            self.hosts.entry(k).or_default().merge(v);
        }
        self.local_names.append(&mut other.local_names);
        // Same host and signature in both parts: one row, counts added, first time kept.
        for f in other.fingerprints {
            let same = self.fingerprints.iter_mut().find(|x| {
                x.host == f.host
                    && x.fingerprint.kind == f.fingerprint.kind
                    && x.fingerprint.p0f == f.fingerprint.p0f
                    && x.fingerprint.tcpdump_normalised == f.fingerprint.tcpdump_normalised
            });
            match same {
                Some(x) => {
                    x.count += f.count;
                    if f.first < x.first {
                        x.first = f.first;
                        x.fingerprint = f.fingerprint;
                    }
                }
                None => self.fingerprints.push(f),
            }
        }
        self.fingerprints.sort_by(|a, b| {
            (
                a.host,
                a.fingerprint.kind,
                &a.fingerprint.p0f,
                &a.fingerprint.tcpdump_normalised,
            )
                .cmp(&(
                    b.host,
                    b.fingerprint.kind,
                    &b.fingerprint.p0f,
                    &b.fingerprint.tcpdump_normalised,
                ))
        });
    }
}

fn min_opt(a: Option<Timestamp>, b: Option<Timestamp>, min: bool) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if min { a.min(b) } else { a.max(b) }),
        (a, b) => a.or(b),
    }
}
