//! The output tables of DESIGN.md ("Output files") as header + typed cells, one definition for
//! CSV, JSON and JSON Lines alike.

use std::borrow::Cow;

use phonehome_decode::app::tls::version_name;
use phonehome_decode::Timestamp;
use phonehome_flows::{proto_name, CaptureSummary, FlowRecord};

use crate::label::{Label, Labeller, Labels};

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text from the capture or the rules (untrusted: neutralised when written).
    Text(String),
    /// Text of phonehome's own (a protocol or state name; neutralised like any text).
    Static(&'static str),
    /// A time, written as RFC 3339.
    Time(Timestamp),
    /// An address.
    Ip(std::net::IpAddr),
    /// A count.
    Int(u64),
    /// Seconds.
    Secs(f64),
    /// Absent.
    Empty,
}

impl Cell {
    fn opt<T: ToString>(v: Option<T>) -> Cell {
        v.map_or(Cell::Empty, |v| Cell::Text(v.to_string()))
    }
}

/// A row-making function: each call starts a new pass over the rows.
pub type MakeRows<'a> = Box<dyn Fn() -> Box<dyn Iterator<Item = Vec<Cell>> + 'a> + 'a>;

/// Where a table's rows come from.
pub enum RowSource<'a> {
    /// Rows held in memory (small tables).
    Held(Vec<Vec<Cell>>),
    /// Rows made one at a time when the table is written (flows and DNS messages: millions of
    /// rows never all in memory at once).
    Made(MakeRows<'a>),
}

impl From<Vec<Vec<Cell>>> for RowSource<'_> {
    fn from(rows: Vec<Vec<Cell>>) -> Self {
        RowSource::Held(rows)
    }
}

/// A table: its file stem, column names and rows.
pub struct Table<'a> {
    /// `flows`, `hosts`, `dns`, `tls`, `http`, `fingerprints`, `local_names`, `diff`.
    pub name: &'static str,
    /// Column names (the contract).
    pub columns: Vec<&'static str>,
    /// The rows, one cell per column.
    pub rows: RowSource<'a>,
}

impl std::fmt::Debug for Table<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("name", &self.name)
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

impl Table<'_> {
    /// A pass over the rows.
    pub fn rows(&self) -> Box<dyn Iterator<Item = std::borrow::Cow<'_, [Cell]>> + '_> {
        match &self.rows {
            RowSource::Held(rows) => {
                Box::new(rows.iter().map(|r| std::borrow::Cow::Borrowed(&r[..])))
            }
            RowSource::Made(make) => Box::new(make().map(std::borrow::Cow::Owned)),
        }
    }

    /// Applies `f` to every text cell (held rows are changed in place; made rows as they come).
    pub fn map_text(self, f: fn(&str) -> String) -> Self {
        let rows = match self.rows {
            RowSource::Held(mut rows) => {
                for row in &mut rows {
                    map_row(row, f);
                }
                RowSource::Held(rows)
            }
            RowSource::Made(make) => RowSource::Made(Box::new(move || {
                Box::new(make().map(move |mut row| {
                    map_row(&mut row, f);
                    row
                }))
            })),
        };
        Table { rows, ..self }
    }
}

fn map_row(row: &mut [Cell], f: fn(&str) -> String) {
    for cell in row {
        if let Cell::Text(t) = cell {
            *t = f(t);
        }
    }
}

/// Column names of `flows.csv`.
pub const FLOW_COLUMNS: &[&str] = &[
    "id",
    "start",
    "end",
    "rel_s",
    "duration_s",
    "proto",
    "client_ip",
    "client_port",
    "server_ip",
    "server_port",
    "vlan",
    "conn_state",
    "history",
    "packets_up",
    "packets_down",
    "ip_bytes_up",
    "ip_bytes_down",
    "payload_bytes_up",
    "payload_bytes_down",
    "app",
    "hostname",
    "name_source",
    "registrable_domain",
    "owner",
    "category",
    "role",
    "cname_chain",
];

/// Column names of `hosts.csv`.
pub const HOST_COLUMNS: &[&str] = &[
    "host",
    "registrable_domain",
    "owner",
    "operator",
    "category",
    "role",
    "confidence",
    "connections",
    "tcp_connections",
    "udp_flows",
    "packets_up",
    "packets_down",
    "ip_bytes_up",
    "ip_bytes_down",
    "payload_bytes_up",
    "payload_bytes_down",
    "first_seen_s",
    "last_seen_s",
    "server_ips",
    "ports",
    "apps",
    "name_sources",
];

/// Column names of `dns.csv`.
pub const DNS_COLUMNS: &[&str] = &[
    "ts",
    "rel_s",
    "client_ip",
    "server_ip",
    "id",
    "qname",
    "qtype",
    "rcode",
    "answers",
    "cname_chain",
    "ttl_min",
    "app",
    "is_response",
];

