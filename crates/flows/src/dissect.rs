//! Application facts per flow: runs the decoding crate's dissectors on single packets and on
//! the reassembled client stream, and turns what they find into rows and names.

use std::collections::BTreeSet;
use std::net::IpAddr;

use phonehome_decode::app::{self, dhcp, dns, http, quic, tls, App};
use phonehome_decode::tcp::TcpFlags;
use phonehome_decode::text;
use phonehome_decode::{syn, Packet, Timestamp, Transport};

use crate::dnsfacts::{DnsFacts, FactText, Run};
use crate::fingerprint::Fingerprinter;
use crate::flow::{Flow, StreamStatus};
use crate::key::Endpoint;
use crate::names::NameTable;
use crate::records::{FingerprintRow, HttpRow, LocalName, NameSource, TlsRow};
use crate::spill::{DnsRowHead, DnsRowView, Encoded};
use crate::stream::ClientStream;

/// Fewest client bytes worth dissecting (a TLS record header is 5, a method plus space 4).
const MIN_DISSECT: usize = 6;
/// Most rows of each kind kept per capture (bounds memory on hostile captures).
pub const MAX_ROWS: usize = 1_000_000;
/// Most client Initials looked at per flow (a ClientHello spans two or three).
const MAX_INITIALS: u8 = 8;
/// Most local names kept.
const MAX_LOCAL_NAMES: usize = 100_000;

/// Bounds on the client bytes held for reassembly (TCP client streams and QUIC CRYPTO data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Most bytes held per flow (`--max-stream-bytes`).
    pub per_flow: usize,
    /// Most bytes held over all live flows (`--max-reassembly-bytes`); beyond it the flow whose
    /// stream started holding bytes first is dissected with what it has and released.
    pub total: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            per_flow: crate::stream::MAX_STREAM,
            total: 64 << 20,
        }
    }
}

/// The rows and the name table one capture accumulates.
#[derive(Debug, Default)]
pub struct Rows {
    /// Reassembly limits.
    pub stream_limits: StreamLimits,
    /// JA3/JA4 of the ClientHellos seen, remembered.
    pub tls_prints: Fingerprinter,
    /// Most DNS, TLS and HTTP rows kept, each (`None`: [`MAX_ROWS`]).
    pub row_limit: Option<usize>,
    /// Client bytes held for reassembly now, over all live flows (kept by the analyzer).
    pub stream_held: usize,
    /// DNS messages, encoded, on their way to the analyzer's store.
    pub dns: Encoded,
    /// ClientHellos.
    pub tls: Vec<TlsRow>,
    /// HTTP requests.
    pub http: Vec<HttpRow>,
    /// Local names.
    pub local_names: BTreeSet<LocalName>,
    /// Address -> name answers.
    pub names: NameTable,
    /// Rows dropped because a limit was reached.
    pub dropped: u64,
    /// DNS, TLS and HTTP rows kept so far (some may have moved on from the lists above).
    pub kept: [usize; 3],
    /// SYN/SYN-ACK signatures: (host, kind, p0f, normalised tcpdump) -> row.
    pub fingerprints: std::collections::BTreeMap<FpKey, FingerprintRow>,
    /// The row key of each signature key seen lately (bounded by [`FINGERPRINT_KEY_CACHE`]).
    pub(crate) fingerprint_keys: crate::FastMap<syn::SignatureKey, FpKey>,
    /// What the reading thread made for the frame being analysed, if anything: used instead
    /// of dissecting its datagram again. Its text is in `prepared_text`.
    pub(crate) prepared: Option<DnsFacts>,
    /// The text of the reading thread's facts for the current batch of frames.
    pub(crate) prepared_text: FactText,
    /// The text of facts made here (reused message after message).
    pub(crate) own_text: FactText,
}

/// Key of a fingerprint row: host, kind, p0f signature, normalised tcpdump line.
pub type FpKey = (IpAddr, phonehome_decode::syn::SynKind, String, String);

/// Most distinct fingerprint rows kept.
const MAX_FINGERPRINTS: usize = 100_000;

/// Most signature keys remembered with their row keys (the cache starts again beyond it).
const FINGERPRINT_KEY_CACHE: usize = 4096;

