//! Finished flows beyond a threshold go to temporary files, so that memory follows the live
//! flows and not the length of the capture (a scan of millions of targets finishes millions of
//! flows).
//!
//! Finished flows are held in memory until `spill_after` of them are; that batch is sorted by
//! id and written to an unnamed temporary file as one sorted run. Reading merges the runs and
//! the in-memory rest by id (a k-way merge, one record per run in memory), and applies
//! attribution rule 3 to each record as it goes by, with the name table the capture ended with.
//! The files disappear with the summary (or the process).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::marker::PhantomData;
use std::net::IpAddr;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

use phonehome_decode::Timestamp;

use crate::key::Endpoint;
use crate::names::NameTable;
use crate::records::{DirStats, DnsRow, FlowRecord, HttpRow, NameSource, TlsRow};

/// A record that can go to a temporary file and come back.
pub trait Record: Sized {
    /// Appends the record's bytes.
    fn encode(&self, out: &mut Vec<u8>);
    /// Reads a record written by [`Record::encode`].
    fn decode(b: &mut &[u8]) -> Option<Self>;
}

/// Records written to temporary files in runs, each sorted by (key, arrival), read back in
/// that order by a k-way merge that holds one record per run.
pub struct Spilled<T> {
    runs: Vec<File>,
    count: u64,
    _records: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Spilled<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Spilled {{ runs: {}, records: {} }}",
            self.runs.len(),
            self.count
        )
    }
}

/// Two spills are equal only when they are the same spill (they are files, not values).
impl<T> PartialEq for Spilled<T> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl<T: Record> Spilled<T> {
    /// Records on disk.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether no record is on disk.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Every record, in (key, arrival) order. A run that cannot be read any more ends early;
    /// the other runs still come.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.iter_keyed().map(|(_, r)| r)
    }

    fn iter_keyed(&self) -> impl Iterator<Item = ((i64, u64), T)> + '_ {
        let mut readers: Vec<RunReader<'_, T>> = self.runs.iter().map(RunReader::new).collect();
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some((k, rec)) = r.next() {
                heap.push(Reverse((k, i)));
                r.head = Some(rec);
            }
        }
        std::iter::from_fn(move || {
            let Reverse((key, i)) = heap.pop()?;
            let r = &mut readers[i];
            let rec = r.head.take()?;
            if let Some((k, next)) = r.next() {
                heap.push(Reverse((k, i)));
                r.head = Some(next);
            }
            Some((key, rec))
        })
    }
}

/// Finished flows on disk, with the name table that attribution rule 3 reads them against.
#[derive(Debug)]
pub struct SpilledFlows {
    flows: Spilled<FlowRecord>,
    names: NameTable,
}

/// Equal only to itself, as [`Spilled`].
impl PartialEq for SpilledFlows {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl SpilledFlows {
    /// Flows on disk.
    pub fn len(&self) -> u64 {
        self.flows.len()
    }

    /// Whether no flow is on disk.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// The name table rule 3 is applied with.
    pub fn names(&self) -> &NameTable {
        &self.names
    }

    /// The hosts of the flows on disk, rule 3 applied: what aggregating [`SpilledFlows::iter`]
    /// gives. The runs are split into one group per thread of the current pool, each group's
    /// runs read one after the other into one table, and the tables merged (so that memory holds
    /// one host table per thread, not one per run).
    pub fn hosts(&self) -> std::collections::BTreeMap<String, crate::hosts::HostStats> {
        use rayon::prelude::*;
        let runs = &self.flows.runs;
        let group = runs
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(1);
        let tables: Vec<_> = runs
            .par_chunks(group)
            .map(|files| {
                crate::hosts::aggregate(files.iter().flat_map(|file| {
                    let mut run = RunReader::<FlowRecord>::new(file);
                    std::iter::from_fn(move || run.next()).map(|(_, mut f)| {
                        crate::analyzer::attribute_any(&self.names, &mut f);
                        f
                    })
                }))
            })
            .collect();
        let mut tables = tables.into_iter();
        let mut hosts = tables.next().unwrap_or_default();
        for t in tables {
            for (k, v) in t {
                hosts.entry(k).or_default().merge(v);
            }
        }
        hosts
    }

    /// Every flow in id order, rule 3 applied.
    pub fn iter(&self) -> impl Iterator<Item = FlowRecord> + '_ {
        self.flows.iter().map(|mut f| {
            crate::analyzer::attribute_any(&self.names, &mut f);
            f
        })
    }
}

