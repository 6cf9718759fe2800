//! Differential test of the flow table against tshark's conversation tables: for every capture
//! of the nDPI and Apple corpus folders that tshark reads, the frames counted in each direction
//! of each TCP and UDP conversation.
//!
//! Unit of comparison: the unordered 5-tuple. tshark 4.0 splits a TCP 5-tuple into several rows
//! when its stream tracking sees a new connection (port reuse) and we split TCP connections and
//! idle UDP flows by our own rules, so both sides are summed per 5-tuple (our rows also over
//! VLAN ids, which tshark's table does not show) before the frames A→B and B→A are compared.
//!
//! Where the counts differ, a second tshark pass over that capture lists each frame's protocol
//! stack, addresses, ports and fragment/snap flags, and the frames that touch the conversation
//! give the disagreement its class (see [`Class`]). Every disagreement is written to
//! `target/reports/conv-vs-tshark.txt`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;

use phonehome_testkit::{self as kit, FlowRow};

/// Minimum share of tshark conversations, in percent, whose per-direction frame counts equal
/// ours once the documented exception classes ([`Class::is_documented`]) are set aside. Every
/// disagreement on the corpus falls into a documented class, so anything new is a regression.
const MIN_AGREEMENT_AFTER_EXCEPTIONS_PCT: f64 = 100.0;

/// Threads running tshark and the extractor (the reference machine has two cores).
const WORKERS: usize = 2;

/// A transport with a conversation table in tshark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Transport {
    /// `conv,tcp`.
    Tcp,
    /// `conv,udp`.
    Udp,
}

impl Transport {
    /// tshark's `frame.protocols` name, which is also our `proto` column.
    fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// An unordered 5-tuple: the two endpoints in ascending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct ConvKey {
    transport: Transport,
    a: SocketAddr,
    b: SocketAddr,
}

impl ConvKey {
    /// The key of a conversation between `x` and `y`, and whether `x` is its `a` side.
    fn new(transport: Transport, x: SocketAddr, y: SocketAddr) -> (ConvKey, bool) {
        let (a, b) = if x <= y { (x, y) } else { (y, x) };
        (ConvKey { transport, a, b }, x == a)
    }
}

impl fmt::Display for ConvKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} <-> {}", self.transport.name(), self.a, self.b)
    }
}

/// Frames each way between the two endpoints of a [`ConvKey`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Frames {
    a_to_b: u64,
    b_to_a: u64,
}

impl Frames {
    /// Adds `x_to_y` and `y_to_x`, counted from the side `x`, which is `a` when `x_is_a`.
    fn add(&mut self, x_is_a: bool, x_to_y: u64, y_to_x: u64) {
        let (ab, ba) = if x_is_a {
            (x_to_y, y_to_x)
        } else {
            (y_to_x, x_to_y)
        };
        self.a_to_b += ab;
        self.b_to_a += ba;
    }
}

impl std::ops::AddAssign for Frames {
    fn add_assign(&mut self, o: Frames) {
        self.add(true, o.a_to_b, o.b_to_a);
    }
}

impl fmt::Display for Frames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.a_to_b, self.b_to_a)
    }
}

/// Conversations of one capture with their frames, per unordered 5-tuple.
type Table = BTreeMap<ConvKey, Frames>;

/// `tshark -z conv,tcp -z conv,udp` for `path`, or `None` when tshark does not read it cleanly.
fn tshark_conversations(path: &Path) -> Option<Table> {
    let out = Command::new("tshark")
        .args(["-n", "-q", "-z", "conv,tcp", "-z", "conv,udp", "-r"])
        .arg(path)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| parse_conv_tables(&String::from_utf8_lossy(&out.stdout)))
}

/// Every row of every TCP and UDP conversation table in tshark's text, summed per 5-tuple.
fn parse_conv_tables(text: &str) -> Table {
    let mut table = Table::new();
    let mut transport = None;
    for line in text.lines() {
        match line.trim() {
            "TCP Conversations" => transport = Some(Transport::Tcp),
            "UDP Conversations" => transport = Some(Transport::Udp),
            _ => {}
        }
        let Some(t) = transport else { continue };
        if let Some((key, frames)) = parse_conv_row(t, line) {
            *table.entry(key).or_default() += frames;
        }
    }
    table
}

