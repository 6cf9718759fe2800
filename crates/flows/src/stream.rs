//! Reassembly of a TCP client's first bytes, so that a ClientHello or HTTP request split over
//! several segments (post-quantum key shares make ClientHellos span two) is still dissected.
//!
//! Bounded: at most `cap` bytes in sequence order ([`MAX_STREAM`] unless set), plus out-of-order
//! segments within that window and no more than `cap` bytes of them; retransmissions and
//! overlaps are trimmed against what is already held.

use std::collections::BTreeMap;

/// Most client bytes reassembled per flow by default.
pub const MAX_STREAM: usize = 16 * 1024;
/// Most out-of-order segments held per flow.
const MAX_PENDING: usize = 32;

/// The client's first bytes, in sequence order.
#[derive(Debug, Clone)]
pub struct ClientStream {
    base: Option<u32>,
    data: Vec<u8>,
    pending: BTreeMap<u32, Vec<u8>>,
    pending_bytes: usize,
    gap: bool,
    cap: usize,
}

impl Default for ClientStream {
    fn default() -> Self {
        ClientStream::with_cap(MAX_STREAM)
    }
}

impl ClientStream {
    /// An empty stream holding at most `cap` in-order bytes (at least 1).
    pub fn with_cap(cap: usize) -> ClientStream {
        ClientStream {
            base: None,
            data: Vec::new(),
            pending: BTreeMap::new(),
            pending_bytes: 0,
            gap: false,
            cap: cap.max(1),
        }
    }

    /// Changes the cap (before any byte is held).
    pub fn set_cap(&mut self, cap: usize) {
        self.cap = cap.max(1);
    }

    /// Bytes held in memory: in order plus out of order.
    pub fn held(&self) -> usize {
        self.data.len() + self.pending_bytes
    }

    /// Sets the sequence number of the first data byte (the client's ISN + 1), when the SYN is
    /// seen before any data.
    pub fn set_base(&mut self, seq: u32) {
        if self.base.is_none() {
            self.base = Some(seq);
        }
    }

    /// Adds a segment's captured payload at sequence number `seq`; returns whether the
    /// in-order bytes grew. `complete` is false when the capture cut the payload short (the
    /// bytes after it are then a gap that cannot be filled).
    pub fn add(&mut self, seq: u32, payload: &[u8], complete: bool) -> bool {
        if payload.is_empty() || self.is_full() {
            return false;
        }
        let base = *self.base.get_or_insert(seq);
        let off = seq.wrapping_sub(base);
        // Data before the base (a retransmission of something we never held): ignore.
        if off > u32::MAX / 2 {
            return false;
        }
        let off = off as usize;
        if off >= self.cap {
            return false;
        }
        // A longer segment from the start whose bytes differ from what is held: the sender
        // rewrote its first bytes (seen in the wild: two zero bytes, then the real ClientHello
        // at the same sequence number). The newer, longer copy wins.
        if off == 0 && payload.len() > self.data.len() && !payload.starts_with(&self.data) {
            self.data.clear();
            self.pending.clear();
            self.pending_bytes = 0;
            self.gap = false;
        }
        let grew = self.place(off, payload);
        if !complete && off + payload.len() >= self.data.len() {
            self.gap = true;
        }
        grew
    }

    fn place(&mut self, off: usize, payload: &[u8]) -> bool {
        let have = self.data.len();
        if off > have {
            if self.pending.len() < MAX_PENDING && !self.gap {
                let room = self.cap - off;
                let keep = &payload[..payload.len().min(room)];
                let e = self.pending.entry(off as u32).or_default();
                if keep.len() > e.len() && self.pending_bytes - e.len() + keep.len() <= self.cap {
                    self.pending_bytes = self.pending_bytes - e.len() + keep.len();
                    *e = keep.to_vec();
                }
            }
            return false;
        }
        if self.gap || off + payload.len() <= have {
            return false;
        }
        let fresh = &payload[have - off..];
        let room = self.cap - have;
        self.data.extend_from_slice(&fresh[..fresh.len().min(room)]);
        // Pull in out-of-order segments that now connect.
        while let Some((&at, _)) = self.pending.first_key_value() {
            let at = at as usize;
            if at > self.data.len() {
                break;
            }
            let (_, seg) = self.pending.pop_first().unwrap_or_default();
            self.pending_bytes -= seg.len();
            let have = self.data.len();
            if at + seg.len() > have {
                let fresh = &seg[have - at..];
                let room = self.cap.saturating_sub(have);
                self.data.extend_from_slice(&fresh[..fresh.len().min(room)]);
            }
        }
        true
    }

    /// The sequence number just after the in-order bytes, once a base is known.
    pub fn next_seq(&self) -> Option<u32> {
        self.base.map(|b| b.wrapping_add(self.data.len() as u32))
    }

    /// The bytes in sequence order from the start.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Whether no more bytes can be added (the window is full).
    pub fn is_full(&self) -> bool {
        self.data.len() >= self.cap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_out_of_order_and_retransmitted() {
        let mut s = ClientStream::default();
        s.set_base(101);
        assert!(s.add(101, b"hello ", true));
        // Out of order: "world" before " there ".
        assert!(!s.add(113, b"world", true));
        assert!(s.add(107, b"there ", true));
        assert_eq!(s.bytes(), b"hello there world");
        // Retransmission and overlap.
        assert!(!s.add(101, b"hello ", true));
        assert!(s.add(113, b"world!!", true));
        assert_eq!(s.bytes(), b"hello there world!!");
        // Before the base: ignored.
        assert!(!s.add(50, b"zzz", true));
    }

    #[test]
    fn base_from_first_data_and_bounded() {
        let mut s = ClientStream::default();
        let big = vec![7u8; 10_000];
        assert!(s.add(u32::MAX - 5, &big, true));
        // Wraps around the sequence space.
        assert!(s.add((u32::MAX - 5).wrapping_add(10_000), &big, true));
        assert_eq!(s.bytes().len(), MAX_STREAM);
        assert!(s.is_full());
        assert!(!s.add(0, b"x", true));
    }

    #[test]
    fn a_longer_rewrite_of_the_first_bytes_wins() {
        let mut s = ClientStream::default();
        s.set_base(1);
        assert!(s.add(1, &[0, 0], true));
        assert!(s.add(1, b"\x16\x03\x01hello", true));
        assert_eq!(s.bytes(), b"\x16\x03\x01hello");
        // A plain retransmission of a prefix changes nothing.
        assert!(!s.add(1, b"\x16\x03", true));
        assert_eq!(s.bytes(), b"\x16\x03\x01hello");
    }

    #[test]
    fn snapped_segment_is_a_gap() {
        let mut s = ClientStream::default();
        s.set_base(1);
        assert!(s.add(1, b"abc", false));
        assert!(!s.add(10, b"later", true));
        assert_eq!(s.bytes(), b"abc");
    }
}