/// Column names of `tls.csv`.
pub const TLS_COLUMNS: &[&str] = &[
    "ts",
    "rel_s",
    "flow_id",
    "sni",
    "versions",
    "alpn",
    "ja3",
    "ja4",
    "ja3_string",
];

/// Column names of `fingerprints.csv` (DESIGN's contract, then added columns).
pub const FINGERPRINT_COLUMNS: &[&str] = &[
    "client_ip",
    "kind",
    "tcpdump",
    "p0f",
    "flags",
    "ttl",
    "initial_ttl",
    "window",
    "mss",
    "wscale",
    "os_guess",
    "confidence",
    "count",
    "tcpdump_normalised",
    "flags_byte",
    "hop_distance",
    "first_seen_s",
];

/// Column names of `http.csv`.
pub const HTTP_COLUMNS: &[&str] = &[
    "ts",
    "rel_s",
    "flow_id",
    "method",
    "host",
    "uri",
    "user_agent",
    "content_type",
];

fn ts(t: Timestamp) -> Cell {
    Cell::Time(t)
}

/// Distinct flow labels remembered while `flows.csv` is written.
const LABEL_CACHE: usize = 1 << 16;

/// `flows.csv`, labelled by `labeller` as the rows are made (a capture may hold millions of
/// flows, some of them on disk: they are read once per pass, never all held).
pub fn flows<'a, 'r: 'a>(s: &'a CaptureSummary, labeller: &'a Labeller<'r>) -> Table<'a> {
    let paths = std::sync::Arc::new(first_paths(s));
    let make: MakeRows<'a> = Box::new(move || {
        let paths = std::sync::Arc::clone(&paths);
        // Many flows go to the same server under the same name: each distinct (DNS or not,
        // name, path, address) is classified once per pass (the cache is bounded).
        type Key = (bool, Option<String>, Option<String>, std::net::IpAddr);
        let mut seen: std::collections::HashMap<Key, Label, foldhash::fast::RandomState> =
            std::collections::HashMap::default();
        Box::new(s.flow_iter().map(move |f| {
            let path = paths.get(&f.id).map(String::as_str);
            let key = (
                f.app == Some("dns"),
                f.hostname.clone(),
                path.map(str::to_string),
                f.server.ip,
            );
            if seen.len() >= LABEL_CACHE {
                seen.clear();
            }
            let l = seen.entry(key).or_insert_with(|| labeller.flow(&f, path));
            flow_row(s, &f, l)
        }))
    });
    Table {
        name: "flows",
        columns: FLOW_COLUMNS.to_vec(),
        rows: RowSource::Made(make),
    }
}

/// The first HTTP request path of each flow (what the path rules look at).
pub fn first_paths(s: &CaptureSummary) -> std::collections::BTreeMap<u64, String> {
    let mut m = std::collections::BTreeMap::new();
    for h in s.http_rows() {
        m.entry(h.flow_id).or_insert_with(|| h.uri.clone());
    }
    m
}

fn flow_row(s: &CaptureSummary, f: &FlowRecord, l: &Label) -> Vec<Cell> {
    vec![
        Cell::Int(f.id),
        ts(f.start),
        ts(f.end),
        Cell::Secs(s.rel_s(f.start)),
        Cell::Secs(f.end.since(f.start)),
        proto_cell(f.proto),
        Cell::Ip(f.client.ip),
        Cell::Int(u64::from(f.client.port)),
        Cell::Ip(f.server.ip),
        Cell::Int(u64::from(f.server.port)),
        f.vlan.map_or(Cell::Empty, |v| Cell::Int(u64::from(v))),
        Cell::Static(f.conn_state),
        Cell::Text(f.history.clone()),
        Cell::Int(f.up.packets),
        Cell::Int(f.down.packets),
        Cell::Int(f.up.ip_bytes),
        Cell::Int(f.down.ip_bytes),
        Cell::Int(f.up.payload_bytes),
        Cell::Int(f.down.payload_bytes),
        f.app.map_or(Cell::Empty, Cell::Static),
        Cell::opt(f.hostname.as_deref()),
        Cell::Static(f.name_source.as_str()),
        Cell::opt(Some(l.registrable_domain.as_str()).filter(|d| !d.is_empty())),
        Cell::Text(l.owner.clone()),
        Cell::Static(l.category.as_str()),
        Cell::Text(l.role.clone()),
        Cell::Text(f.cname_chain.join(" ")),
    ]
}

/// A protocol's name (its number when it has none).
fn proto_cell(p: u8) -> Cell {
    match p {
        6 => Cell::Static("tcp"),
        17 => Cell::Static("udp"),
        1 => Cell::Static("icmp"),
        58 => Cell::Static("icmpv6"),
        n => Cell::Text(proto_name(n)),
    }
}