/// One row of a tshark 4.0 conversation table:
/// `A:port <-> B:port  F(B→A) bytes unit  F(A→B) bytes unit  F bytes unit  start  duration`,
/// where the `<-` columns count frames towards A and the `->` columns frames from A.
fn parse_conv_row(transport: Transport, line: &str) -> Option<(ConvKey, Frames)> {
    let t: Vec<&str> = line.split_whitespace().collect();
    if t.len() < 9 || t[1] != "<->" || !is_size_unit(t[5]) || !is_size_unit(t[8]) {
        return None;
    }
    let x = parse_endpoint(t[0])?;
    let y = parse_endpoint(t[2])?;
    let to_x: u64 = t[3].parse().ok()?;
    let from_x: u64 = t[6].parse().ok()?;
    let (key, x_is_a) = ConvKey::new(transport, x, y);
    let mut frames = Frames::default();
    frames.add(x_is_a, from_x, to_x);
    Some((key, frames))
}

/// tshark's size units after a byte count.
fn is_size_unit(s: &str) -> bool {
    matches!(s, "bytes" | "kB" | "MB" | "GB" | "TB")
}

/// `1.2.3.4:80` or `2001:db8::1:443` (tshark writes IPv6 endpoints without brackets).
fn parse_endpoint(s: &str) -> Option<SocketAddr> {
    let (ip, port) = s.rsplit_once(':')?;
    Some(SocketAddr::new(ip.parse().ok()?, port.parse().ok()?))
}

/// Our TCP and UDP rows summed per 5-tuple (over connections, idle splits and VLAN ids).
fn our_conversations(rows: &[FlowRow]) -> Table {
    let mut table = Table::new();
    for r in rows {
        let transport = match r.proto.as_str() {
            "tcp" => Transport::Tcp,
            "udp" => Transport::Udp,
            _ => continue,
        };
        let (key, client_is_a) = ConvKey::new(transport, r.client, r.server);
        table
            .entry(key)
            .or_default()
            .add(client_is_a, r.packets_up, r.packets_down);
    }
    table
}

/// Link layers, as tshark names them in `frame.protocols`, that our decoder handles; a frame
/// with any other layer before its first IP header is one we do not decode (Cisco HDLC, Cisco
/// FabricPath, PPI, …).
const DECODED_LINK_LAYERS: [&str; 9] = [
    "eth",
    "ethertype",
    "vlan",
    "sll",
    "null",
    "raw",
    "mpls",
    "pppoes",
    "ppp",
];

/// One TCP or UDP layer of a frame, as tshark decodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TransportLayer {
    /// The conversation it belongs to.
    key: ConvKey,
    /// IP layers before it: 1 for a plain packet, more inside a tunnel or an ICMP error.
    depth: usize,
    /// Inside an ICMP or ICMPv6 error (a quoted packet).
    quoted: bool,
    /// Another IP layer follows it: the outer carrier of a tunnel (VXLAN, GTP-U, CAPWAP, …).
    carries_ip: bool,
}

/// What tshark says about one frame, enough to tell why a conversation's counts differ.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct FrameInfo {
    /// `frame.protocols`, e.g. `eth:ethertype:ip:udp:dns`.
    protocols: String,
    /// Its TCP and UDP layers, outermost first.
    transports: Vec<TransportLayer>,
    /// Captured fewer bytes than were on the wire.
    snapped: bool,
    /// An IPv4 fragment with more to come (MF set) or an IPv6 fragment header: when it still
    /// has a transport layer, tshark dissected a datagram that was never reassembled.
    unreassembled: bool,
    /// A fragment offset: the frame that completed a reassembly.
    reassembled: bool,
    /// `_ws.malformed`: tshark's "[Malformed Packet: PROTO]" markers.
    malformed: String,
}

