//! A live flow: counters, TCP state, the client's first bytes, and what its packets said.

use phonehome_decode::Timestamp;

use crate::key::Endpoint;
use crate::records::{DirStats, FlowRecord, NameSource};
use crate::stream::ClientStream;
use crate::tcpstate::{connectionless_state, TcpState};

/// What the client-stream dissection has concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStatus {
    /// Still collecting the client's first bytes.
    Collecting,
    /// Dissected (or given up); later client segments are looked at one by one only.
    Done,
}

/// A flow in the table.
#[derive(Debug, Clone)]
pub struct Flow {
    /// Id (creation order).
    pub id: u64,
    /// IP protocol.
    pub proto: u8,
    /// Client endpoint.
    pub client: Endpoint,
    /// Server endpoint.
    pub server: Endpoint,
    /// VLAN.
    pub vlan: Option<u16>,
    /// First packet.
    pub start: Timestamp,
    /// Last packet.
    pub end: Timestamp,
    /// Last packet, ns (for idle checks).
    pub last_ns: i64,
    /// Client to server.
    pub up: DirStats,
    /// Server to client.
    pub down: DirStats,
    /// TCP state.
    pub tcp: Option<TcpState>,
    /// The client's first bytes (TCP).
    pub stream: Option<ClientStream>,
    /// Stream dissection status.
    pub status: StreamStatus,
    /// Application protocol.
    pub app: Option<&'static str>,
    /// Name the flow itself carried (SNI, Host, DNS query).
    pub name: Option<(String, NameSource)>,
    /// Attribution rule 2, decided when the flow started: the newest DNS answer the client
    /// received for the server address before then (queried name, CNAME chain).
    pub dns_name: Option<(String, Vec<String>)>,
    /// After the first bytes were dissected: the client's next expected sequence number.
    pub client_next: Option<u32>,
    /// QUIC: the client's CRYPTO stream from its Initials, until the ClientHello is read.
    pub crypto: Option<ClientStream>,
    /// QUIC: client Initials looked at (bounded).
    pub initials: u8,
    /// The MSS of the client's SYN (p0f sizes some SYN-ACK windows by it).
    pub syn_mss: Option<u16>,
}

impl Flow {
    /// A new flow.
    pub fn new(
        id: u64,
        proto: u8,
        client: Endpoint,
        server: Endpoint,
        vlan: Option<u16>,
        ts: Timestamp,
    ) -> Flow {
        Flow {
            id,
            proto,
            client,
            server,
            vlan,
            start: ts,
            end: ts,
            last_ns: ts.as_nanos(),
            up: DirStats::default(),
            down: DirStats::default(),
            tcp: (proto == 6).then(TcpState::default),
            stream: (proto == 6).then(ClientStream::default),
            status: if proto == 6 {
                StreamStatus::Collecting
            } else {
                StreamStatus::Done
            },
            app: None,
            name: None,
            dns_name: None,
            client_next: None,
            crypto: None,
            initials: 0,
            syn_mss: None,
        }
    }

    /// Counts one packet.
    pub fn count(&mut self, up: bool, ip_bytes: u64, payload_bytes: u64, ts: Timestamp) {
        let d = if up { &mut self.up } else { &mut self.down };
        d.packets += 1;
        d.ip_bytes += ip_bytes;
        d.payload_bytes += payload_bytes;
        if ts > self.end {
            self.end = ts;
        }
        if ts < self.start {
            self.start = ts;
        }
        self.last_ns = self.last_ns.max(ts.as_nanos());
    }

    /// Sets the app, keeping the first one found.
    pub fn set_app(&mut self, app: &'static str) {
        self.app.get_or_insert(app);
    }

    /// Sets the flow's own name, keeping the first one found.
    pub fn set_name(&mut self, name: String, source: NameSource) {
        if self.name.is_none() && !name.is_empty() {
            self.name = Some((name, source));
        }
    }

    /// Client bytes this flow holds for reassembly (TCP stream and QUIC CRYPTO data).
    pub fn held_bytes(&self) -> usize {
        self.stream.as_ref().map_or(0, ClientStream::held)
            + self.crypto.as_ref().map_or(0, ClientStream::held)
    }

    /// The finished record: the flow's own name, else the DNS name chosen at its start (rule 2),
    /// else none (rule 3 is applied by the caller at the end of the capture).
    pub fn into_record(self) -> FlowRecord {
        let (conn_state, history) = match &self.tcp {
            Some(t) => (t.conn_state(), t.history().to_string()),
            None => (
                connectionless_state(self.up.packets, self.down.packets),
                String::new(),
            ),
        };
        let mut cname_chain = Vec::new();
        let (hostname, name_source) = match (self.name, self.dns_name) {
            (Some((n, s)), _) => (Some(n), s),
            (None, Some((n, chain))) => {
                cname_chain = chain;
                (Some(n), NameSource::Dns)
            }
            (None, None) => (None, NameSource::None),
        };
        FlowRecord {
            id: self.id,
            start: self.start,
            end: self.end,
            proto: self.proto,
            client: self.client,
            server: self.server,
            vlan: self.vlan,
            conn_state,
            history,
            up: self.up,
            down: self.down,
            app: self.app,
            hostname,
            name_source,
            cname_chain,
        }
    }
}
