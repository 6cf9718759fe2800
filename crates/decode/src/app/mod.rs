//! Application dissectors: each a pure function over one payload, zero-copy, never panicking.
//!
//! [`dissect`] picks the dissector for a packet by port and by content; the flow layer calls the
//! dissectors directly on reassembled bytes.

pub mod dhcp;
pub mod dns;
pub mod http;
pub mod ntp;
pub mod quic;
pub mod tls;

use crate::packet::{Packet, Transport};

/// What an application dissector found in one packet's payload.
#[derive(Debug, Clone, PartialEq)]
pub enum App<'a> {
    /// DNS over UDP or TCP on port 53.
    Dns(dns::Message<'a>),
    /// Multicast DNS (port 5353).
    Mdns(dns::Message<'a>),
    /// LLMNR (port 5355).
    Llmnr(dns::Message<'a>),
    /// A whole TLS ClientHello.
    TlsClientHello(tls::ClientHello<'a>),
    /// The start of a TLS ClientHello whose record continues in later segments.
    TlsClientHelloPartial {
        /// Bytes present.
        have: usize,
        /// Bytes the record needs.
        needed: usize,
    },
    /// An HTTP/1.x request.
    Http(http::Request<'a>),
    /// NTP.
    Ntp(ntp::Ntp),
    /// DHCPv4.
    Dhcp(dhcp::Dhcp<'a>),
}

impl App<'_> {
    /// A short protocol name: `dns`, `mdns`, `llmnr`, `tls`, `http`, `ntp`, `dhcp`.
    pub fn protocol(&self) -> &'static str {
        match self {
            App::Dns(_) => "dns",
            App::Mdns(_) => "mdns",
            App::Llmnr(_) => "llmnr",
            App::TlsClientHello(_) | App::TlsClientHelloPartial { .. } => "tls",
            App::Http(_) => "http",
            App::Ntp(_) => "ntp",
            App::Dhcp(_) => "dhcp",
        }
    }
}

/// Runs the dissector that fits a packet's ports and payload, if any.
pub fn dissect<'a>(packet: &Packet<'a>) -> Option<App<'a>> {
    let payload = packet.payload;
    if payload.is_empty() {
        return None;
    }
    let (sp, dp) = packet.ports();
    let either = |p: u16| sp == p || dp == p;
    match packet.transport {
        Transport::Udp(_) => {
            if either(53) {
                dns::parse(payload).ok().map(App::Dns)
            } else if either(5353) {
                dns::parse(payload).ok().map(App::Mdns)
            } else if either(5355) {
                dns::parse(payload).ok().map(App::Llmnr)
            } else if either(123) {
                ntp::parse(payload).map(App::Ntp)
            } else if either(67) || either(68) {
                dhcp::parse(payload).map(App::Dhcp)
            } else if either(1900) {
                // SSDP: HTTP-formatted requests over UDP (M-SEARCH, NOTIFY).
                http::parse_request(payload).map(App::Http)
            } else {
                None
            }
        }
        Transport::Tcp(_) => {
            if tls::looks_like_handshake(payload) {
                match tls::parse_client_hello(payload) {
                    Ok(ch) => Some(App::TlsClientHello(ch)),
                    Err(tls::TlsError::Incomplete { have, needed }) => {
                        Some(App::TlsClientHelloPartial { have, needed })
                    }
                    Err(_) => None,
                }
            } else if http::looks_like_request(payload) {
                http::parse_request(payload).map(App::Http)
            } else if either(53) {
                dns::parse_tcp(payload).ok().map(App::Dns)
            } else {
                None
            }
        }
        _ => None,
    }
}