/// The fields the per-frame pass asks for, in [`parse_frame_line`]'s order.
const FRAME_FIELDS: [&str; 15] = [
    "frame.protocols",
    "frame.len",
    "frame.cap_len",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "tcp.srcport",
    "tcp.dstport",
    "udp.srcport",
    "udp.dstport",
    "ip.flags.mf",
    "ip.frag_offset",
    "ipv6.fraghdr.ident",
    "_ws.malformed",
];

/// tshark's per-frame facts for `path` (the second pass, only for captures with disagreements).
fn tshark_frames(path: &Path) -> Vec<FrameInfo> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-T", "fields", "-E", "separator=/t"])
        .args(["-E", "occurrence=a", "-E", "aggregator=,", "-r"])
        .arg(path);
    for f in FRAME_FIELDS {
        cmd.args(["-e", f]);
    }
    let Ok(out) = cmd.output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(parse_frame_line)
        .collect()
}

/// One line of the per-frame pass (fields in [`FRAME_FIELDS`] order, every occurrence of a
/// field joined by commas, outermost first).
fn parse_frame_line(line: &str) -> FrameInfo {
    let cols: Vec<&str> = line.split('\t').collect();
    let col = |i: usize| cols.get(i).copied().unwrap_or("");
    let list = |i: usize| -> Vec<&str> { col(i).split(',').filter(|v| !v.is_empty()).collect() };
    let numbers =
        |i: usize| -> Vec<u64> { list(i).iter().filter_map(|v| v.parse().ok()).collect() };
    let first = |i: usize| numbers(i).first().copied().unwrap_or(0);
    let fields = LayerFields {
        ipv4: pairs(&list(3), &list(4)),
        ipv6: pairs(&list(5), &list(6)),
        tcp: pairs(&list(7), &list(8)),
        udp: pairs(&list(9), &list(10)),
    };
    let has_fraghdr = !list(13).is_empty();
    FrameInfo {
        protocols: col(0).to_string(),
        transports: transport_layers(col(0), &fields),
        snapped: first(2) < first(1),
        unreassembled: list(11).iter().any(|v| *v == "1" || *v == "True") || has_fraghdr,
        reassembled: numbers(12).iter().any(|o| *o > 0),
        malformed: col(14).to_string(),
    }
}

/// Source and destination of each occurrence of each layer, outermost first (`None` where a
/// value does not parse, so that positions still match the protocol stack).
struct LayerFields {
    ipv4: Vec<Option<(IpAddr, IpAddr)>>,
    ipv6: Vec<Option<(IpAddr, IpAddr)>>,
    tcp: Vec<Option<(u16, u16)>>,
    udp: Vec<Option<(u16, u16)>>,
}

/// `srcs[i]` with `dsts[i]` for every occurrence.
fn pairs<T: std::str::FromStr>(srcs: &[&str], dsts: &[&str]) -> Vec<Option<(T, T)>> {
    srcs.iter()
        .zip(dsts)
        .map(|(s, d)| Some((s.parse().ok()?, d.parse().ok()?)))
        .collect()
}

/// Walks the protocol stack, pairing each IP layer with its addresses and each TCP/UDP layer
/// with its ports and the addresses of the IP layer before it.
fn transport_layers(protocols: &str, f: &LayerFields) -> Vec<TransportLayer> {
    let (mut n4, mut n6, mut nt, mut nu) = (0, 0, 0, 0);
    let (mut ip, mut depth, mut quoted) = (None, 0, false);
    let mut out: Vec<TransportLayer> = Vec::new();
    for layer in protocols.split(':') {
        let (transport, ports) = match layer {
            "ip" | "ipv6" => {
                let (list, n) = if layer == "ip" {
                    (&f.ipv4, &mut n4)
                } else {
                    (&f.ipv6, &mut n6)
                };
                ip = list.get(*n).copied().flatten();
                *n += 1;
                depth += 1;
                if let Some(last) = out.last_mut() {
                    last.carries_ip = true;
                }
                continue;
            }
            "icmp" | "icmpv6" => {
                quoted = true;
                continue;
            }
            "tcp" => (Transport::Tcp, next(&f.tcp, &mut nt)),
            "udp" => (Transport::Udp, next(&f.udp, &mut nu)),
            _ => continue,
        };
        if let (Some((src, dst)), Some((sport, dport))) = (ip, ports) {
            let x = SocketAddr::new(src, sport);
            let y = SocketAddr::new(dst, dport);
            out.push(TransportLayer {
                key: ConvKey::new(transport, x, y).0,
                depth,
                quoted,
                carries_ip: false,
            });
        }
    }
    out
}