/// `hosts.csv`, in the given order of host keys.
pub fn hosts<'a>(s: &CaptureSummary, labels: &Labels, order: &[&str]) -> Table<'a> {
    let rel = |ns: i64| {
        s.first_ts
            .map_or(0.0, |f| (ns.saturating_sub(f.as_nanos())) as f64 / 1e9)
    };
    let rows = order
        .iter()
        .filter_map(|k| s.hosts.get_key_value(*k))
        .map(|(k, h)| {
            let l = labels.hosts.get(k);
            let join = |it: Vec<String>| Cell::Text(it.join(" "));
            vec![
                Cell::Text(k.clone()),
                Cell::opt(
                    l.map(|l| l.registrable_domain.as_str())
                        .filter(|d| !d.is_empty()),
                ),
                Cell::Text(l.map_or("unknown".into(), |l| l.owner.clone())),
                Cell::opt(l.map(|l| l.operator.as_str()).filter(|d| !d.is_empty())),
                Cell::Text(l.map_or("unknown", |l| l.category.as_str()).into()),
                Cell::Text(l.map_or("unknown".into(), |l| l.role.clone())),
                Cell::Text(l.map_or("none", |l| l.confidence).into()),
                Cell::Int(h.connections),
                Cell::Int(h.tcp_connections),
                Cell::Int(h.udp_flows),
                Cell::Int(h.up.packets),
                Cell::Int(h.down.packets),
                Cell::Int(h.up.ip_bytes),
                Cell::Int(h.down.ip_bytes),
                Cell::Int(h.up.payload_bytes),
                Cell::Int(h.down.payload_bytes),
                Cell::Secs(rel(h.first_ns)),
                Cell::Secs(rel(h.last_ns)),
                join(h.server_ips.iter().map(|a| a.to_string()).collect()),
                join(
                    h.ports
                        .iter()
                        .map(|(p, port)| format!("{}/{port}", proto_name(*p)))
                        .collect(),
                ),
                join(h.apps.iter().map(|a| a.to_string()).collect()),
                join(
                    h.name_sources
                        .iter()
                        .map(|n| n.as_str().to_string())
                        .collect(),
                ),
            ]
        })
        .collect();
    Table {
        name: "hosts",
        columns: HOST_COLUMNS.to_vec(),
        rows: RowSource::Held(rows),
    }
}

/// `dns.csv`.
pub fn dns(s: &CaptureSummary) -> Table<'_> {
    let make: MakeRows<'_> = Box::new(move || {
        Box::new(s.dns_rows().map(move |d| {
            let head = [
                ts(d.ts),
                Cell::Secs(s.rel_s(d.ts)),
                Cell::Ip(d.client),
                Cell::Ip(d.server),
                Cell::Int(u64::from(d.id)),
            ];
            let tail = [
                mnemonic_cell(qtype_mnemonic(d.qtype), || qtype_name(d.qtype)),
                d.rcode.map_or(Cell::Empty, |r| {
                    mnemonic_cell(rcode_mnemonic(r), || rcode_name(r))
                }),
            ];
            let last = [
                d.ttl_min.map_or(Cell::Empty, |t| Cell::Int(u64::from(t))),
                Cell::Static(d.app),
                Cell::Static(if d.is_response { "1" } else { "0" }),
            ];
            // A row read back from disk is ours: its text moves into the cells.
            let (qname, answers, chain) = match d {
                Cow::Owned(r) => (r.qname, words(r.answers), words(r.cname_chain)),
                Cow::Borrowed(r) => (
                    r.qname.clone(),
                    r.answers.join(" "),
                    r.cname_chain.join(" "),
                ),
            };
            let mut row = Vec::with_capacity(DNS_COLUMNS.len());
            row.extend(head);
            row.push(Cell::Text(qname));
            row.extend(tail);
            row.push(Cell::Text(answers));
            row.push(Cell::Text(chain));
            row.extend(last);
            row
        }))
    });
    Table {
        name: "dns",
        columns: DNS_COLUMNS.to_vec(),
        rows: RowSource::Made(make),
    }
}

/// `tls.csv`.
pub fn tls(s: &CaptureSummary) -> Table<'_> {
    let make: MakeRows<'_> = Box::new(move || {
        Box::new(s.tls_rows().map(move |t| {
            vec![
                ts(t.ts),
                Cell::Secs(s.rel_s(t.ts)),
                Cell::Int(t.flow_id),
                Cell::opt(t.sni.as_deref()),
                Cell::Text(
                    t.versions
                        .iter()
                        .map(|v| version_name(*v))
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                Cell::Text(t.alpn.join(" ")),
                Cell::Text(t.ja3.clone()),
                Cell::Text(t.ja4.clone()),
                Cell::Text(t.ja3_string.clone()),
            ]
        }))
    });
    Table {
        name: "tls",
        columns: TLS_COLUMNS.to_vec(),
        rows: RowSource::Made(make),
    }
}