impl Rows {
    fn max_rows(&self) -> usize {
        self.row_limit.unwrap_or(MAX_ROWS)
    }

    /// One packet of `flow`, sent by `src`: the counters, the TCP state, the dissectors and the
    /// reassembly total. Returns whether the flow's buffers started holding bytes with it.
    pub(crate) fn update(
        &mut self,
        flow: &mut Flow,
        p: &Packet<'_>,
        src: Endpoint,
        ts: Timestamp,
        ip_bytes: u64,
        syn_only: bool,
    ) -> bool {
        let up = flow.client == src;
        flow.count(up, ip_bytes, u64::from(p.payload_len), ts);
        if let Transport::Tcp(h) = p.transport {
            if let Some(t) = flow.tcp.as_mut() {
                t.update(&h, p.payload_len, up);
            }
            if up && syn_only {
                Rows::client_syn(flow, h.seq);
            }
        }
        let before = flow.held_bytes();
        self.packet(flow, p, up, ts);
        let after = flow.held_bytes();
        self.stream_held = (self.stream_held + after).saturating_sub(before);
        before == 0 && after > 0
    }

    /// Looks at one packet of `flow`; `up` is client to server.
    pub fn packet(&mut self, flow: &mut Flow, p: &Packet<'_>, up: bool, ts: Timestamp) {
        match p.transport {
            Transport::Tcp(h) => {
                if h.flags.has(TcpFlags::SYN) {
                    self.syn(flow, p, up, ts);
                }
                if up && !p.payload.is_empty() {
                    self.client_segment(flow, h.seq, p, ts);
                } else if !up && p.payload.len() > 2 && flow.server.port == 53 {
                    // A DNS answer over TCP that fits one segment (longer ones are not
                    // reassembled: DNS over TCP is rare in a boot).
                    if let Some(App::Dns(m)) = app::dissect(p) {
                        self.dns_message(flow, &m, "dns", p.ip.src, p.ip.dst, ts);
                    }
                }
            }
            Transport::Udp(_) => {
                if up && quic::looks_like_initial(p.payload) {
                    self.quic_initial(flow, p.payload, ts);
                } else {
                    self.datagram(flow, p, ts);
                }
            }
            Transport::Icmp { .. } => flow.set_app("icmp"),
            Transport::Icmpv6 { .. } => flow.set_app("icmpv6"),
            _ => {}
        }
    }

    /// Counts a SYN or SYN-ACK signature. Its text is made only the first time its
    /// [`syn::SignatureKey`] is seen (most SYNs of a capture repeat a few signatures).
    fn syn(&mut self, flow: &mut Flow, p: &Packet<'_>, up: bool, ts: Timestamp) {
        let peer_mss = if up { None } else { flow.syn_mss };
        let Some(sk) = syn::signature_key(p, peer_mss) else {
            return;
        };
        if up && sk.kind() == syn::SynKind::Syn {
            flow.syn_mss = sk.mss();
        }
        if let Some(key) = self.fingerprint_keys.get(&sk) {
            // Known signature: its row, or a table that was full when it was first seen.
            match self.fingerprints.get_mut(key) {
                Some(row) => row.count += 1,
                None => self.dropped += 1,
            }
            return;
        }
        let Some(fp) = syn::fingerprint(p, peer_mss) else {
            return;
        };
        let key = (
            p.ip.src,
            fp.kind,
            fp.p0f.clone(),
            fp.tcpdump_normalised.clone(),
        );
        if self.fingerprint_keys.len() >= FINGERPRINT_KEY_CACHE {
            self.fingerprint_keys.clear();
        }
        self.fingerprint_keys.insert(sk, key.clone());
        if let Some(row) = self.fingerprints.get_mut(&key) {
            row.count += 1;
        } else if self.fingerprints.len() < MAX_FINGERPRINTS {
            self.fingerprints.insert(
                key,
                FingerprintRow {
                    host: p.ip.src,
                    fingerprint: fp,
                    count: 1,
                    first: ts,
                },
            );
        } else {
            self.dropped += 1;
        }
    }

    /// Marks the client's SYN so that the stream starts at ISN + 1.
    pub fn client_syn(flow: &mut Flow, seq: u32) {
        if let Some(s) = flow.stream.as_mut() {
            s.set_base(seq.wrapping_add(1));
        }
    }