/// Records encoded one after another, each with its sort key, in arrival order: rows on their
/// way to a [`Store`], written straight from what they are made of, with no value of their
/// own in between.
#[derive(Debug, Default)]
pub struct Encoded {
    bytes: Vec<u8>,
    /// (key, start, end) of each record in `bytes`.
    index: Vec<(i64, usize, usize)>,
}

impl Encoded {
    /// Adds a record that sorts by `key`: `encode` appends its bytes (as [`Record::encode`]
    /// would).
    pub(crate) fn push_with(&mut self, key: i64, encode: impl FnOnce(&mut Vec<u8>)) {
        let start = self.bytes.len();
        encode(&mut self.bytes);
        self.index.push((key, start, self.bytes.len()));
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// Collects records, spilling sorted runs to disk past a threshold. Records are held encoded
/// (a few bytes each, not a value with its own allocations), so that holding and spilling
/// them is copying bytes.
#[derive(Debug)]
pub(crate) struct Store<T> {
    /// The records held, encoded.
    bytes: Vec<u8>,
    /// (key, arrival, start, end) of each record held, in arrival order.
    held: Vec<(i64, u64, usize, usize)>,
    runs: Vec<File>,
    spilled: u64,
    next: u64,
    spill_after: Option<usize>,
    /// The first error met while spilling; the records stay in memory from then on.
    pub(crate) error: Option<io::Error>,
    _records: PhantomData<fn() -> T>,
}

/// What a store ends as: all in memory (sorted), or all on disk.
pub(crate) enum Stored<T> {
    /// Sorted by (key, arrival).
    Mem(Vec<T>),
    /// Every record on disk.
    Disk(Spilled<T>),
}

impl<T: Record> Store<T> {
    pub(crate) fn new(spill_after: Option<usize>) -> Store<T> {
        Store {
            bytes: Vec::new(),
            held: Vec::new(),
            runs: Vec::new(),
            spilled: 0,
            next: 0,
            spill_after: spill_after.map(|n| n.max(1)),
            error: None,
            _records: PhantomData,
        }
    }

    /// Adds a record that sorts by `key`, ties in arrival order.
    pub(crate) fn push(&mut self, key: i64, r: &T) {
        let start = self.bytes.len();
        r.encode(&mut self.bytes);
        self.held_one(key, start);
    }

    /// Adds the records of `e`, in their order, and empties it.
    pub(crate) fn append(&mut self, e: &mut Encoded) {
        for &(key, from, to) in &e.index {
            let start = self.bytes.len();
            self.bytes.extend_from_slice(&e.bytes[from..to]);
            self.held_one(key, start);
        }
        e.bytes.clear();
        e.index.clear();
    }

    /// The record just written from `start` is held; spills when enough are.
    fn held_one(&mut self, key: i64, start: usize) {
        self.held.push((key, self.next, start, self.bytes.len()));
        self.next += 1;
        if self.error.is_none() && self.spill_after.is_some_and(|n| self.held.len() >= n) {
            if let Err(e) = self.spill() {
                self.error = Some(e);
            }
        }
    }

    /// Records pushed so far.
    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.next
    }

    /// Records written to disk so far.
    pub(crate) fn spilled(&self) -> u64 {
        self.spilled
    }

    fn spill(&mut self) -> io::Result<()> {
        // Rows mostly come in key order already.
        if !self.held.is_sorted() {
            self.held.sort_unstable();
        }
        let mut w = BufWriter::with_capacity(1 << 20, tempfile::tempfile()?);
        for &(k, seq, from, to) in &self.held {
            w.write_all(&((16 + to - from) as u32).to_le_bytes())?;
            w.write_all(&k.to_le_bytes())?;
            w.write_all(&seq.to_le_bytes())?;
            w.write_all(&self.bytes[from..to])?;
        }
        let file = w.into_inner().map_err(|e| e.into_error())?;
        self.spilled += self.held.len() as u64;
        self.runs.push(file);
        self.held.clear();
        self.bytes.clear();
        Ok(())
    }

    /// Ends the store: in memory when nothing was spilled (or spilling failed), else the rest
    /// is spilled too and everything is read back from disk.
    pub(crate) fn finish(mut self) -> Stored<T> {
        if !self.runs.is_empty() && self.error.is_none() && !self.held.is_empty() {
            if let Err(e) = self.spill() {
                self.error = Some(e);
            }
        }
        if self.runs.is_empty() || self.error.is_some() {
            // Spilling failed part-way: what is on disk is read back into memory.
            let disk = Spilled::<T> {
                runs: std::mem::take(&mut self.runs),
                count: self.spilled,
                _records: PhantomData,
            };
            let mut all: Vec<(i64, u64, T)> =
                disk.iter_keyed().map(|((k, q), r)| (k, q, r)).collect();
            let bytes = &self.bytes;
            all.extend(self.held.iter().filter_map(|&(k, seq, from, to)| {
                // Only this store wrote these bytes: they always decode.
                T::decode(&mut &bytes[from..to]).map(|r| (k, seq, r))
            }));
            all.sort_by_key(|(k, seq, _)| (*k, *seq));
            return Stored::Mem(all.into_iter().map(|(_, _, r)| r).collect());
        }
        Stored::Disk(Spilled {
            runs: self.runs,
            count: self.spilled,
            _records: PhantomData,
        })
    }
}

impl Store<FlowRecord> {
    /// Ends a flow store: the in-memory flows (rule 3 applied with `names`), or the spill that
    /// keeps `names` for applying it on reading.
    pub(crate) fn finish_flows(self, names: NameTable) -> (Vec<FlowRecord>, Option<SpilledFlows>) {
        match self.finish() {
            Stored::Mem(mut flows) => {
                for f in &mut flows {
                    crate::analyzer::attribute_any(&names, f);
                }
                (flows, None)
            }
            Stored::Disk(flows) => (Vec::new(), Some(SpilledFlows { flows, names })),
        }
    }
}

/// A run's file read from an offset of its own (positioned reads), so that any number of
/// readings can go on at once.
struct At<'a> {
    file: &'a File,
    pos: u64,
}