/// `http.csv`.
pub fn http(s: &CaptureSummary) -> Table<'_> {
    let make: MakeRows<'_> = Box::new(move || {
        Box::new(s.http_rows().map(move |h| {
            vec![
                ts(h.ts),
                Cell::Secs(s.rel_s(h.ts)),
                Cell::Int(h.flow_id),
                Cell::Text(h.method.clone()),
                Cell::opt(h.host.as_deref()),
                Cell::Text(h.uri.clone()),
                Cell::opt(h.user_agent.as_deref()),
                Cell::opt(h.content_type.as_deref()),
            ]
        }))
    });
    Table {
        name: "http",
        columns: HTTP_COLUMNS.to_vec(),
        rows: RowSource::Made(make),
    }
}

/// `fingerprints.csv`, with the OS guesses of `labels`.
pub fn fingerprints<'a>(s: &CaptureSummary, labels: &Labels) -> Table<'a> {
    let rows = s
        .fingerprints
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let p = &f.fingerprint;
            let guess = labels.fingerprints.get(i).and_then(Option::as_ref);
            vec![
                Cell::Text(f.host.to_string()),
                Cell::Text(p.kind.as_str().into()),
                Cell::Text(p.tcpdump.clone()),
                Cell::Text(p.p0f.clone()),
                Cell::Text(p.flags.clone()),
                Cell::Int(u64::from(p.ttl)),
                Cell::Int(u64::from(p.initial_ttl)),
                Cell::Int(u64::from(p.window)),
                p.mss.map_or(Cell::Empty, |m| Cell::Int(u64::from(m))),
                p.wscale.map_or(Cell::Empty, |w| Cell::Int(u64::from(w))),
                guess.map_or(Cell::Empty, |g| Cell::Text(g.os.clone())),
                Cell::Text(guess.map_or("none", |g| g.confidence.as_str()).into()),
                Cell::Int(f.count),
                Cell::Text(p.tcpdump_normalised.clone()),
                Cell::Text(format!("0x{:02x}", p.flags_byte)),
                Cell::Int(u64::from(p.initial_ttl - p.ttl)),
                Cell::Secs(s.rel_s(f.first)),
            ]
        })
        .collect();
    Table {
        name: "fingerprints",
        columns: FINGERPRINT_COLUMNS.to_vec(),
        rows: RowSource::Held(rows),
    }
}

/// Column names of `local_names.csv` (an added file: names hosts announce on the local network).
pub const LOCAL_NAME_COLUMNS: &[&str] = &["name", "address", "source"];

/// `local_names.csv`: the names hosts announced for themselves over mDNS, LLMNR and DHCP
/// (hostname, client FQDN, vendor class), sorted.
pub fn local_names<'a>(s: &CaptureSummary) -> Table<'a> {
    let rows = s
        .local_names
        .iter()
        .map(|n| {
            vec![
                Cell::Text(n.name.clone()),
                n.address.map_or(Cell::Empty, |a| Cell::Text(a.to_string())),
                Cell::Text(n.source.into()),
            ]
        })
        .collect();
    Table {
        name: "local_names",
        columns: LOCAL_NAME_COLUMNS.to_vec(),
        rows: RowSource::Held(rows),
    }
}

/// Mnemonic of a DNS type.
pub fn qtype_name(t: u16) -> String {
    qtype_mnemonic(t).map_or_else(|| format!("TYPE{t}"), String::from)
}

fn qtype_mnemonic(t: u16) -> Option<&'static str> {
    Some(match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        41 => "OPT",
        43 => "DS",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        64 => "SVCB",
        65 => "HTTPS",
        255 => "ANY",
        _ => return None,
    })
}

/// Mnemonic of a DNS response code.
pub fn rcode_name(r: u8) -> String {
    rcode_mnemonic(r).map_or_else(|| format!("RCODE{r}"), String::from)
}

fn rcode_mnemonic(r: u8) -> Option<&'static str> {
    Some(match r {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        _ => return None,
    })
}

/// Words joined by spaces; a single word is moved, not copied.
fn words(mut v: Vec<String>) -> String {
    if v.len() == 1 {
        v.pop().unwrap_or_default()
    } else {
        v.join(" ")
    }
}

/// A mnemonic of the code's own, or the text made for an unknown value.
fn mnemonic_cell(known: Option<&'static str>, unknown: impl FnOnce() -> String) -> Cell {
    known.map_or_else(|| Cell::Text(unknown()), Cell::Static)
}
