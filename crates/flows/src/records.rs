//! The rows a capture yields: flows, DNS messages, ClientHellos, HTTP requests, local names.
//! Plain data; formatting lives in the output crate.

use std::net::IpAddr;

use phonehome_decode::Timestamp;

use crate::key::Endpoint;

/// Where a flow's hostname came from (DESIGN.md, "Attribution").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameSource {
    /// TLS SNI.
    Sni,
    /// QUIC SNI.
    Quic,
    /// HTTP Host header.
    Http,
    /// A DNS answer to the same client before the flow started.
    Dns,
    /// Some DNS answer in the capture for the server address (weaker).
    DnsAny,
    /// A DNS flow: its first query name.
    DnsQuery,
    /// No name: the server address stands as the host.
    None,
}

impl NameSource {
    /// The CSV spelling: `sni`, `quic`, `http`, `dns`, `dns-any`, `dns-query`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            NameSource::Sni => "sni",
            NameSource::Quic => "quic",
            NameSource::Http => "http",
            NameSource::Dns => "dns",
            NameSource::DnsAny => "dns-any",
            NameSource::DnsQuery => "dns-query",
            NameSource::None => "none",
        }
    }
}

/// Per-direction counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DirStats {
    /// Packets (a reassembled IP datagram counts once).
    pub packets: u64,
    /// Sum of IP total lengths, from the headers (true volume even when snapped).
    pub ip_bytes: u64,
    /// Sum of transport payload lengths, from the headers.
    pub payload_bytes: u64,
}

impl DirStats {
    /// Adds another counter.
    pub fn add(&mut self, o: &DirStats) {
        self.packets += o.packets;
        self.ip_bytes += o.ip_bytes;
        self.payload_bytes += o.payload_bytes;
    }
}

/// A finished flow: one TCP connection, or one UDP/ICMP/other conversation between idle gaps.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRecord {
    /// Stable id within the capture: flows numbered in the order their first packet appeared.
    pub id: u64,
    /// First packet.
    pub start: Timestamp,
    /// Last packet.
    pub end: Timestamp,
    /// IP protocol number.
    pub proto: u8,
    /// The client (TCP: the SYN sender; otherwise the first sender, corrected by ports).
    pub client: Endpoint,
    /// The server.
    pub server: Endpoint,
    /// Outermost VLAN id.
    pub vlan: Option<u16>,
    /// Zeek-style connection state.
    pub conn_state: &'static str,
    /// Zeek-style history (TCP only).
    pub history: String,
    /// Client to server.
    pub up: DirStats,
    /// Server to client.
    pub down: DirStats,
    /// Application protocol recognised (`tls`, `http`, `dns`, `ntp`, ...), if any.
    pub app: Option<&'static str>,
    /// The name attributed to the server.
    pub hostname: Option<String>,
    /// Where the name came from.
    pub name_source: NameSource,
    /// CNAMEs from the looked-up name to the address, when the name came from DNS.
    pub cname_chain: Vec<String>,
}

impl FlowRecord {
    /// Transport name: `tcp`, `udp`, `icmp`, `icmpv6`, or the protocol number.
    pub fn proto_name(&self) -> String {
        proto_name(self.proto)
    }

    /// The host this flow counts under in `hosts.csv`: the resolver's address for DNS flows
    /// (a lookup is not a connection to the name looked up), else the name, else the server
    /// address.
    pub fn host_key(&self) -> String {
        match self.host_name() {
            Some(h) => h.to_string(),
            None => self.server.ip.to_string(),
        }
    }

    /// The name [`FlowRecord::host_key`] uses, when it is a name and not the address.
    pub fn host_name(&self) -> Option<&str> {
        match (&self.hostname, self.name_source) {
            (Some(h), s) if s != NameSource::DnsQuery && !h.is_empty() => Some(h),
            _ => None,
        }
    }
}

/// Transport name for an IP protocol number.
pub fn proto_name(p: u8) -> String {
    match p {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 => "icmp".into(),
        58 => "icmpv6".into(),
        n => n.to_string(),
    }
}

/// One DNS, mDNS or LLMNR message.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsRow {
    /// When it was seen.
    pub ts: Timestamp,
    /// `dns`, `mdns` or `llmnr`.
    pub app: &'static str,
    /// The querier (destination of a response).
    pub client: IpAddr,
    /// The resolver (source of a response).
    pub server: IpAddr,
    /// Transaction id.
    pub id: u16,
    /// Whether this is a response.
    pub is_response: bool,
    /// First question's name.
    pub qname: String,
    /// First question's type.
    pub qtype: u16,
    /// Response code (responses only).
    pub rcode: Option<u8>,
    /// Answer data in order: addresses, CNAME/PTR targets.
    pub answers: Vec<String>,
    /// CNAMEs followed from the queried name.
    pub cname_chain: Vec<String>,
    /// Smallest answer TTL.
    pub ttl_min: Option<u32>,
}

/// One TLS ClientHello.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsRow {
    /// When its last segment was seen.
    pub ts: Timestamp,
    /// The flow it belongs to.
    pub flow_id: u64,
    /// Server name indication.
    pub sni: Option<String>,
    /// Versions offered (supported_versions without GREASE, else the legacy version).
    pub versions: Vec<u16>,
    /// ALPN protocols offered.
    pub alpn: Vec<String>,
    /// JA3 hash.
    pub ja3: String,
    /// The JA3 string before hashing.
    pub ja3_string: String,
    /// JA4 fingerprint.
    pub ja4: String,
}

/// One HTTP request.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRow {
    /// When it was seen.
    pub ts: Timestamp,
    /// The flow it belongs to.
    pub flow_id: u64,
    /// Method.
    pub method: String,
    /// Host header (lossy UTF-8).
    pub host: Option<String>,
    /// Request target.
    pub uri: String,
    /// User-Agent.
    pub user_agent: Option<String>,
    /// Content-Type.
    pub content_type: Option<String>,
}

/// A name a local machine announced for itself (mDNS, LLMNR, DHCP): these describe the LAN,
/// not servers, and are kept apart from the host table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalName {
    /// The name.
    pub name: String,
    /// The address it was announced for, when known.
    pub address: Option<IpAddr>,
    /// `mdns`, `llmnr`, `dhcp`, `dhcp-fqdn` or `dhcp-vendor`.
    pub source: &'static str,
}

/// One distinct SYN or SYN-ACK signature of one host (`fingerprints.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerprintRow {
    /// The host whose stack sent it (the client for a SYN, the server for a SYN-ACK).
    pub host: IpAddr,
    /// The fingerprint of the first such segment (its per-packet values are that segment's).
    pub fingerprint: phonehome_decode::syn::SynFingerprint,
    /// Segments with this signature from this host.
    pub count: u64,
    /// First seen.
    pub first: Timestamp,
}