impl Read for At<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(out, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Reads one run from its start.
struct RunReader<'a, T> {
    r: BufReader<At<'a>>,
    head: Option<T>,
    buf: Vec<u8>,
}

impl<'a, T: Record> RunReader<'a, T> {
    fn new(file: &'a File) -> RunReader<'a, T> {
        RunReader {
            r: BufReader::with_capacity(64 << 10, At { file, pos: 0 }),
            head: None,
            buf: Vec::new(),
        }
    }

    fn next(&mut self) -> Option<((i64, u64), T)> {
        let mut len = [0u8; 4];
        self.r.read_exact(&mut len).ok()?;
        self.buf.resize(u32::from_le_bytes(len) as usize, 0);
        self.r.read_exact(&mut self.buf).ok()?;
        let mut b = &self.buf[..];
        let k = get_u64(&mut b)? as i64;
        let seq = get_u64(&mut b)?;
        Some(((k, seq), T::decode(&mut b)?))
    }
}

// The record encoding: fixed-width little-endian numbers, length-prefixed strings.

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => {
            out.push(4);
            out.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            out.push(6);
            out.extend_from_slice(&a.octets());
        }
    }
}

fn put_ts(out: &mut Vec<u8>, t: Timestamp) {
    out.extend_from_slice(&t.secs.to_le_bytes());
    out.extend_from_slice(&t.nanos.to_le_bytes());
}

fn put_dir(out: &mut Vec<u8>, d: &DirStats) {
    for v in [d.packets, d.ip_bytes, d.payload_bytes] {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

impl Record for FlowRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        encode(self, out);
    }

    fn decode(b: &mut &[u8]) -> Option<Self> {
        decode(b)
    }
}

fn encode(r: &FlowRecord, out: &mut Vec<u8>) {
    out.extend_from_slice(&r.id.to_le_bytes());
    put_ts(out, r.start);
    put_ts(out, r.end);
    out.push(r.proto);
    for e in [r.client, r.server] {
        put_ip(out, e.ip);
        out.extend_from_slice(&e.port.to_le_bytes());
    }
    out.extend_from_slice(&r.vlan.map_or(u32::MAX, u32::from).to_le_bytes());
    put_str(out, r.conn_state);
    put_str(out, &r.history);
    put_dir(out, &r.up);
    put_dir(out, &r.down);
    put_str(out, r.app.unwrap_or(""));
    out.push(u8::from(r.app.is_some()));
    out.push(u8::from(r.hostname.is_some()));
    put_str(out, r.hostname.as_deref().unwrap_or(""));
    out.push(name_source_code(r.name_source));
    out.extend_from_slice(&(r.cname_chain.len() as u32).to_le_bytes());
    for c in &r.cname_chain {
        put_str(out, c);
    }
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, rest) = (b.get(..n)?, b.get(n..)?);
    *b = rest;
    Some(head)
}

