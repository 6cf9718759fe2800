//! Stateless decoding for phonehome: capture files to frames, frames to packets, payloads to
//! protocol facts.
//!
//! ```no_run
//! use phonehome_decode::{app, decode, CaptureReader};
//!
//! let mut reader = CaptureReader::open("capture.pcap")?;
//! while let Some(frame) = reader.next_frame() {
//!     let Ok(packet) = decode(&frame) else { continue };
//!     if let Some(app::App::TlsClientHello(hello)) = app::dissect(&packet) {
//!         println!("{} -> {:?}", packet.ip.src, hello.sni_string());
//!     }
//! }
//! for warning in reader.warnings() {
//!     eprintln!("warning: {warning}");
//! }
//! # Ok::<(), phonehome_decode::CaptureError>(())
//! ```
//!
//! # Layers
//! - [`capture`]: pcap and pcapng (both byte orders, micro- and nanosecond, several interfaces
//!   with their own link types and resolutions), gzip and zstd detected by magic, stdin,
//!   streamed through one buffer. Damage ends the read with a [`Warning`] naming the byte offset; every
//!   frame before it is delivered.
//! - [`link`]: Ethernet, 802.1Q/QinQ, PPPoE, MPLS, Linux SLL/SLL2, BSD NULL/LOOP (either byte
//!   order), raw IP, PPP, Apple PKTAP.
//! - [`ip`] and [`tcp`]: IPv4 (options, fragments), IPv6 (extension headers, fragments), TCP
//!   (all flags, options in order), UDP, ICMP, ICMPv6; header views from `pnet_packet`.
//! - [`app`]: DNS/mDNS/LLMNR, TLS ClientHello, HTTP request, NTP, DHCP, QUIC Initial.
//! - [`syn`]: SYN / SYN-ACK fingerprints (tcpdump text, p0f signature).
//!
//! # Panic contract
//! No function of this crate panics on any input bytes. Every view is created only after a
//! length check (`pnet_packet`'s `new` returns `None` when the fixed header does not fit, and
//! every variable-length field is bounds-checked with `get`), so no accessor indexes out of
//! range; every loop over untrusted data is bounded (DNS compression pointers must point strictly
//! backwards, entry counts and tag stacks are capped, TCP options end at the first impossible
//! length). A violation is a bug: the corpus test and the fuzz targets exist to find one.

pub mod app;
pub mod capture;
mod error;
pub mod ip;
pub mod link;
pub mod packet;
pub mod shape;
pub mod syn;
pub mod tcp;
pub mod text;
mod time;

pub use capture::{CaptureReader, Compression, Format, Frame, Prepare, ReadLimits, ReadStats};
pub use error::{CaptureError, Warning, WarningKind};
pub use link::NetKind;
pub use packet::{decode, decode_link, decode_transport, Packet, Transport, Tunnel};
pub use shape::PacketShape;
pub use time::Timestamp;

/// Why a frame could not be decoded to the transport layer. Per-packet, never fatal: callers
/// count these by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The link type is not one this crate decodes.
    #[error("unsupported link type {0}")]
    UnsupportedLink(u16),
    /// The frame carries something other than IP (ARP, LLDP, ...).
    #[error("not IP ({0:?})")]
    NotIp(NetKind),
    /// A header was cut short by the end of the captured bytes.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A header is self-contradictory.
    #[error("malformed: {0}")]
    Malformed(&'static str),
}
