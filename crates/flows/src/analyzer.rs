//! The flow table: packets in, finished flows and a [`CaptureSummary`] out.

use std::collections::VecDeque;
use std::sync::Arc;

use phonehome_decode::tcp::TcpFlags;
use phonehome_decode::{
    decode, decode_transport, CaptureReader, DecodeError, Frame, Packet, PacketShape, Timestamp,
    Transport,
};

use crate::dissect::{Rows, StreamLimits};
use crate::dnsfacts::FactText;
use crate::flow::Flow;
use crate::frag::{Defragmenter, FragLimits};
use crate::key::{first_sender_is_client, Endpoint, FlowKey};
use crate::names::{self, NameTable};
use crate::prepare::{FramePrep, Prepared};
use crate::records::{DnsRow, HttpRow, TlsRow};
use crate::records::{FlowRecord, NameSource};
use crate::spill::{Spilled, Store, Stored};
use crate::summary::{CaptureSummary, Counters, FragStatsSum, Source};

const NS: i64 = 1_000_000_000;

/// What a user may tune about flow building.
#[derive(Debug, Clone)]
pub struct Config {
    /// TCP inactivity timeout, seconds (Zeek's default: 5 minutes).
    pub tcp_idle_s: f64,
    /// UDP inactivity timeout, seconds (Zeek's default: 1 minute).
    pub udp_idle_s: f64,
    /// Inactivity timeout for ICMP and other protocols, seconds.
    pub other_idle_s: f64,
    /// Split flows longer than this many seconds (off by default).
    pub active_timeout_s: Option<f64>,
    /// Skip packets earlier than this many seconds after the first packet.
    pub since_s: Option<f64>,
    /// Skip packets later than this many seconds after the first packet.
    pub until_s: Option<f64>,
    /// Most flows alive at once; beyond it the least recently active are finished early.
    pub max_live_flows: usize,
    /// Fragment reassembly limits.
    pub frag: FragLimits,
    /// Client-stream reassembly limits, per flow and in total.
    pub stream: StreamLimits,
    /// Most addresses the DNS name table holds; the one learnt first is forgotten beyond it.
    pub max_name_addresses: usize,
    /// Most answers kept per address in the name table (the newest win).
    pub names_per_address: usize,
    /// Finished flows held in memory before they go to a temporary file in sorted runs
    /// (`None`: never). Memory then follows the live flows, not the capture's length.
    pub spill_after: Option<usize>,
    /// Most DNS, TLS and HTTP rows kept per capture, each; further ones are counted, not kept.
    pub max_rows: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            tcp_idle_s: 300.0,
            udp_idle_s: 60.0,
            other_idle_s: 60.0,
            active_timeout_s: None,
            since_s: None,
            until_s: None,
            max_live_flows: 1_000_000,
            frag: FragLimits::default(),
            stream: StreamLimits::default(),
            max_name_addresses: names::DEFAULT_MAX_ADDRESSES,
            names_per_address: names::DEFAULT_PER_ADDRESS,
            spill_after: Some(DEFAULT_SPILL_AFTER),
            max_rows: crate::dissect::MAX_ROWS,
        }
    }
}

/// Rows gathered by the dissectors before they move to their stores.
const ROW_BATCH: usize = 256;

/// Finished flows held in memory before spilling, by default.
pub const DEFAULT_SPILL_AFTER: usize = 20_000;

fn ns(s: f64) -> i64 {
    (s * 1e9).clamp(0.0, i64::MAX as f64) as i64
}

/// Builds flows from one capture's frames.
#[derive(Debug)]
pub struct Analyzer {
    cfg: Config,
    idle_ns: [i64; 3],
    /// Live flows, boxed: the table's buckets stay small (a hash table holds up to twice its
    /// entries in buckets, and a flow is some 500 bytes).
    live: crate::FastMap<FlowKey, Box<Flow>>,
    finished: Store<FlowRecord>,
    /// DNS, TLS and HTTP rows, moved out of the dissectors' lists in batches.
    dns_rows: Store<DnsRow>,
    tls_rows: Store<TlsRow>,
    http_rows: Store<HttpRow>,
    rows: Rows,
    defrag: Defragmenter,
    next_id: u64,
    counters: Counters,
    first_in_file: Option<i64>,
    first_ts: Option<Timestamp>,
    last_ts: Option<Timestamp>,
    clock: i64,
    next_sweep: i64,
    shed_flows: u64,
    /// Flows whose reassembly buffers started holding bytes, oldest first (entries of flows
    /// since finished or released are skipped, and compacted away now and then).
    stream_order: VecDeque<(FlowKey, u64)>,
    evicted_streams: u64,
}