fn get_u8(b: &mut &[u8]) -> Option<u8> {
    take(b, 1).map(|x| x[0])
}

fn get_u16(b: &mut &[u8]) -> Option<u16> {
    Some(u16::from_le_bytes(take(b, 2)?.try_into().ok()?))
}

fn get_u32(b: &mut &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(take(b, 4)?.try_into().ok()?))
}

fn get_u64(b: &mut &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(take(b, 8)?.try_into().ok()?))
}

fn get_str(b: &mut &[u8]) -> Option<String> {
    get_str_ref(b).map(str::to_string)
}

/// A string read in place (for names that are interned, not kept).
fn get_str_ref<'a>(b: &mut &'a [u8]) -> Option<&'a str> {
    let n = get_u32(b)? as usize;
    std::str::from_utf8(take(b, n)?).ok()
}

fn get_ip(b: &mut &[u8]) -> Option<IpAddr> {
    match get_u8(b)? {
        4 => {
            let o: [u8; 4] = take(b, 4)?.try_into().ok()?;
            Some(IpAddr::from(o))
        }
        _ => {
            let o: [u8; 16] = take(b, 16)?.try_into().ok()?;
            Some(IpAddr::from(o))
        }
    }
}

fn get_ts(b: &mut &[u8]) -> Option<Timestamp> {
    let secs = get_u64(b)? as i64;
    let nanos = get_u32(b)?;
    Some(Timestamp { secs, nanos })
}

fn get_dir(b: &mut &[u8]) -> Option<DirStats> {
    Some(DirStats {
        packets: get_u64(b)?,
        ip_bytes: get_u64(b)?,
        payload_bytes: get_u64(b)?,
    })
}

fn decode(b: &mut &[u8]) -> Option<FlowRecord> {
    let id = get_u64(b)?;
    let start = get_ts(b)?;
    let end = get_ts(b)?;
    let proto = get_u8(b)?;
    let client = Endpoint {
        ip: get_ip(b)?,
        port: get_u16(b)?,
    };
    let server = Endpoint {
        ip: get_ip(b)?,
        port: get_u16(b)?,
    };
    let vlan = u16::try_from(get_u32(b)?).ok();
    let conn_state = intern(get_str_ref(b)?);
    let history = get_str(b)?;
    let up = get_dir(b)?;
    let down = get_dir(b)?;
    let app = intern(get_str_ref(b)?);
    let app = (get_u8(b)? == 1).then_some(app);
    let has_host = get_u8(b)? == 1;
    let host = get_str(b)?;
    let name_source = name_source_from(get_u8(b)?);
    let n = get_u32(b)? as usize;
    let mut cname_chain = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        cname_chain.push(get_str(b)?);
    }
    Some(FlowRecord {
        id,
        start,
        end,
        proto,
        client,
        server,
        vlan,
        conn_state,
        history,
        up,
        down,
        app,
        hostname: has_host.then_some(host),
        name_source,
        cname_chain,
    })
}

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    out.push(u8::from(s.is_some()));
    put_str(out, s.unwrap_or(""));
}

fn get_opt_str(b: &mut &[u8]) -> Option<Option<String>> {
    let some = get_u8(b)? == 1;
    let s = get_str(b)?;
    Some(some.then_some(s))
}

fn put_strs(out: &mut Vec<u8>, v: &[String]) {
    put_str_iter(out, v.iter().map(String::as_str));
}

fn put_str_iter<'a>(out: &mut Vec<u8>, v: impl ExactSizeIterator<Item = &'a str>) {
    out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    for s in v {
        put_str(out, s);
    }
}

fn get_strs(b: &mut &[u8]) -> Option<Vec<String>> {
    let n = get_u32(b)? as usize;
    let mut v = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        v.push(get_str(b)?);
    }
    Some(v)
}

/// A DNS row whose text is borrowed: what [`Record::encode`] writes for a [`DnsRow`], written
/// without making one.
pub(crate) struct DnsRowView<'a, A, C> {
    /// The row, less its lists.
    pub row: DnsRowHead<'a>,
    /// Answer data in order.
    pub answers: A,
    /// CNAMEs followed from the queried name.
    pub cname_chain: C,
}

