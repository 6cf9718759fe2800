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
use std::net::IpAddr;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

use phonehome_decode::Timestamp;

use crate::key::Endpoint;
use crate::names::NameTable;
use crate::records::{DirStats, FlowRecord, NameSource};

/// Runs of finished flows written to temporary files, sorted by id within each run, with the
/// name table rule 3 reads them against.
pub struct SpilledFlows {
    runs: Vec<File>,
    count: u64,
    names: NameTable,
}

impl fmt::Debug for SpilledFlows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SpilledFlows {{ runs: {}, flows: {} }}",
            self.runs.len(),
            self.count
        )
    }
}

/// Two spills are equal only when they are the same spill (they are files, not values).
impl PartialEq for SpilledFlows {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

/// Collects finished flows, spilling sorted runs to disk past a threshold.
#[derive(Debug)]
pub(crate) struct FlowStore {
    mem: Vec<FlowRecord>,
    runs: Vec<File>,
    spilled: u64,
    spill_after: Option<usize>,
    /// The first error met while spilling; the flows stay in memory from then on.
    pub(crate) error: Option<io::Error>,
}

impl FlowStore {
    pub(crate) fn new(spill_after: Option<usize>) -> FlowStore {
        FlowStore {
            mem: Vec::new(),
            runs: Vec::new(),
            spilled: 0,
            spill_after: spill_after.map(|n| n.max(1)),
            error: None,
        }
    }

    pub(crate) fn push(&mut self, r: FlowRecord) {
        self.mem.push(r);
        if self.error.is_none() && self.spill_after.is_some_and(|n| self.mem.len() >= n) {
            if let Err(e) = self.spill() {
                self.error = Some(e);
            }
        }
    }

    fn spill(&mut self) -> io::Result<()> {
        self.mem.sort_unstable_by_key(|f| f.id);
        let mut w = BufWriter::new(tempfile::tempfile()?);
        let mut buf = Vec::with_capacity(256);
        for r in &self.mem {
            buf.clear();
            encode(r, &mut buf);
            w.write_all(&(buf.len() as u32).to_le_bytes())?;
            w.write_all(&buf)?;
        }
        let file = w.into_inner().map_err(|e| e.into_error())?;
        self.spilled += self.mem.len() as u64;
        self.runs.push(file);
        self.mem = Vec::new();
        Ok(())
    }

    /// Flows written to disk so far.
    pub(crate) fn spilled(&self) -> u64 {
        self.spilled
    }

    /// The in-memory rest (to be sorted and attributed by the caller), and the spill, if any
    /// run was written.
    pub(crate) fn finish(
        self,
        names: NameTable,
    ) -> (Vec<FlowRecord>, Option<SpilledFlows>, NameTable) {
        if self.runs.is_empty() {
            return (self.mem, None, names);
        }
        let spill = SpilledFlows {
            runs: self.runs,
            count: self.spilled,
            names,
        };
        (self.mem, Some(spill), NameTable::default())
    }
}

impl SpilledFlows {
    /// Flows on disk.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether no flow is on disk.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The name table rule 3 is applied with.
    pub fn names(&self) -> &NameTable {
        &self.names
    }

    /// Every spilled flow, merged with `mem` (sorted by id), in id order, rule 3 applied. A run
    /// that cannot be read any more ends early; the other runs still come.
    pub fn merged<'a>(&'a self, mem: &'a [FlowRecord]) -> impl Iterator<Item = FlowRecord> + 'a {
        let mut readers: Vec<RunReader<'a>> = self.runs.iter().map(RunReader::new).collect();
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some(rec) = r.next() {
                heap.push(Reverse((rec.id, i)));
                r.head = Some(rec);
            }
        }
        let mut mem = mem.iter().peekable();
        std::iter::from_fn(move || {
            let disk = heap.peek().map(|Reverse((id, _))| *id);
            let from_mem = match (mem.peek(), disk) {
                (Some(m), Some(d)) => m.id < d,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => return None,
            };
            let mut rec = if from_mem {
                mem.next()?.clone()
            } else {
                let Reverse((_, i)) = heap.pop()?;
                let r = &mut readers[i];
                let rec = r.head.take()?;
                if let Some(next) = r.next() {
                    heap.push(Reverse((next.id, i)));
                    r.head = Some(next);
                }
                rec
            };
            if !from_mem {
                crate::analyzer::attribute_any(&self.names, &mut rec);
            }
            Some(rec)
        })
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
struct RunReader<'a> {
    r: BufReader<At<'a>>,
    head: Option<FlowRecord>,
    buf: Vec<u8>,
}

impl<'a> RunReader<'a> {
    fn new(file: &'a File) -> RunReader<'a> {
        RunReader {
            r: BufReader::with_capacity(64 << 10, At { file, pos: 0 }),
            head: None,
            buf: Vec::new(),
        }
    }

    fn next(&mut self) -> Option<FlowRecord> {
        let mut len = [0u8; 4];
        self.r.read_exact(&mut len).ok()?;
        self.buf.resize(u32::from_le_bytes(len) as usize, 0);
        self.r.read_exact(&mut self.buf).ok()?;
        decode(&mut &self.buf[..])
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
    let n = get_u32(b)? as usize;
    String::from_utf8(take(b, n)?.to_vec()).ok()
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
    let conn_state = intern(&get_str(b)?);
    let history = get_str(b)?;
    let up = get_dir(b)?;
    let down = get_dir(b)?;
    let app = intern(&get_str(b)?);
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
    fn runs_and_memory_merge_in_id_order() {
        let mut store = FlowStore::new(Some(3));
        // Finished out of order, as flows are.
        for id in [5, 1, 3, 2, 9, 4, 8, 6, 7, 10] {
            store.push(rec(id, Some("h.example")));
        }
        assert_eq!(store.spilled(), 9);
        let (mut mem, spill, _) = store.finish(NameTable::default());
        mem.sort_by_key(|f| f.id);
        let spill = spill.unwrap();
        assert_eq!(spill.len(), 9);
        let ids: Vec<u64> = spill.merged(&mem).map(|f| f.id).collect();
        assert_eq!(ids, (1..=10).collect::<Vec<_>>());
        // Reading twice gives the same.
        assert_eq!(spill.merged(&mem).count(), 10);
    }
}