    fn datagram(&mut self, flow: &mut Flow, p: &Packet<'_>, ts: Timestamp) {
        // The querier is the destination of a response and the source of a query.
        let (src, dst) = (p.ip.src, p.ip.dst);
        if let Some(facts) = self.prepared.take() {
            let text = std::mem::take(&mut self.prepared_text);
            self.dns_facts(flow, facts, &text, (src, dst, ts));
            self.prepared_text = text;
            return;
        }
        let Some(a) = app::dissect(p) else { return };
        match a {
            App::Dns(m) => self.dns_message(flow, &m, "dns", src, dst, ts),
            App::Mdns(m) => self.dns_message(flow, &m, "mdns", src, dst, ts),
            App::Llmnr(m) => self.dns_message(flow, &m, "llmnr", src, dst, ts),
            App::Ntp(_) => flow.set_app("ntp"),
            App::Dhcp(d) => {
                flow.set_app("dhcp");
                self.dhcp(&d);
            }
            App::Http(r) => {
                // SSDP: HTTP-formatted multicast discovery, not a web request.
                flow.set_app("ssdp");
                self.http_row(flow.id, &r, ts);
            }
            App::TlsClientHello(_) | App::TlsClientHelloPartial { .. } => {}
        }
    }

    fn dns_message(
        &mut self,
        flow: &mut Flow,
        m: &dns::Message<'_>,
        kind: &'static str,
        src: IpAddr,
        dst: IpAddr,
        ts: Timestamp,
    ) {
        if self.skips_query(flow, kind, m.is_response) {
            flow.set_app(kind);
            self.dropped += 1;
            return;
        }
        let mut text = std::mem::take(&mut self.own_text);
        text.clear();
        let facts = DnsFacts::new(m, kind, self.kept[0] < self.max_rows(), &mut text);
        self.dns_facts(flow, facts, &text, (src, dst, ts));
        self.own_text = text;
    }

    /// A query past the row limit on a named flow: nothing to learn, name or keep.
    fn skips_query(&self, flow: &Flow, kind: &str, is_response: bool) -> bool {
        kind == "dns" && !is_response && flow.name.is_some() && self.kept[0] >= self.max_rows()
    }

    /// Applies a DNS message's facts (made here or ahead by the reading thread) to its flow,
    /// the name table and the rows; `at` is the sender, the receiver and the time.
    fn dns_facts(
        &mut self,
        flow: &mut Flow,
        facts: DnsFacts,
        text: &FactText,
        at: (IpAddr, IpAddr, Timestamp),
    ) {
        let (src, dst, ts) = at;
        let kind = facts.kind;
        flow.set_app(kind);
        if self.skips_query(flow, kind, facts.is_response) {
            self.dropped += 1;
            return;
        }
        // A lookup names its flow with the question (nDPI does the same), for mDNS and LLMNR
        // too; hosts.csv still counts the flow under its server address, not under the name.
        // An mDNS/LLMNR announcement has answers but no question: its first record's name
        // stands for the flow.
        if flow.name.is_none() {
            let name = match (facts.question, facts.announced) {
                (Some(q), _) => Some(text.text(q)).filter(|n| *n != "."),
                (None, a) => a.map(|a| text.text(a)),
            };
            if let Some(n) = name.filter(|n| !n.is_empty()) {
                flow.set_name(n.to_string(), NameSource::DnsQuery);
            }
        }
        let (client, server) = if facts.is_response {
            (dst, src)
        } else {
            (src, dst)
        };
        let qname = facts.question.map_or("", |q| text.text(q));
        if let Some((chain, addresses, _)) = facts.resolution {
            if kind == "dns" {
                let addresses = text.addresses(addresses);
                let chain = text.texts(chain);
                self.names
                    .learn_parts(qname, chain, addresses, client, ts.as_nanos());
            }
        }
        for (name, address) in text.locals(facts.local_records) {
            self.local_name(name, Some(address), kind);
        }
        if self.kept[0] >= self.max_rows() {
            self.dropped += 1;
            return;
        }
        self.kept[0] += 1;
        let (chain, ttl_min) = facts
            .resolution
            .map_or((Run::default(), None), |(c, _, t)| (c, t));
        let answers = facts.answers.unwrap_or_default();
        // The row goes to its store as bytes, its text copied once, from the facts.
        self.dns.push_with(ts.as_nanos(), |out| {
            DnsRowView {
                row: DnsRowHead {
                    ts,
                    app: kind,
                    client,
                    server,
                    id: facts.id,
                    is_response: facts.is_response,
                    qname,
                    qtype: facts.qtype,
                    rcode: facts.is_response.then_some(facts.rcode),
                    ttl_min,
                },
                answers: text.texts(answers),
                cname_chain: text.texts(chain),
            }
            .encode(out)
        });
    }