/// The fields of a [`DnsRow`] other than its lists, the name borrowed.
pub(crate) struct DnsRowHead<'a> {
    pub ts: Timestamp,
    pub app: &'static str,
    pub client: IpAddr,
    pub server: IpAddr,
    pub id: u16,
    pub is_response: bool,
    pub qname: &'a str,
    pub qtype: u16,
    pub rcode: Option<u8>,
    pub ttl_min: Option<u32>,
}

impl<'a, A, C> DnsRowView<'a, A, C>
where
    A: ExactSizeIterator<Item = &'a str>,
    C: ExactSizeIterator<Item = &'a str>,
{
    /// Appends the row's bytes.
    pub(crate) fn encode(self, out: &mut Vec<u8>) {
        let h = &self.row;
        put_ts(out, h.ts);
        put_str(out, h.app);
        put_ip(out, h.client);
        put_ip(out, h.server);
        out.extend_from_slice(&h.id.to_le_bytes());
        out.push(u8::from(h.is_response));
        put_str(out, h.qname);
        out.extend_from_slice(&h.qtype.to_le_bytes());
        out.extend_from_slice(&h.rcode.map_or(u16::MAX, u16::from).to_le_bytes());
        put_str_iter(out, self.answers);
        put_str_iter(out, self.cname_chain);
        out.push(u8::from(h.ttl_min.is_some()));
        out.extend_from_slice(&h.ttl_min.unwrap_or(0).to_le_bytes());
    }
}

impl DnsRow {
    /// The row as a [`DnsRowView`] of its own fields.
    fn view(
        &self,
    ) -> DnsRowView<'_, impl ExactSizeIterator<Item = &str>, impl ExactSizeIterator<Item = &str>>
    {
        DnsRowView {
            row: DnsRowHead {
                ts: self.ts,
                app: self.app,
                client: self.client,
                server: self.server,
                id: self.id,
                is_response: self.is_response,
                qname: &self.qname,
                qtype: self.qtype,
                rcode: self.rcode,
                ttl_min: self.ttl_min,
            },
            answers: self.answers.iter().map(String::as_str),
            cname_chain: self.cname_chain.iter().map(String::as_str),
        }
    }
}

impl Record for DnsRow {
    fn encode(&self, out: &mut Vec<u8>) {
        self.view().encode(out);
    }

    fn decode(b: &mut &[u8]) -> Option<Self> {
        let ts = get_ts(b)?;
        let app = intern(get_str_ref(b)?);
        let client = get_ip(b)?;
        let server = get_ip(b)?;
        let id = get_u16(b)?;
        let is_response = get_u8(b)? == 1;
        let qname = get_str(b)?;
        let qtype = get_u16(b)?;
        let rcode = u8::try_from(get_u16(b)?).ok();
        let answers = get_strs(b)?;
        let cname_chain = get_strs(b)?;
        let has_ttl = get_u8(b)? == 1;
        let ttl = get_u32(b)?;
        Some(DnsRow {
            ts,
            app,
            client,
            server,
            id,
            is_response,
            qname,
            qtype,
            rcode,
            answers,
            cname_chain,
            ttl_min: has_ttl.then_some(ttl),
        })
    }
}

impl Record for TlsRow {
    fn encode(&self, out: &mut Vec<u8>) {
        put_ts(out, self.ts);
        out.extend_from_slice(&self.flow_id.to_le_bytes());
        put_opt_str(out, self.sni.as_deref());
        out.extend_from_slice(&(self.versions.len() as u32).to_le_bytes());
        for v in &self.versions {
            out.extend_from_slice(&v.to_le_bytes());
        }
        put_strs(out, &self.alpn);
        put_str(out, &self.ja3);
        put_str(out, &self.ja3_string);
        put_str(out, &self.ja4);
    }

    fn decode(b: &mut &[u8]) -> Option<Self> {
        let ts = get_ts(b)?;
        let flow_id = get_u64(b)?;
        let sni = get_opt_str(b)?;
        let n = get_u32(b)? as usize;
        let mut versions = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            versions.push(get_u16(b)?);
        }
        Some(TlsRow {
            ts,
            flow_id,
            sni,
            versions,
            alpn: get_strs(b)?,
            ja3: get_str(b)?,
            ja3_string: get_str(b)?,
            ja4: get_str(b)?,
        })
    }
}