impl Analyzer {
    /// An empty table.
    pub fn new(cfg: Config) -> Analyzer {
        let finished = Store::new(cfg.spill_after);
        let (dns_rows, tls_rows, http_rows) = (
            Store::new(cfg.spill_after),
            Store::new(cfg.spill_after),
            Store::new(cfg.spill_after),
        );
        let rows = Rows {
            stream_limits: cfg.stream,
            row_limit: Some(cfg.max_rows),
            names: NameTable::with_limits(cfg.max_name_addresses, cfg.names_per_address),
            ..Rows::default()
        };
        Analyzer {
            idle_ns: [ns(cfg.tcp_idle_s), ns(cfg.udp_idle_s), ns(cfg.other_idle_s)],
            defrag: Defragmenter::new(cfg.frag),
            cfg,
            live: crate::FastMap::default(),
            finished,
            dns_rows,
            tls_rows,
            http_rows,
            rows,
            next_id: 1,
            counters: Counters::default(),
            first_in_file: None,
            first_ts: None,
            last_ts: None,
            clock: i64::MIN,
            next_sweep: i64::MIN,
            shed_flows: 0,
            stream_order: VecDeque::new(),
            evicted_streams: 0,
        }
    }

    /// Client bytes held for reassembly now, over all live flows.
    pub fn reassembly_bytes(&self) -> usize {
        self.rows.stream_held
    }

    /// Addresses the DNS name table holds now.
    pub fn name_addresses(&self) -> usize {
        self.rows.names.len()
    }

    /// Flows alive now.
    pub fn live_flows(&self) -> usize {
        self.live.len()
    }

    /// Feeds one frame.
    pub fn feed(&mut self, frame: &Frame<'_>) {
        self.feed_frame(frame, None);
    }

    /// Feeds one frame with what [`FramePrep`] made for it, if anything, the text of its facts
    /// in `text` (the same result as [`Analyzer::feed`], sooner).
    pub fn feed_prepared(
        &mut self,
        frame: &Frame<'_>,
        prepared: Option<Prepared>,
        text: &mut FactText,
    ) {
        let (shape, dns) = match prepared {
            Some(Prepared { shape, dns }) => (Some(shape), dns),
            None => (None, None),
        };
        // One call of `feed_frame`, so that it is inlined here once.
        if dns.is_some() {
            self.rows.prepared = dns.and_then(|i| text.facts(i));
            std::mem::swap(&mut self.rows.prepared_text, text);
        }
        self.feed_frame(frame, shape);
        if dns.is_some() {
            std::mem::swap(&mut self.rows.prepared_text, text);
            // Unused when the datagram took another path (a QUIC-looking payload, a filtered
            // frame).
            self.rows.prepared = None;
        }
    }

    /// One frame, decoded already when its `shape` is given.
    fn feed_frame(&mut self, frame: &Frame<'_>, shape: Option<PacketShape>) {
        let now = frame.ts.as_nanos();
        let first = *self.first_in_file.get_or_insert(now);
        // The capture's span covers every frame, filtered or not, so that rel_s counts from the
        // capture's first packet whatever --since says.
        match &mut self.first_ts {
            Some(t) if *t <= frame.ts => {}
            t => *t = Some(frame.ts),
        }
        match &mut self.last_ts {
            Some(t) if *t >= frame.ts => {}
            t => *t = Some(frame.ts),
        }
        let rel = now.saturating_sub(first);
        if self.cfg.since_s.is_some_and(|s| rel < ns(s))
            || self.cfg.until_s.is_some_and(|u| rel > ns(u))
        {
            self.counters.filtered += 1;
            return;
        }
        self.clock = self.clock.max(now);
        if self.clock >= self.next_sweep {
            self.sweep();
            self.next_sweep = self.clock.saturating_add(NS);
        }
        // Each arm hands its packet on where it was made: a `Result` built first and matched
        // after cost two copies of the 168-byte packet per frame.
        match shape {
            Some(s) => {
                let p = s.packet(frame.data);
                self.packet(&p, frame.ts, u64::from(p.ip.total_len));
            }
            None => match decode(frame) {
                Ok(p) => self.packet(&p, frame.ts, u64::from(p.ip.total_len)),
                Err(e) => self.undecodable(&e),
            },
        }
    }