/// The occurrence at `*n`, advancing `n`.
fn next<T: Copy>(list: &[Option<T>], n: &mut usize) -> Option<T> {
    *n += 1;
    list.get(*n - 1).copied().flatten()
}

impl FrameInfo {
    /// The layers of this frame that belong to `key`.
    fn layers_of<'a>(&'a self, key: &'a ConvKey) -> impl Iterator<Item = &'a TransportLayer> {
        self.transports.iter().filter(move |t| t.key == *key)
    }

    /// The first link layer before the IP header that our decoder does not handle, if any.
    fn undecoded_link(&self) -> Option<&str> {
        self.protocols
            .split(':')
            .take_while(|l| *l != "ip" && *l != "ipv6")
            .find(|l| !DECODED_LINK_LAYERS.contains(l))
    }

    /// Whether tshark marked `transport` itself as malformed (not a protocol above it).
    fn malformed_at(&self, transport: Transport) -> bool {
        let marker = format!("Malformed Packet: {}", transport.name().to_uppercase());
        self.malformed.contains(&marker)
    }
}

/// Whether `file` is one of nDPI's fuzzed regression captures.
fn is_fuzzed(file: &str) -> bool {
    file.rsplit('/')
        .next()
        .is_some_and(|n| n.starts_with("fuzz-"))
}

/// Why our counts differ from tshark's for one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Class {
    /// The extractor failed on the capture (exit code 2).
    ExtractFailed,
    /// tshark lists the outer UDP conversation of a tunnel we remove (VXLAN, GTP-U); we keep
    /// only the inner conversation.
    TunnelOuter,
    /// tshark counts packets quoted inside ICMP errors in the quoted conversation.
    IcmpQuoted,
    /// Frames whose link layer we do not decode (Cisco HDLC, Cisco FabricPath, PPI, …): we do
    /// not count frames we cannot decode.
    LinkNotDecoded,
    /// The inner conversation of a tunnel we do not open (CAPWAP, PPP inside GRE, …): we count
    /// the outer flow only.
    TunnelInner,
    /// A first fragment whose datagram never completes: tshark dissects its transport header;
    /// we count it too once it times out (one packet, its fragments' bytes), so this class
    /// only remains where the datagram is beyond the reassembly limits.
    UnreassembledFragment,
    /// A datagram tshark reassembled from fragments that we did not count as one packet: a
    /// candidate bug, since we reassemble too.
    Reassembly,
    /// tshark stopped at a malformed TCP/UDP header and left the frame out of its table.
    Malformed,
    /// Frames snapped shorter than on the wire.
    Snapped,
    /// Nothing above applies, in one of nDPI's randomly corrupted `fuzz-*` regression captures:
    /// fuzzed fragments sharing an IP id and self-contradictory headers that tshark drops while
    /// we count every header that parses.
    Fuzzed,
    /// None of the above: a candidate bug.
    Unexplained,
}

impl Class {
    /// Whether the difference is a documented difference between the tools, not a bug.
    fn is_documented(self) -> bool {
        !matches!(
            self,
            Class::ExtractFailed | Class::Reassembly | Class::Unexplained
        )
    }

    /// The class of a disagreement on `key`, from the frames that have a layer in it.
    fn of(key: &ConvKey, frames: &[FrameInfo]) -> Class {
        let touching: Vec<(&FrameInfo, &TransportLayer)> = frames
            .iter()
            .flat_map(|f| f.layers_of(key).map(move |l| (f, l)))
            .collect();
        let any =
            |p: &dyn Fn(&FrameInfo, &TransportLayer) -> bool| touching.iter().any(|(f, l)| p(f, l));
        if any(&|_, l| l.carries_ip) {
            Class::TunnelOuter
        } else if any(&|_, l| l.quoted) {
            Class::IcmpQuoted
        } else if any(&|f, _| f.undecoded_link().is_some()) {
            Class::LinkNotDecoded
        } else if any(&|_, l| l.depth > 1) {
            Class::TunnelInner
        } else if any(&|f, _| f.unreassembled) {
            Class::UnreassembledFragment
        } else if any(&|f, _| f.reassembled) {
            Class::Reassembly
        } else if any(&|f, _| f.malformed_at(key.transport)) {
            Class::Malformed
        } else if any(&|f, _| f.snapped) {
            Class::Snapped
        } else {
            Class::Unexplained
        }
    }
}