impl Record for HttpRow {
    fn encode(&self, out: &mut Vec<u8>) {
        put_ts(out, self.ts);
        out.extend_from_slice(&self.flow_id.to_le_bytes());
        put_str(out, &self.method);
        put_opt_str(out, self.host.as_deref());
        put_str(out, &self.uri);
        put_opt_str(out, self.user_agent.as_deref());
        put_opt_str(out, self.content_type.as_deref());
    }

    fn decode(b: &mut &[u8]) -> Option<Self> {
        Some(HttpRow {
            ts: get_ts(b)?,
            flow_id: get_u64(b)?,
            method: get_str(b)?,
            host: get_opt_str(b)?,
            uri: get_str(b)?,
            user_agent: get_opt_str(b)?,
            content_type: get_opt_str(b)?,
        })
    }
}

const SOURCES: [NameSource; 7] = [
    NameSource::Sni,
    NameSource::Quic,
    NameSource::Http,
    NameSource::Dns,
    NameSource::DnsAny,
    NameSource::DnsQuery,
    NameSource::None,
];

fn name_source_code(s: NameSource) -> u8 {
    SOURCES.iter().position(|x| *x == s).unwrap_or(6) as u8
}

fn name_source_from(c: u8) -> NameSource {
    SOURCES
        .get(usize::from(c))
        .copied()
        .unwrap_or(NameSource::None)
}