    /// Counts a frame that did not decode, by reason.
    #[cold]
    fn undecodable(&mut self, e: &DecodeError) {
        let reason = match e {
            DecodeError::UnsupportedLink(lt) => format!("link type {lt}"),
            DecodeError::NotIp(k) => format!("not IP ({k:?})"),
            DecodeError::Truncated(w) => format!("truncated {w}"),
            DecodeError::Malformed(w) => format!("malformed {w}"),
            _ => "other".to_string(),
        };
        *self.counters.undecoded.entry(reason).or_default() += 1;
    }

    #[inline(always)]
    fn packet(&mut self, p: &Packet<'_>, ts: Timestamp, ip_bytes: u64) {
        if p.ip.fragment.is_some() {
            self.fragment(p, ts);
            return;
        }
        self.flow_packet(p, ts, ip_bytes);
    }

    /// A fragment: held until its datagram is whole, then that datagram goes on as a packet.
    #[cold]
    #[inline(never)]
    fn fragment(&mut self, p: &Packet<'_>, ts: Timestamp) {
        let data = p.ip_payload;
        let done = self.defrag.add(&p.ip, data, ts, p.vlan);
        for partial in self.defrag.take_evicted() {
            self.partial(partial);
        }
        if let Some(r) = done {
            match decode_transport(r.header, &r.data) {
                Ok(mut whole) => {
                    whole.vlan = r.vlan;
                    whole.src_mac = p.src_mac;
                    whole.tunnel = p.tunnel;
                    self.flow_packet(&whole, ts, r.wire_ip_bytes);
                }
                Err(_) => {
                    *self
                        .counters
                        .undecoded
                        .entry("reassembled datagram undecodable".into())
                        .or_default() += 1;
                }
            }
        }
    }

    #[inline(always)]
    fn flow_packet(&mut self, p: &Packet<'_>, ts: Timestamp, ip_bytes: u64) {
        self.counters.packets += 1;
        let now = ts.as_nanos();
        let (sp, dp) = p.ports();
        let src = Endpoint {
            ip: p.ip.src,
            port: sp,
        };
        let dst = Endpoint {
            ip: p.ip.dst,
            port: dp,
        };
        let key = FlowKey::new(p.ip.protocol, src, dst, p.vlan);
        let tcp = match p.transport {
            Transport::Tcp(h) => Some(h),
            _ => None,
        };
        let syn_only =
            tcp.is_some_and(|h| h.flags.has(TcpFlags::SYN) && !h.flags.has(TcpFlags::ACK));
        let seq = tcp.map(|h| h.seq);
        // The common case, a packet of a live flow, costs one lookup.
        if let Some(flow) = self.live.get_mut(&key) {
            if !starts_new(&self.cfg, &self.idle_ns, flow, now, syn_only, seq) {
                let started_holding = self.rows.update(flow, p, src, ts, ip_bytes, syn_only);
                if started_holding {
                    self.stream_order.push_back((key, flow.id));
                }
                self.after_packet(ts);
                return;
            }
            if let Some(f) = self.live.remove(&key) {
                self.finish(f);
            }
        }
        self.start_flow(key, p, (src, dst), ts, ip_bytes, syn_only);
    }

