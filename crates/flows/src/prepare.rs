//! Work on a frame that needs no flow state, done ahead by the reading thread while the
//! analysing thread is busy (see [`CaptureReader::for_each_frame_prepared`]): decoding the
//! packet, and the facts of a DNS, mDNS or LLMNR message over UDP, the largest cost of a
//! DNS-heavy capture. The analysing thread does the same itself for any frame that comes
//! unprepared.
//!
//! [`CaptureReader::for_each_frame_prepared`]: phonehome_decode::CaptureReader::for_each_frame_prepared

use phonehome_decode::app::{self, App};
use phonehome_decode::{decode, Frame, PacketShape, Prepare, Transport};

use crate::dnsfacts::{DnsFacts, FactText};

/// What the reading thread made for one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prepared {
    /// The packet, decoded.
    pub shape: PacketShape,
    /// The facts of the DNS, mDNS or LLMNR message it carries, if it is a whole UDP datagram
    /// that parses as one, exactly as the analysing thread would find it: their number in the
    /// batch's [`FactText`] (kept there so that a frame's entry stays small).
    pub dns: Option<u32>,
}

/// Prepares every frame that decodes; the facts' text goes to the batch's [`FactText`].
#[derive(Debug, Clone, Copy, Default)]
pub struct FramePrep;

impl Prepare for FramePrep {
    type Out = Prepared;
    type Scratch = FactText;

    fn prepare(&self, frame: &Frame<'_>, text: &mut FactText) -> Option<Prepared> {
        let p = decode(frame).ok()?;
        let shape = p.shape(frame.data)?;
        let dns = if p.ip.fragment.is_none() && matches!(p.transport, Transport::Udp(_)) {
            let facts = match app::dissect(&p) {
                Some(App::Dns(m)) => Some(DnsFacts::new(&m, "dns", true, text)),
                Some(App::Mdns(m)) => Some(DnsFacts::new(&m, "mdns", true, text)),
                Some(App::Llmnr(m)) => Some(DnsFacts::new(&m, "llmnr", true, text)),
                _ => None,
            };
            facts.map(|f| text.keep(f))
        } else {
            None
        };
        Some(Prepared { shape, dns })
    }

    fn clear(&self, text: &mut FactText) {
        text.clear();
    }
}