/// The `&'static str` values records carry (connection states, application names): found in
/// the known set, or leaked once per distinct value (the set is fixed by the code).
fn intern(s: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "", "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR",
        "OTH", "tls", "http", "quic", "dns", "mdns", "llmnr", "ntp", "dhcp", "ssdp", "icmp",
        "icmpv6",
    ];
    if let Some(k) = KNOWN.iter().find(|k| **k == s) {
        return k;
    }
    static LEAKED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let Ok(mut leaked) = LEAKED.lock() else {
        return "";
    };
    if let Some(k) = leaked.iter().find(|k| **k == s) {
        return k;
    }
    let k: &'static str = Box::leak(s.to_string().into_boxed_str());
    leaked.push(k);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: u64, host: Option<&str>) -> FlowRecord {
        FlowRecord {
            id,
            start: Timestamp {
                secs: 10 + id as i64,
                nanos: 5,
            },
            end: Timestamp { secs: 20, nanos: 0 },
            proto: 6,
            client: Endpoint {
                ip: "10.0.0.2".parse().unwrap(),
                port: 50_000,
            },
            server: Endpoint {
                ip: "2001:db8::1".parse().unwrap(),
                port: 443,
            },
            vlan: (id % 2 == 0).then_some(7),
            conn_state: "SF",
            history: "ShADadFf".into(),
            up: DirStats {
                packets: 3,
                ip_bytes: 300,
                payload_bytes: 100,
            },
            down: DirStats {
                packets: 4,
                ip_bytes: 4000,
                payload_bytes: 3000,
            },
            app: Some("tls"),
            hostname: host.map(String::from),
            name_source: if host.is_some() {
                NameSource::Sni
            } else {
                NameSource::None
            },
            cname_chain: vec!["a.example".into(), "b.example".into()],
        }
    }

    #[test]
    fn records_round_trip() {
        for r in [rec(1, Some("x.example")), rec(2, None)] {
            let mut b = Vec::new();
            encode(&r, &mut b);
            assert_eq!(decode(&mut &b[..]), Some(r));
        }
    }

    #[test]
    fn runs_merge_in_key_then_arrival_order() {
        let mut store = Store::new(Some(3));
        // Finished out of order, as flows are; two records share key 4.
        for id in [5, 1, 3, 2, 9, 4, 8, 6, 7, 10, 4] {
            let mut r = rec(id, Some("h.example"));
            r.history = format!("{}", store.len());
            store.push(id as i64, &r);
        }
        assert_eq!(store.spilled(), 9);
        let Stored::Disk(spill) = store.finish() else {
            panic!("spilled")
        };
        assert_eq!(spill.len(), 11);
        let got: Vec<(u64, String)> = spill.iter().map(|f| (f.id, f.history)).collect();
        let ids: Vec<u64> = got.iter().map(|g| g.0).collect();
        assert_eq!(ids, vec![1, 2, 3, 4, 4, 5, 6, 7, 8, 9, 10]);
        // Ties keep their arrival order.
        assert_eq!((got[3].1.as_str(), got[4].1.as_str()), ("5", "10"));
        // Reading twice, even at once, gives the same.
        let (a, b) = (spill.iter(), spill.iter());
        assert_eq!(a.zip(b).filter(|(x, y)| x == y).count(), 11);
    }

    fn dns_row(n: u16) -> DnsRow {
        DnsRow {
            ts: Timestamp {
                secs: 100 - i64::from(n % 3),
                nanos: 0,
            },
            app: "dns",
            client: "10.0.0.2".parse().unwrap(),
            server: "10.0.0.1".parse().unwrap(),
            id: n,
            is_response: n % 2 == 1,
            qname: format!("host{n}.example"),
            qtype: 28,
            rcode: (n % 2 == 1).then_some(0),
            answers: (0..n % 4).map(|i| format!("2001:db8::{i}")).collect(),
            cname_chain: (0..n % 3).map(|i| format!("c{i}.example.net")).collect(),
            ttl_min: (n % 2 == 1).then_some(60),
        }
    }

    /// Rows written from their parts (as the analysis writes them) are the rows pushed
    /// whole: the same bytes, the same order, spilled or in memory.
    #[test]
    fn rows_encoded_from_their_parts_equal_rows_pushed_whole() {
        for spill_after in [None, Some(4)] {
            let (mut whole, mut parts) = (Store::new(spill_after), Store::new(spill_after));
            let mut staged = Encoded::default();
            for n in 0..11 {
                let r = dns_row(n);
                whole.push(r.ts.as_nanos(), &r);
                // The parts borrowed, as the analysis passes them, not the row itself.
                staged.push_with(r.ts.as_nanos(), |out| r.view().encode(out));
                if staged.len() == 3 {
                    parts.append(&mut staged);
                    assert!(staged.is_empty());
                }
            }
            parts.append(&mut staged);
            let all = |s: Store<DnsRow>| match s.finish() {
                Stored::Mem(v) => v,
                Stored::Disk(d) => d.iter().collect(),
            };
            let (a, b) = (all(whole), all(parts));
            assert_eq!(a.len(), 11);
            assert!(a == b, "spill after {spill_after:?}");
            // Sorted by time, ties in arrival order.
            let ids: Vec<u16> = a.iter().map(|r| r.id).collect();
            assert_eq!(ids, [2, 5, 8, 1, 4, 7, 10, 0, 3, 6, 9]);
            assert_eq!(a[3], dns_row(1));
        }
    }

    #[test]
    fn a_store_that_never_spills_stays_in_memory_sorted() {
        let mut store = Store::new(None);
        for id in [3, 1, 2] {
            store.push(id, &rec(id as u64, None));
        }
        let Stored::Mem(v) = store.finish() else {
            panic!("in memory")
        };
        assert_eq!(v.iter().map(|f| f.id).collect::<Vec<_>>(), vec![1, 2, 3]);
    }

    #[test]
    fn hosts_counted_run_by_run_equal_hosts_counted_in_order() {
        let mut store = Store::new(Some(4));
        for id in 1..=41u64 {
            let host = ["a.example", "b.example", "c.example"][(id % 3) as usize];
            let mut r = rec(id, (id % 5 != 0).then_some(host));
            r.server.port = 400 + (id % 7) as u16;
            r.proto = if id % 4 == 0 { 17 } else { 6 };
            store.push(id as i64, &r);
        }
        let mut names = NameTable::default();
        names.learn(
            &crate::names::Resolution {
                qname: "named-late.example".into(),
                addresses: vec!["2001:db8::1".parse().unwrap()],
                ..Default::default()
            },
            "10.0.0.2".parse().unwrap(),
            0,
        );
        let (_, Some(spill)) = store.finish_flows(names) else {
            panic!("spilled")
        };
        assert!(spill.flows.runs.len() > 4);
        let in_order = crate::hosts::aggregate(spill.iter());
        for threads in [1, 2, 3, 8] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            assert_eq!(
                pool.install(|| spill.hosts()),
                in_order,
                "{threads} threads"
            );
        }
        // Rule 3 was applied: the unnamed flows count under the learnt name.
        assert!(in_order.contains_key("named-late.example"));
    }
}