    /// The first packet of a flow (out of line: one packet in hundreds on bulk traffic).
    #[inline(never)]
    fn start_flow(
        &mut self,
        key: FlowKey,
        p: &Packet<'_>,
        (src, dst): (Endpoint, Endpoint),
        ts: Timestamp,
        ip_bytes: u64,
        syn_only: bool,
    ) {
        let now = ts.as_nanos();
        let tcp = match p.transport {
            Transport::Tcp(h) => Some(h),
            _ => None,
        };
        if self.live.len() >= self.cfg.max_live_flows {
            self.shed();
        }
        let client_first = match tcp {
            Some(h) if h.flags.has(TcpFlags::SYN) => !h.flags.has(TcpFlags::ACK),
            _ => first_sender_is_client(src, dst),
        };
        let (c, s) = if client_first { (src, dst) } else { (dst, src) };
        let id = self.next_id;
        self.next_id += 1;
        let mut flow = Box::new(Flow::new(id, p.ip.protocol, c, s, p.vlan, ts));
        if let Some(st) = flow.stream.as_mut() {
            st.set_cap(self.cfg.stream.per_flow);
        }
        // Rule 2 is decided now, while the answers before the start are all still known.
        flow.dns_name = self
            .rows
            .names
            .before(s.ip, c.ip, now)
            .map(|a| (a.qname.to_string(), a.chain.to_vec()));
        if self.rows.update(&mut flow, p, src, ts, ip_bytes, syn_only) {
            self.stream_order.push_back((key, id));
        }
        self.live.insert(key, flow);
        self.after_packet(ts);
    }

    /// After each packet: keeps reassembly within its budget and moves rows to their stores.
    /// Both are rare; the tests stay inline.
    #[inline(always)]
    fn after_packet(&mut self, ts: Timestamp) {
        if self.rows.stream_held > self.cfg.stream.total {
            self.release_streams(ts);
        }
        if self.rows.dns.len() > ROW_BATCH
            || self.rows.tls.len() > ROW_BATCH
            || self.rows.http.len() > ROW_BATCH
        {
            self.move_rows(ROW_BATCH);
        }
    }

    /// Moves the dissectors' rows into their stores (in time order, ties in the order found)
    /// once more than `batch` of one kind are waiting.
    #[inline(never)]
    fn move_rows(&mut self, batch: usize) {
        if self.rows.dns.len() > batch {
            self.dns_rows.append(&mut self.rows.dns);
        }
        if self.rows.tls.len() > batch {
            for r in self.rows.tls.drain(..) {
                self.tls_rows.push(r.ts.as_nanos(), &r);
            }
        }
        if self.rows.http.len() > batch {
            for r in self.rows.http.drain(..) {
                self.http_rows.push(r.ts.as_nanos(), &r);
            }
        }
    }

    /// The reassembly budget is spent: the flows whose buffers started holding bytes first are
    /// dissected with what they have and their buffers released, until the total fits.
    fn release_streams(&mut self, ts: Timestamp) {
        while self.rows.stream_held > self.cfg.stream.total {
            let Some((key, id)) = self.stream_order.pop_front() else {
                break;
            };
            let Some(f) = self.live.get_mut(&key).filter(|f| f.id == id) else {
                continue;
            };
            let held = f.held_bytes();
            if held == 0 {
                continue;
            }
            self.rows.try_stream(f, ts, true);
            f.crypto = None;
            self.rows.stream_held = self.rows.stream_held.saturating_sub(held - f.held_bytes());
            self.evicted_streams += 1;
        }
        // Keep the queue in proportion to the flows that can be in it.
        if self.stream_order.len() > 2 * self.live.len() + 4096 {
            let live = &self.live;
            self.stream_order.retain(|(k, id)| {
                live.get(k)
                    .is_some_and(|f| f.id == *id && f.held_bytes() > 0)
            });
        }
    }

    /// Finishes flows idle past their timeout, and expires waiting fragments.
    fn sweep(&mut self) {
        let clock = self.clock;
        let idle = self.idle_ns;
        let expired: Vec<(u64, FlowKey)> = self
            .live
            .iter()
            .filter(|(_, f)| {
                let limit = match f.proto {
                    6 => idle[0],
                    17 => idle[1],
                    _ => idle[2],
                };
                clock.saturating_sub(f.last_ns) > limit
            })
            .map(|(k, f)| (f.id, *k))
            .collect();
        // Finish in id order: finishing dissects leftovers and appends rows, so the order must
        // not depend on the hash map's.
        let mut expired = expired;
        // Ids are unique: the key is not compared.
        expired.sort_unstable_by_key(|(id, _)| *id);
        for (_, k) in expired {
            if let Some(f) = self.live.remove(&k) {
                self.finish(f);
            }
        }
        for partial in self.defrag.expire(clock) {
            self.partial(partial);
        }
    }

