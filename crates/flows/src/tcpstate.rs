//! TCP connection state in Zeek's vocabulary: per-endpoint states, the `conn_state` summary and
//! the `history` string.
//!
//! States and letters follow Zeek's documented meanings (conn.log): `S0` attempt without reply,
//! `S1` established, `SF` normal close, `REJ` rejected, `S2`/`S3` close attempted by one side
//! only, `RSTO`/`RSTR` reset by originator/responder, `RSTOS0`/`RSTRH` reset before the
//! handshake, `SH`/`SHR` half-open close, `OTH` midstream. History letters: `S` SYN, `H` SYN-ACK,
//! `A` pure ACK, `D` data, `F` FIN, `R` RST, `T` retransmission, `W` zero window; upper case for
//! the client (originator), lower case for the server; each letter once per direction.

use phonehome_decode::tcp::{TcpFlags, TcpHeader};

/// One endpoint's state, as Zeek's TCP analyzer names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointState {
    /// Nothing seen from this endpoint.
    Inactive,
    /// Sent a SYN.
    SynSent,
    /// Sent a SYN-ACK.
    SynAckSent,
    /// Seen midstream (no SYN).
    Partial,
    /// The handshake completed.
    Established,
    /// Sent a FIN.
    Closed,
    /// Sent a RST.
    Reset,
}

/// The TCP state of one connection.
#[derive(Debug, Clone)]
pub struct TcpState {
    client: EndpointState,
    server: EndpointState,
    history: String,
    seen: [u16; 2],
    client_syn_seq: Option<u32>,
    next_seq: [Option<u32>; 2],
    payload: [u64; 2],
}

const LETTERS: &[u8] = b"SHADFRTW";

impl Default for TcpState {
    fn default() -> Self {
        TcpState {
            client: EndpointState::Inactive,
            server: EndpointState::Inactive,
            history: String::new(),
            seen: [0; 2],
            client_syn_seq: None,
            next_seq: [None; 2],
            payload: [0; 2],
        }
    }
}

impl TcpState {
    /// Records one segment; `up` is true for client to server.
    pub fn update(&mut self, h: &TcpHeader<'_>, payload_len: u32, up: bool) {
        let f = h.flags;
        let syn = f.has(TcpFlags::SYN);
        let ack = f.has(TcpFlags::ACK);
        let fin = f.has(TcpFlags::FIN);
        let rst = f.has(TcpFlags::RST);
        let dir = usize::from(!up);
        if syn && !ack && up && self.client_syn_seq.is_none() {
            self.client_syn_seq = Some(h.seq);
        }
        // Letters.
        if syn && !ack {
            self.letter(b'S', up);
        } else if syn {
            self.letter(b'H', up);
        } else if ack && payload_len == 0 && !fin && !rst {
            self.letter(b'A', up);
        }
        if payload_len > 0 {
            self.letter(b'D', up);
            self.payload[dir] += u64::from(payload_len);
        }
        if fin {
            self.letter(b'F', up);
        }
        if rst {
            self.letter(b'R', up);
        }
        if h.window == 0 && !syn && !rst {
            self.letter(b'W', up);
        }
        // Retransmission: data that starts before what this direction already sent.
        let len = payload_len + u32::from(syn) + u32::from(fin);
        if len > 0 {
            match self.next_seq[dir] {
                Some(next) if payload_len > 0 && (h.seq.wrapping_sub(next) as i32) < 0 => {
                    self.letter(b'T', up);
                }
                Some(next) if (h.seq.wrapping_add(len).wrapping_sub(next) as i32) <= 0 => {}
                _ => self.next_seq[dir] = Some(h.seq.wrapping_add(len)),
            }
        }
        // Endpoint states.
        let (me, peer) = if up {
            (&mut self.client, &mut self.server)
        } else {
            (&mut self.server, &mut self.client)
        };
        if rst {
            *me = EndpointState::Reset;
            return;
        }
        if fin {
            *me = EndpointState::Closed;
            return;
        }
        match (*me, syn, ack) {
            (EndpointState::Inactive, true, false) => *me = EndpointState::SynSent,
            (EndpointState::Inactive | EndpointState::Partial, true, true) => {
                *me = EndpointState::SynAckSent;
            }
            (EndpointState::Inactive, false, _) => *me = EndpointState::Partial,
            (EndpointState::SynSent, false, true) if *peer == EndpointState::SynAckSent => {
                *me = EndpointState::Established;
                *peer = EndpointState::Established;
            }
            (EndpointState::SynAckSent, false, true) if *peer == EndpointState::Established => {
                *me = EndpointState::Established;
            }
            _ => {}
        }
    }

    fn letter(&mut self, l: u8, up: bool) {
        let i = LETTERS.iter().position(|&c| c == l).unwrap_or(0);
        let dir = usize::from(!up);
        if self.seen[dir] & (1 << i) == 0 {
            self.seen[dir] |= 1 << i;
            self.history.push(if up {
                l as char
            } else {
                l.to_ascii_lowercase() as char
            });
        }
    }

    /// The history string.
    pub fn history(&self) -> &str {
        &self.history
    }

    /// The client's initial sequence number, when its SYN was seen.
    pub fn client_isn(&self) -> Option<u32> {
        self.client_syn_seq
    }

    /// Whether the connection is over: a reset, or both sides closed.
    pub fn is_closed(&self) -> bool {
        use EndpointState::*;
        matches!(self.client, Reset)
            || matches!(self.server, Reset)
            || (self.client == Closed && self.server == Closed)
    }

