//! Work on a frame that needs no flow state, done ahead by the reading thread while the
//! analysing thread is busy (see [`CaptureReader::for_each_frame_prepared`]): the facts of a
//! DNS, mDNS or LLMNR message over UDP, the largest cost of a DNS-heavy capture. The analysing
//! thread makes the same facts itself for any frame that comes unprepared.
//!
//! [`CaptureReader::for_each_frame_prepared`]: phonehome_decode::CaptureReader::for_each_frame_prepared

use phonehome_decode::app::{self, App};
use phonehome_decode::{decode, Frame, Prepare, Transport};

use crate::dnsfacts::{DnsFacts, FactText};

/// The frames worth preparing: whole (unfragmented) UDP datagrams that parse as DNS, mDNS or
/// LLMNR, exactly as the analysing thread would find them. Their text goes to the batch's
/// [`FactText`].
#[derive(Debug, Clone, Copy, Default)]
pub struct FramePrep;

impl Prepare for FramePrep {
    type Out = DnsFacts;
    type Scratch = FactText;

    fn prepare(&self, frame: &Frame<'_>, text: &mut FactText) -> Option<DnsFacts> {
        let p = decode(frame).ok()?;
        if p.ip.fragment.is_some() || !matches!(p.transport, Transport::Udp(_)) {
            return None;
        }
        let (kind, m) = match app::dissect(&p)? {
            App::Dns(m) => ("dns", m),
            App::Mdns(m) => ("mdns", m),
            App::Llmnr(m) => ("llmnr", m),
            _ => return None,
        };
        Some(DnsFacts::new(&m, kind, true, text))
    }

    fn clear(&self, text: &mut FactText) {
        text.clear();
    }
}
