//! Flow aggregation for phonehome: bidirectional flows, TCP connection boundaries, the DNS name
//! table, name attribution and the mergeable [`CaptureSummary`].
//!
//! ```no_run
//! use phonehome_decode::CaptureReader;
//! use phonehome_flows::{analyze, Config};
//!
//! let mut reader = CaptureReader::open("capture.pcap")?;
//! let summary = analyze(&mut reader, Config::default(), |_bytes, _frames| {});
//! for (host, stats) in &summary.hosts {
//!     println!("{host}: {} connections", stats.connections);
//! }
//! # Ok::<(), phonehome_decode::CaptureError>(())
//! ```
//!
//! # Modules
//! - [`key`]: the canonical 5-tuple and server-side detection.
//! - [`tcpstate`]: Zeek-style `conn_state` and history.
//! - [`frag`]: IPv4/IPv6 fragment reassembly.
//! - [`stream`]: the client's first bytes in sequence order.
//! - [`names`]: the DNS name table.
//! - [`dissect`]: application facts per flow; [`dnsfacts`]: what a DNS message says.
//! - [`prepare`]: the part of that work the reading thread may do ahead.
//! - [`analyzer`]: the flow table.
//! - [`hosts`], [`summary`]: aggregation and merging.
//! - [`fingerprint`]: JA3 and JA4.
//!
//! Memory is bounded by live flows (idle timeouts, a live-flow cap, fragment and stream limits)
//! plus the output rows themselves, which are capped per kind.

pub mod analyzer;

/// The hash maps of the per-packet path: foldhash (fast, seeded per map at random so that
/// crafted addresses cannot aim at collisions). Iteration order is never relied on.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

pub mod dissect;
pub mod dnsfacts;
pub mod fingerprint;
pub mod flow;
pub mod frag;
pub mod hosts;
pub mod key;
pub mod names;
pub mod prepare;
pub mod records;
pub mod spill;
pub mod stream;
pub mod summary;
pub mod tcpstate;

pub use analyzer::{analyze, analyze_with, Analyzer, Config};
pub use hosts::HostStats;
pub use key::{Endpoint, FlowKey};
pub use records::{
    proto_name, DirStats, DnsRow, FlowRecord, HttpRow, LocalName, NameSource, TlsRow,
};
pub use summary::{CaptureSummary, Counters, Source};