/// One conversation whose counts differ.
#[derive(Debug, Clone)]
struct Disagreement {
    file: String,
    key: ConvKey,
    theirs: Frames,
    ours: Option<Frames>,
    class: Class,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ours = self
            .ours
            .map_or_else(|| "none".to_string(), |o| o.to_string());
        write!(
            f,
            "{:?}\t{}\t{}\ttshark {}\tours {ours}",
            self.class, self.file, self.key, self.theirs
        )
    }
}

/// The comparison of one capture.
#[derive(Debug, Default)]
struct FileResult {
    /// tshark read the capture.
    read_by_tshark: bool,
    /// tshark's conversations.
    conversations: usize,
    /// Conversations with equal counts.
    agree: usize,
    /// The others.
    disagreements: Vec<Disagreement>,
    /// 5-tuples only we have (reported, not part of the agreement share).
    only_ours: Vec<String>,
}

/// Compares one capture.
fn compare_file(bin: &Path, corpus: &Path, path: &Path) -> FileResult {
    let Some(theirs) = tshark_conversations(path) else {
        return FileResult::default();
    };
    let file = kit::relative(path, corpus);
    let ours = kit::run_extract(bin, path).map(|x| our_conversations(&x.flows));
    let mut result = FileResult {
        read_by_tshark: true,
        conversations: theirs.len(),
        ..FileResult::default()
    };
    let mut differing = Vec::new();
    for (key, t) in &theirs {
        let o = ours.as_ref().ok().and_then(|o| o.get(key)).copied();
        if o == Some(*t) {
            result.agree += 1;
        } else {
            differing.push((*key, *t, o));
        }
    }
    if let Ok(ours) = &ours {
        result.only_ours = ours
            .iter()
            .filter(|(k, _)| !theirs.contains_key(k))
            .map(|(k, o)| format!("{file}\t{k}\tours {o}"))
            .collect();
    }
    let frames = if differing.is_empty() || ours.is_err() {
        Vec::new()
    } else {
        tshark_frames(path)
    };
    result.disagreements = differing
        .into_iter()
        .map(|(key, theirs, o)| Disagreement {
            file: file.clone(),
            key,
            theirs,
            ours: o,
            class: match Class::of(&key, &frames) {
                _ if ours.is_err() => Class::ExtractFailed,
                Class::Unexplained if is_fuzzed(&file) => Class::Fuzzed,
                c => c,
            },
        })
        .collect();
    result
}

/// The captures to compare: everything below `ndpi/pcap` and `apple` that looks like one.
fn captures(corpus: &Path) -> Vec<PathBuf> {
    ["ndpi/pcap", "apple"]
        .iter()
        .flat_map(|d| kit::files_below(&corpus.join(d)))
        .filter(|p| kit::is_capture(p))
        .collect()
}