    /// Counts a datagram that never completed towards its flow when its first fragment (with
    /// the transport header) arrived: one packet, the fragments' IP bytes.
    fn partial(&mut self, p: crate::frag::Partial) {
        let mut header = p.header;
        header.fragment = None;
        header.total_len = header.header_len + p.data.len() as u32;
        if let Ok(mut packet) = decode_transport(header, &p.data) {
            packet.vlan = p.vlan;
            self.flow_packet(&packet, p.ts, p.wire_ip_bytes);
        }
    }

    /// Finishes the least recently active tenth of the live flows (the table is full).
    fn shed(&mut self) {
        let mut by_age: Vec<(i64, u64, FlowKey)> = self
            .live
            .iter()
            .map(|(k, f)| (f.last_ns, f.id, *k))
            .collect();
        by_age.sort_unstable();
        let n = (by_age.len() / 10).max(1);
        self.shed_flows += n as u64;
        for (_, _, k) in by_age.into_iter().take(n) {
            if let Some(f) = self.live.remove(&k) {
                self.finish(f);
            }
        }
    }

    fn finish(&mut self, mut f: Box<Flow>) {
        self.rows.stream_held = self.rows.stream_held.saturating_sub(f.held_bytes());
        let end = f.end;
        self.rows.try_stream(&mut f, end, true);
        // Local and resolver protocols keep no DNS-learnt name.
        if !wants_dns_name(f.app) {
            f.dns_name = None;
        }
        let r = f.into_record();
        self.finished.push(r.id as i64, &r);
    }

    /// Ends the capture: finishes every live flow, applies the weaker DNS rule to flows still
    /// without a name, and returns the summary.
    pub fn finish_capture(mut self, source: Source, reader_stats: Counters) -> CaptureSummary {
        for partial in self.defrag.finish() {
            self.partial(partial);
        }
        let mut left: Vec<Box<Flow>> = self.live.drain().map(|(_, f)| f).collect();
        left.sort_unstable_by_key(|f| f.id);
        for f in left {
            self.finish(f);
        }
        self.move_rows(0);
        let store = std::mem::replace(&mut self.finished, Store::new(None));
        let spilled_flows = store.spilled()
            + self.dns_rows.spilled()
            + self.tls_rows.spilled()
            + self.http_rows.spilled();
        let spill_failed = store.error.is_some()
            || self.dns_rows.error.is_some()
            || self.tls_rows.error.is_some()
            || self.http_rows.error.is_some();
        let names = std::mem::take(&mut self.rows.names);
        let evicted_names = names.evicted();
        let (flows, spill) = store.finish_flows(names);
        let (dns, spilled_dns) =
            split(std::mem::replace(&mut self.dns_rows, Store::new(None)).finish());
        let (tls, spilled_tls) =
            split(std::mem::replace(&mut self.tls_rows, Store::new(None)).finish());
        let (http, spilled_http) =
            split(std::mem::replace(&mut self.http_rows, Store::new(None)).finish());
        let mut counters = reader_stats;
        counters.packets = self.counters.packets;
        counters.undecoded = std::mem::take(&mut self.counters.undecoded);
        counters.filtered = self.counters.filtered;
        counters.fragments = FragStatsSum(self.defrag.stats());
        counters.dropped_rows = self.rows.dropped;
        counters.evicted_name_addresses = evicted_names;
        counters.spilled_flows = spilled_flows;
        counters.spill_failed = spill_failed;
        counters.evicted_streams = self.evicted_streams;
        counters.shed_flows = self.shed_flows;
        let mut summary = CaptureSummary {
            sources: vec![source],
            counters,
            first_ts: self.first_ts,
            last_ts: self.last_ts,
            flows,
            dns,
            tls,
            http,
            hosts: Default::default(),
            local_names: self.rows.local_names,
            fingerprints: self.rows.fingerprints.into_values().collect(),
            spilled: spill.map(Arc::new),
            spilled_dns,
            spilled_tls,
            spilled_http,
        };
        summary.rebuild_hosts();
        summary
    }
}