    /// Whether a FIN or RST was seen from either side.
    pub fn is_closing(&self) -> bool {
        use EndpointState::*;
        matches!(self.client, Reset | Closed) || matches!(self.server, Reset | Closed)
    }

    /// Zeek's `conn_state` for this connection.
    pub fn conn_state(&self) -> &'static str {
        use EndpointState::*;
        let (o, r) = (self.client, self.server);
        let o_inactive = matches!(o, Inactive | Partial);
        let r_inactive = matches!(r, Inactive | Partial);
        if r == Reset {
            if matches!(o, SynSent | SynAckSent) || (o == Reset && self.payload == [0, 0]) {
                "REJ"
            } else if o_inactive {
                "RSTRH"
            } else {
                "RSTR"
            }
        } else if o == Reset {
            if r_inactive {
                if self.syn_then_reset() {
                    "RSTOS0"
                } else {
                    "OTH"
                }
            } else {
                "RSTO"
            }
        } else if o == Closed && r == Closed {
            "SF"
        } else if o == Closed {
            if r_inactive {
                "SH"
            } else {
                "S2"
            }
        } else if r == Closed {
            if o_inactive {
                "SHR"
            } else {
                "S3"
            }
        } else if o == SynSent && r == Inactive {
            "S0"
        } else if o == Established && r == Established {
            "S1"
        } else {
            "OTH"
        }
    }

    /// History begins with the client's SYN and has its RST with no server handshake, ACK,
    /// FIN or data in between (Zeek's `RSTOS0` test).
    fn syn_then_reset(&self) -> bool {
        let h = self.history.as_bytes();
        h.first() == Some(&b'S')
            && h.iter()
                .take_while(|&&c| c != b'R')
                .all(|c| !b"HAFD".contains(c) || *c == b'S')
            && h.contains(&b'R')
    }
}

/// The conn_state of a UDP (or other connectionless) flow, as Zeek reports it: `SF` both sides
/// sent, `S0` only the client, `SHR` only the server.
pub fn connectionless_state(packets_up: u64, packets_down: u64) -> &'static str {
    match (packets_up > 0, packets_down > 0) {
        (true, true) => "SF",
        (true, false) => "S0",
        (false, true) => "SHR",
        (false, false) => "OTH",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(flags: u16, seq: u32, window: u16) -> TcpHeader<'static> {
        TcpHeader {
            src_port: 1,
            dst_port: 2,
            seq,
            ack: 0,
            flags: TcpFlags(flags),
            window,
            header_len: 20,
            urgent: 0,
            option_bytes: &[],
        }
    }

    const S: u16 = TcpFlags::SYN;
    const A: u16 = TcpFlags::ACK;
    const F: u16 = TcpFlags::FIN;
    const R: u16 = TcpFlags::RST;

    fn run(steps: &[(u16, u32, bool)]) -> TcpState {
        let mut t = TcpState::default();
        let mut seq = [1000u32, 5000u32];
        for &(flags, len, up) in steps {
            let d = usize::from(!up);
            t.update(&seg(flags, seq[d], 1000), len, up);
            seq[d] =
                seq[d].wrapping_add(len + u32::from(flags & S != 0) + u32::from(flags & F != 0));
        }
        t
    }

    #[test]
    fn normal_connection_is_sf() {
        let t = run(&[
            (S, 0, true),
            (S | A, 0, false),
            (A, 0, true),
            (A, 100, true),
            (A, 2000, false),
            (F | A, 0, true),
            (F | A, 0, false),
            (A, 0, true),
        ]);
        assert_eq!(t.conn_state(), "SF");
        assert_eq!(t.history(), "ShADdFf");
        assert!(t.is_closed());
    }

    #[test]
    fn states_of_incomplete_connections() {
        assert_eq!(run(&[(S, 0, true)]).conn_state(), "S0");
        assert_eq!(run(&[(S, 0, true), (R | A, 0, false)]).conn_state(), "REJ");
        assert_eq!(run(&[(S, 0, true), (R, 0, true)]).conn_state(), "RSTOS0");
        assert_eq!(run(&[(S, 0, true), (F, 0, true)]).conn_state(), "SH");
        assert_eq!(
            run(&[(S, 0, true), (S | A, 0, false), (A, 0, true)]).conn_state(),
            "S1"
        );
        assert_eq!(
            run(&[(S, 0, true), (S | A, 0, false), (A, 0, true), (R, 0, true)]).conn_state(),
            "RSTO"
        );
        assert_eq!(
            run(&[(S, 0, true), (S | A, 0, false), (A, 0, true), (R, 0, false)]).conn_state(),
            "RSTR"
        );
        assert_eq!(run(&[(A, 10, true), (A, 10, false)]).conn_state(), "OTH");
    }

    #[test]
    fn retransmission_and_zero_window_letters() {
        let mut t = TcpState::default();
        t.update(&seg(S, 1, 100), 0, true);
        t.update(&seg(A, 2, 100), 10, true);
        t.update(&seg(A, 2, 100), 10, true);
        t.update(&seg(A, 9, 0), 0, false);
        assert_eq!(t.history(), "SDTaw");
    }

    #[test]
    fn connectionless() {
        assert_eq!(connectionless_state(1, 1), "SF");
        assert_eq!(connectionless_state(3, 0), "S0");
        assert_eq!(connectionless_state(0, 2), "SHR");
    }
}