    fn local_name(&mut self, name: &str, address: Option<IpAddr>, source: &'static str) {
        if self.local_names.len() < MAX_LOCAL_NAMES && !name.is_empty() {
            self.local_names.insert(LocalName {
                name: name.to_string(),
                address,
                source,
            });
        }
    }

    fn dhcp(&mut self, d: &dhcp::Dhcp<'_>) {
        let address = d.requested_ip.or(d.your_ip).map(IpAddr::V4);
        if let Some(h) = d.hostname {
            self.local_name(&text::lossy(h), address, "dhcp");
        }
        if let Some(f) = &d.client_fqdn {
            self.local_name(f, address, "dhcp-fqdn");
        }
        if let Some(v) = d.vendor_class {
            self.local_name(&text::lossy(v), address, "dhcp-vendor");
        }
    }

    fn client_segment(&mut self, flow: &mut Flow, seq: u32, p: &Packet<'_>, ts: Timestamp) {
        if flow.status == StreamStatus::Done {
            // Later requests on a kept-alive HTTP connection start at a segment boundary; a
            // segment that starts before the next expected byte is a retransmission.
            let len = p.payload.len() as u32;
            let fresh = flow
                .client_next
                .is_none_or(|n| (seq.wrapping_sub(n) as i32) >= 0);
            if fresh {
                if flow.app == Some("http") && http::looks_like_request(p.payload) {
                    if let Some(r) = http::parse_request(p.payload) {
                        self.http_row(flow.id, &r, ts);
                    }
                } else if flow.app != Some("tls") && tls::looks_like_handshake(p.payload) {
                    // TLS after a plaintext preamble: STARTTLS (SMTP, IMAP, POP3, FTP), an
                    // HTTP CONNECT or SOCKS proxy. The ClientHello must fit its segment.
                    if let Ok(ch) = tls::parse_client_hello(p.payload) {
                        self.client_hello(flow, &ch, ts);
                    }
                }
                flow.client_next = Some(seq.wrapping_add(len));
            }
            return;
        }
        let Some(stream) = flow.stream.as_mut() else {
            return;
        };
        if !stream.add(seq, p.payload, p.payload_complete()) {
            return;
        }
        self.try_stream(flow, ts, false);
    }

    /// Dissects the client's reassembled bytes; `last` when the flow is ending (take what
    /// there is).
    pub fn try_stream(&mut self, flow: &mut Flow, ts: Timestamp, last: bool) {
        if flow.status == StreamStatus::Done {
            return;
        }
        let Some(stream) = flow.stream.take() else {
            return;
        };
        let b = stream.bytes();
        let done = if b.len() < MIN_DISSECT && !last {
            false
        } else if tls::looks_like_handshake(b) {
            match tls::parse_client_hello(b) {
                Ok(ch) => {
                    self.client_hello(flow, &ch, ts);
                    true
                }
                Err(tls::TlsError::Incomplete { .. }) if !last && !stream.is_full() => false,
                Err(tls::TlsError::Incomplete { .. }) => {
                    flow.set_app("tls");
                    true
                }
                Err(_) => true,
            }
        } else if http::looks_like_request(b) {
            match http::parse_request(b) {
                Some(r) if r.complete || last || stream.is_full() => {
                    flow.set_app("http");
                    if let Some(h) = r.host_name().filter(|h| !h.is_empty()) {
                        flow.set_name(h, NameSource::Http);
                    }
                    self.http_row(flow.id, &r, ts);
                    true
                }
                Some(_) => false,
                None => true,
            }
        } else if flow.server.port == 53 {
            match dns::parse_tcp(b) {
                Ok(m) => {
                    let (c, s) = (flow.client.ip, flow.server.ip);
                    self.dns_message(flow, &m, "dns", c, s, ts);
                    true
                }
                Err(_) => last || stream.is_full(),
            }
        } else {
            true
        };
        if done {
            flow.status = StreamStatus::Done;
            flow.client_next = stream.next_seq();
        } else {
            flow.stream = Some(stream);
        }
    }

