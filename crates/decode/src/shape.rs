//! A decoded packet that does not borrow its frame: its byte slices are kept as places in the
//! frame's bytes. One thread decodes a frame and hands the shape over; the thread that holds
//! the bytes turns it back into the same [`Packet`] without decoding again.

use crate::ip::IpHeader;
use crate::packet::{Packet, Transport, Tunnel};
use crate::tcp::TcpHeader;

/// A run of bytes of the frame: start and length.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// Where `part` lies in `data`; `None` when it is not inside it. An empty part may lie
    /// anywhere: it is the empty span.
    fn of(data: &[u8], part: &[u8]) -> Option<Span> {
        if part.is_empty() {
            return Some(Span::default());
        }
        let start = (part.as_ptr() as usize).checked_sub(data.as_ptr() as usize)?;
        let end = start.checked_add(part.len())?;
        (end <= data.len()).then_some(Span {
            start: u32::try_from(start).ok()?,
            len: u32::try_from(part.len()).ok()?,
        })
    }

    fn of_or_empty(self, data: &[u8]) -> &[u8] {
        let start = self.start as usize;
        data.get(start..start + self.len as usize)
            .unwrap_or_default()
    }
}

/// A [`Packet`] with its slices as places in the frame's bytes (see [`Packet::shape`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketShape {
    vlan: Option<u16>,
    src_mac: Option<[u8; 6]>,
    ip: IpHeader,
    /// The transport header, a TCP header's options left out (they are in `options`).
    transport: Transport<'static>,
    options: Span,
    payload: Span,
    payload_len: u32,
    ip_payload: Span,
    tunnel: Option<Tunnel>,
}

impl Packet<'_> {
    /// The packet's shape over `data`, the bytes it was decoded from; `None` when a slice of
    /// the packet is not inside `data`.
    pub fn shape(&self, data: &[u8]) -> Option<PacketShape> {
        let (transport, options) = match self.transport {
            Transport::Tcp(h) => (
                Transport::Tcp(TcpHeader {
                    option_bytes: &[],
                    ..h
                }),
                Span::of(data, h.option_bytes)?,
            ),
            Transport::Udp(h) => (Transport::Udp(h), Span::default()),
            Transport::Icmp { kind, code } => (Transport::Icmp { kind, code }, Span::default()),
            Transport::Icmpv6 { kind, code } => (Transport::Icmpv6 { kind, code }, Span::default()),
            Transport::Fragment => (Transport::Fragment, Span::default()),
            Transport::Other => (Transport::Other, Span::default()),
        };
        Some(PacketShape {
            vlan: self.vlan,
            src_mac: self.src_mac,
            ip: self.ip,
            transport,
            options,
            payload: Span::of(data, self.payload)?,
            payload_len: self.payload_len,
            ip_payload: Span::of(data, self.ip_payload)?,
            tunnel: self.tunnel,
        })
    }
}

impl PacketShape {
    /// The packet again, over the bytes it was decoded from: the packet [`Packet::shape`] was
    /// called on.
    pub fn packet<'a>(&self, data: &'a [u8]) -> Packet<'a> {
        let transport = match self.transport {
            Transport::Tcp(h) => Transport::Tcp(TcpHeader {
                option_bytes: self.options.of_or_empty(data),
                ..h
            }),
            Transport::Udp(h) => Transport::Udp(h),
            Transport::Icmp { kind, code } => Transport::Icmp { kind, code },
            Transport::Icmpv6 { kind, code } => Transport::Icmpv6 { kind, code },
            Transport::Fragment => Transport::Fragment,
            Transport::Other => Transport::Other,
        };
        Packet {
            vlan: self.vlan,
            src_mac: self.src_mac,
            ip: self.ip,
            transport,
            payload: self.payload.of_or_empty(data),
            payload_len: self.payload_len,
            ip_payload: self.ip_payload.of_or_empty(data),
            tunnel: self.tunnel,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::capture::CaptureReader;
    use crate::decode;

    /// Every frame of the project's samples: the shape gives back the packet decoded.
    #[test]
    fn a_shape_gives_back_the_packet() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/samples");
        let mut kinds = std::collections::BTreeSet::new();
        let mut frames = 0;
        for name in [
            "handmade.pcap",
            "macos-catalina-firstboot.pcap",
            "macos-catalina-install.pcap",
        ] {
            let mut r = CaptureReader::open(root.join(name)).expect("opens");
            while let Some(f) = r.next_frame() {
                let Ok(p) = decode(&f) else { continue };
                frames += 1;
                kinds.insert(
                    format!("{:?}", p.transport)
                        .chars()
                        .take(4)
                        .collect::<String>(),
                );
                let shape = p.shape(f.data).expect("inside the frame");
                assert_eq!(shape.packet(f.data), p, "frame {} of {name}", f.number);
                // Another frame's bytes are not where the packet lies.
                assert!(p.payload.is_empty() || p.shape(&f.data[..1]).is_none());
            }
        }
        assert!(frames > 5_000, "{frames}");
        // TCP with options and UDP; the corpus test (tests/corpus.rs) has every other kind.
        assert!(
            kinds.contains("Tcp(") && kinds.contains("Udp("),
            "{kinds:?}"
        );
    }
}