/// The report: totals, counts per class, then every disagreement and every 5-tuple only we have.
fn report(files: usize, results: &[FileResult]) -> (String, f64) {
    let read = results.iter().filter(|r| r.read_by_tshark).count();
    let total: usize = results.iter().map(|r| r.conversations).sum();
    let agree: usize = results.iter().map(|r| r.agree).sum();
    let all: Vec<&Disagreement> = results.iter().flat_map(|r| &r.disagreements).collect();
    let documented = all.iter().filter(|d| d.class.is_documented()).count();
    let mut by_class: BTreeMap<Class, usize> = BTreeMap::new();
    for d in &all {
        *by_class.entry(d.class).or_default() += 1;
    }
    let only_ours: Vec<&String> = results.iter().flat_map(|r| &r.only_ours).collect();
    let pct = |n: usize, of: usize| 100.0 * n as f64 / of.max(1) as f64;
    let after = pct(agree + documented, total);
    let mut text = format!(
        "captures: {files}, read by tshark: {read}\n\
         tshark conversations (unordered 5-tuples): {total}\n\
         same frames each way: {agree} ({:.2}%)\n\
         agreement after documented exceptions: {after:.2}% (threshold {MIN_AGREEMENT_AFTER_EXCEPTIONS_PCT}%)\n\
         5-tuples only we have: {}\n\ndisagreements by class:\n",
        pct(agree, total),
        only_ours.len()
    );
    for (class, n) in &by_class {
        let note = if class.is_documented() {
            "documented"
        } else {
            "NOT explained"
        };
        text += &format!("  {class:?}: {n} ({note})\n");
    }
    text += "\nclass\tfile\tconversation\ttshark a->b/b->a\tours a->b/b->a\n";
    for d in &all {
        text += &format!("{d}\n");
    }
    text += "\nonly ours:\n";
    for o in &only_ours {
        text += &format!("{o}\n");
    }
    (text, after)
}