/// Whether a packet on an existing flow's 5-tuple starts a new flow: idle past the timeout,
/// past the active timeout, or a new SYN on a closed (or closing, with a new ISN) TCP
/// connection.
fn starts_new(
    cfg: &Config,
    idle_ns: &[i64; 3],
    f: &Flow,
    now: i64,
    syn_only: bool,
    seq: Option<u32>,
) -> bool {
    let idle = match f.proto {
        6 => idle_ns[0],
        17 => idle_ns[1],
        _ => idle_ns[2],
    };
    if now.saturating_sub(f.last_ns) > idle {
        return true;
    }
    if let Some(a) = cfg.active_timeout_s {
        if now.saturating_sub(f.start.as_nanos()) > ns(a) {
            return true;
        }
    }
    match (&f.tcp, syn_only) {
        (Some(t), true) => {
            t.is_closed() || (t.is_closing() && t.client_isn().is_some_and(|i| Some(i) != seq))
        }
        _ => false,
    }
}

/// Rows in memory, or the spill that holds them all.
type Split<T> = (Vec<T>, Option<Arc<Spilled<T>>>);

fn split<T>(s: Stored<T>) -> Split<T> {
    match s {
        Stored::Mem(v) => (v, None),
        Stored::Disk(d) => (Vec::new(), Some(Arc::new(d))),
    }
}

/// Attribution rule 3 of DESIGN.md for a flow that has no name after rules 1 and 2: any
/// answer in the capture for the server address (weaker).
pub(crate) fn attribute_any(names: &NameTable, r: &mut FlowRecord) {
    if r.name_source != NameSource::None || !wants_dns_name(r.app) {
        return;
    }
    if let Some(a) = names.any(r.server.ip, r.start.as_nanos()) {
        r.hostname = Some(a.qname.to_string());
        r.cname_chain = a.chain.to_vec();
        r.name_source = NameSource::DnsAny;
    }
}

/// Flows of local or resolver protocols keep no DNS-learnt name.
fn wants_dns_name(app: Option<&str>) -> bool {
    !matches!(app, Some("dns" | "mdns" | "llmnr" | "dhcp" | "ssdp"))
}

/// Reads a whole capture and summarises it. `progress` is called with the bytes read so far
/// (of the decompressed stream for compressed input) and the frames read, every 4096 frames.
pub fn analyze(
    reader: &mut CaptureReader,
    cfg: Config,
    progress: impl FnMut(u64, u64),
) -> CaptureSummary {
    analyze_with(reader, cfg, false, progress)
}

/// [`analyze`], with the capture read on a second thread when `read_ahead` is set (see
/// [`CaptureReader::for_each_frame_prepared`], which also makes DNS facts ahead with
/// [`FramePrep`]): the same summary, sooner on two cores.
pub fn analyze_with(
    reader: &mut CaptureReader,
    cfg: Config,
    read_ahead: bool,
    mut progress: impl FnMut(u64, u64),
) -> CaptureSummary {
    let mut a = Analyzer::new(cfg);
    let mut n = 0u64;
    let mut each = |frame: &Frame<'_>, prepared: Option<Prepared>, text: &mut FactText| {
        a.feed_prepared(frame, prepared, text);
        n += 1;
        if n % 4096 == 0 {
            progress(frame.offset, n);
        }
    };
    if read_ahead {
        reader.for_each_frame_prepared(&FramePrep, each);
    } else {
        let mut text = FactText::default();
        while let Some(frame) = reader.next_frame() {
            each(&frame, None, &mut text);
        }
    }
    let st = reader.stats();
    let source = Source {
        file: reader.name().to_string(),
        format: reader.format().name().to_string(),
        compression: reader.compression().name().to_string(),
        warnings: reader.warnings().to_vec(),
    };
    let counters = Counters {
        frames: st.frames,
        captured_bytes: st.captured_bytes,
        wire_bytes: st.wire_bytes,
        link_types: st.link_types.clone(),
        oversized_blocks: st.oversized_blocks,
        ..Counters::default()
    };
    a.finish_capture(source, counters)
}