    /// A client's QUIC Initial: decrypt, gather CRYPTO frames in offset order, and read the
    /// ClientHello once it is whole (it may span several Initials, in any order).
    fn quic_initial(&mut self, flow: &mut Flow, payload: &[u8], ts: Timestamp) {
        if flow.initials >= MAX_INITIALS || (flow.app == Some("quic") && flow.crypto.is_none()) {
            return;
        }
        flow.initials += 1;
        let Ok(initial) = quic::parse_initial(payload) else {
            return;
        };
        flow.set_app("quic");
        let cap = self.stream_limits.per_flow;
        let stream = flow.crypto.get_or_insert_with(|| {
            let mut s = ClientStream::with_cap(cap);
            s.set_base(0);
            s
        });
        let mut frames = initial.crypto;
        frames.sort_by_key(|(off, _)| *off);
        for (off, data) in &frames {
            if let Ok(off) = u32::try_from(*off) {
                stream.add(off, data, true);
            }
        }
        let id = flow.id;
        let done = match tls::parse_client_hello_message(stream.bytes()) {
            Ok(ch) => Some((
                ch.sni_string().filter(|s| !s.is_empty()),
                hello_row(&mut self.tls_prints, &ch, true, ts, id),
            )),
            Err(tls::TlsError::Incomplete { .. }) if !stream.is_full() => None,
            Err(_) => {
                flow.crypto = None;
                return;
            }
        };
        if let Some((sni, row)) = done {
            if let Some(sni) = sni {
                flow.set_name(sni, NameSource::Quic);
            }
            flow.crypto = None;
            if self.kept[1] < self.max_rows() {
                self.kept[1] += 1;
                self.tls.push(row);
            } else {
                self.dropped += 1;
            }
        }
    }

    fn client_hello(&mut self, flow: &mut Flow, ch: &tls::ClientHello<'_>, ts: Timestamp) {
        flow.set_app("tls");
        if let Some(sni) = ch.sni_string().filter(|s| !s.is_empty()) {
            flow.set_name(sni, NameSource::Sni);
        }
        if self.kept[1] >= self.max_rows() {
            self.dropped += 1;
            return;
        }
        self.kept[1] += 1;
        let row = hello_row(&mut self.tls_prints, ch, false, ts, flow.id);
        self.tls.push(row);
    }

    fn http_row(&mut self, flow_id: u64, r: &http::Request<'_>, ts: Timestamp) {
        if self.kept[2] >= self.max_rows() {
            self.dropped += 1;
            return;
        }
        self.kept[2] += 1;
        let text = |b: Option<&[u8]>| b.map(text::lossy);
        self.http.push(HttpRow {
            ts,
            flow_id,
            method: r.method.to_string(),
            host: text(r.host),
            uri: text::lossy(r.uri),
            user_agent: text(r.user_agent),
            content_type: text(r.content_type),
        });
    }
}

/// The `tls.csv` row of a ClientHello (from TCP, or from QUIC: JA4's `q` prefix).
fn hello_row(
    prints: &mut Fingerprinter,
    ch: &tls::ClientHello<'_>,
    quic: bool,
    ts: Timestamp,
    flow_id: u64,
) -> TlsRow {
    let p = prints.prints(ch, quic);
    let mut versions: Vec<u16> = ch
        .supported_versions
        .iter()
        .copied()
        .filter(|v| !tls::is_grease(*v))
        .collect();
    if versions.is_empty() {
        versions.push(ch.version);
    }
    TlsRow {
        ts,
        flow_id,
        sni: ch.sni_string(),
        versions,
        alpn: ch.alpn.iter().map(|a| text::lossy(a)).collect(),
        ja3: p.ja3,
        ja3_string: p.ja3_string,
        ja4: p.ja4,
    }
}