#[test]
fn conversations_agree_with_tshark() {
    let Some(corpus) = kit::corpus() else {
        return;
    };
    if !kit::have_tool("tshark") {
        return;
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_phonehome-extract"));
    let files = captures(&corpus);
    let results = kit::par_map(&files, WORKERS, |f| compare_file(bin, &corpus, f));
    let (text, after) = report(files.len(), &results);
    let path = kit::write_report("conv-vs-tshark.txt", &text);
    println!("{text}\n(report: {})", path.display());
    assert!(
        results.iter().filter(|r| r.read_by_tshark).count() > 400,
        "too few captures compared"
    );
    assert!(
        after >= MIN_AGREEMENT_AFTER_EXCEPTIONS_PCT,
        "agreement with tshark after documented exceptions is {after:.2}% (see {})",
        path.display()
    );
}

/// The parsers and the classifier on literal tshark output.
mod parsers {
    use super::*;

    /// Rows as tshark 4.0.17 writes them for ndpi/pcap/1kxun.pcap, 6in4tunnel.pcap and
    /// fuzz-2006-09-29-28586.pcap (whose last two rows are one 5-tuple split in two streams).
    const TABLES: &str = "\
================================================================================
UDP Conversations
Filter:<No Filter>
                                                           |       <-      | |       ->      | |     Total     |    Relative    |   Duration   |
                                                           | Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |
192.168.5.49:1900          <-> 239.255.255.250:1900             0 0 bytes        16 8473 bytes      16 8473 bytes    27.136440000         8.3969
fe80::9bd:81dd:2fdc:5750:1900 <-> ff02::c:1900                     0 0 bytes        16 8921 bytes      16 8921 bytes    27.136587000         8.3969
================================================================================
================================================================================
TCP Conversations
Filter:<No Filter>
                                                           |       <-      | |       ->      | |     Total     |    Relative    |   Duration   |
                                                           | Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |
192.168.2.126:45380        <-> 161.117.13.29:80                73 178 kB          7 4845 bytes      80 183 kB     184280767.145691007         5.1307
2604:a880:1:20::224:b001:993 <-> 2001:470:1f17:13f:6d69:c72:7313:616f:56381       1 106 bytes       1 152 bytes       2 258 bytes    10.800100000         0.0725
172.20.3.13:80             <-> 172.20.3.5:2601                  5 6103 bytes       2 112 bytes       7 6215 bytes     4.185136000         0.1049
172.20.3.5:2601            <-> 172.20.3.13:80                   1 54 bytes        2 120 bytes       3 174 bytes    15.437627000         0.0006
================================================================================
";

    fn fr(a_to_b: u64, b_to_a: u64) -> Frames {
        Frames { a_to_b, b_to_a }
    }

    fn ep(s: &str) -> SocketAddr {
        parse_endpoint(s).unwrap()
    }

    #[test]
    fn parses_conversation_tables() {
        let t = parse_conv_tables(TABLES);
        assert_eq!(t.len(), 5);
        let (k, _) = ConvKey::new(
            Transport::Udp,
            ep("192.168.5.49:1900"),
            ep("239.255.255.250:1900"),
        );
        assert_eq!(t[&k], fr(16, 0));
        let (k, _) = ConvKey::new(
            Transport::Udp,
            ep("fe80::9bd:81dd:2fdc:5750:1900"),
            ep("ff02::c:1900"),
        );
        assert_eq!(t[&k], fr(16, 0));
        // The client sent 7 frames, the server 73 (nDPI agrees: 7 pkts <-> 73 pkts).
        let (k, client_is_a) = ConvKey::new(
            Transport::Tcp,
            ep("192.168.2.126:45380"),
            ep("161.117.13.29:80"),
        );
        assert!(!client_is_a);
        assert_eq!(t[&k], fr(73, 7));
        let (k, _) = ConvKey::new(
            Transport::Tcp,
            ep("2604:a880:1:20::224:b001:993"),
            ep("2001:470:1f17:13f:6d69:c72:7313:616f:56381"),
        );
        assert_eq!(t[&k].a_to_b + t[&k].b_to_a, 2);
    }

    #[test]
    fn sums_split_rows_of_one_five_tuple() {
        let t = parse_conv_tables(TABLES);
        let (k, first_is_a) =
            ConvKey::new(Transport::Tcp, ep("172.20.3.13:80"), ep("172.20.3.5:2601"));
        assert!(!first_is_a, "172.20.3.5 sorts before 172.20.3.13");
        // 5 + 2 frames from .5 (first row "<-", second row "->"), 2 + 1 from .13.
        assert_eq!(t[&k], fr(7, 3));
    }

    #[test]
    fn sums_our_rows_over_connections() {
        let row = |client: &str, server: &str, up, down| FlowRow {
            id: 0,
            proto: "tcp".into(),
            client: ep(client),
            server: ep(server),
            vlan: None,
            packets_up: up,
            packets_down: down,
            app: String::new(),
            hostname: String::new(),
            name_source: "none".into(),
        };
        let rows = [
            row("172.20.3.5:2601", "172.20.3.13:80", 7, 3),
            row("172.20.3.5:2601", "172.20.3.13:80", 1, 0),
        ];
        let t = our_conversations(&rows);
        let (k, _) = ConvKey::new(Transport::Tcp, ep("172.20.3.13:80"), ep("172.20.3.5:2601"));
        assert_eq!(t[&k], fr(8, 3));
    }

    /// Per-frame lines as tshark 4.0.17 prints them for [`FRAME_FIELDS`].
    const FRAME_LINES: [(&str, &str); 9] = [
        (
            "vxlan.pcap #1",
            "eth:ethertype:vlan:ethertype:ip:udp:vxlan:eth:ethertype:ip:udp:dns\t126\t126\t192.168.22.4,10.10.20.4\t192.168.22.5,8.8.8.8\t\t\t\t\t60887,44437\t4789,53\t0,0\t0,0\t\t",
        ),
        (
            "gre.pcapng #1",
            "eth:ethertype:vlan:ethertype:ip:gre:ppp:ip:udp:sip\t384\t384\t109.105.228.253,192.168.10.210\t10.177.98.84,192.168.103.40\t\t\t\t\t5060\t5060\t0,0\t0,0\t\t",
        ),
        (
            "iphone.pcap #193",
            "eth:ethertype:ip:icmp:ip:udp\t70\t70\t192.168.2.17,192.168.2.1\t192.168.2.1,192.168.2.17\t\t\t\t\t53\t63377\t0,0\t0,0\t\t",
        ),
        (
            "badpackets.pcap #78",
            "eth:ethertype:ip:udp:dns\t1163\t1163\t23.211.133.67\t204.186.80.229\t\t\t\t\t53\t26241\t1\t0\t\t",
        ),
        (
            "BGP_redist.pcap #1",
            "chdlc:mpls:ip:tcp:bgp\t163\t163\t2.2.2.2\t4.4.4.4\t\t\t179\t63535\t\t\t0\t0\t\t",
        ),
        (
            "fuzz-2006-09-29-28586.pcap #27",
            "eth:ethertype:ip:tcp\t60\t60\t172.20.3.5\t172.20.3.13\t\t\t2601\t80\t\t\t0\t0\t\t_ws.malformed,[Malformed Packet: TCP],_ws.malformed",
        ),
        (
            "4in6tunnel.pcap #1",
            "eth:ethertype:ipv6:ip:tcp\t154\t154\t192.168.0.1\t10.10.10.1\t22e0:1685:eda7:38cc:58bd:f3f1:aa3f:22d8\t344a:ba94:152a:ac34::2a\t64455\t443\t\t\t0\t0\t\t",
        ),
        (
            "ip_fragmented_garbage.pcap #939",
            "eth:ethertype:ip:tcp:data\t42\t42\t10.0.0.2\t10.128.0.2\t\t\t9253\t24102\t\t\t0\t624\t\t",
        ),
        (
            "fins.pcap",
            "eth:ethertype:ip:tcp\t70\t66\t10.1.1.173\t10.1.1.164\t\t\t17134\t9600\t\t\t0\t0\t\t",
        ),
    ];

    /// The class of the conversation `x <-> y` given only the frame `name` of [`FRAME_LINES`].
    fn class(name: &str, transport: Transport, x: &str, y: &str) -> Class {
        let (_, line) = FRAME_LINES.iter().find(|(n, _)| *n == name).unwrap();
        let (key, _) = ConvKey::new(transport, ep(x), ep(y));
        Class::of(&key, &[parse_frame_line(line)])
    }

    #[test]
    fn pairs_each_transport_layer_with_its_ip_layer() {
        let f = parse_frame_line(FRAME_LINES[0].1);
        let keys: Vec<String> = f.transports.iter().map(|t| t.key.to_string()).collect();
        assert_eq!(
            keys,
            [
                "udp 192.168.22.4:60887 <-> 192.168.22.5:4789",
                "udp 8.8.8.8:53 <-> 10.10.20.4:44437"
            ]
        );
        assert!(f.transports[0].carries_ip && !f.transports[1].carries_ip);
        assert_eq!(f.transports[1].depth, 2);
        let f = parse_frame_line(FRAME_LINES[6].1);
        assert_eq!(f.transports.len(), 1);
        assert_eq!(
            f.transports[0].key.to_string(),
            "tcp 10.10.10.1:443 <-> 192.168.0.1:64455"
        );
    }

    #[test]
    fn classifies_disagreements() {
        use Transport::{Tcp, Udp};
        let cases = [
            (
                "vxlan.pcap #1",
                Udp,
                "192.168.22.4:60887",
                "192.168.22.5:4789",
                Class::TunnelOuter,
            ),
            (
                "gre.pcapng #1",
                Udp,
                "192.168.10.210:5060",
                "192.168.103.40:5060",
                Class::TunnelInner,
            ),
            (
                "iphone.pcap #193",
                Udp,
                "192.168.2.1:53",
                "192.168.2.17:63377",
                Class::IcmpQuoted,
            ),
            (
                "badpackets.pcap #78",
                Udp,
                "23.211.133.67:53",
                "204.186.80.229:26241",
                Class::UnreassembledFragment,
            ),
            (
                "BGP_redist.pcap #1",
                Tcp,
                "2.2.2.2:179",
                "4.4.4.4:63535",
                Class::LinkNotDecoded,
            ),
            (
                "fuzz-2006-09-29-28586.pcap #27",
                Tcp,
                "172.20.3.5:2601",
                "172.20.3.13:80",
                Class::Malformed,
            ),
            (
                "fins.pcap",
                Tcp,
                "10.1.1.173:17134",
                "10.1.1.164:9600",
                Class::Snapped,
            ),
            (
                "fins.pcap",
                Tcp,
                "10.1.1.173:17135",
                "10.1.1.164:9600",
                Class::Unexplained,
            ),
        ];
        for (name, transport, x, y, want) in cases {
            assert_eq!(class(name, transport, x, y), want, "{name}: {x} <-> {y}");
        }
    }
}
