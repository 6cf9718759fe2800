//! DNS messages (also mDNS and LLMNR, which share the format): questions and the records of
//! every section, with A, AAAA, CNAME, PTR and HTTPS/SVCB decoded.
//!
//! Names stay borrowed: a [`Name`] is an offset into the message, validated when parsed (labels
//! of at most 63 bytes, at most 255 bytes in all, compression pointers that only point backwards,
//! so no loop can exist), and rendered on demand.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a DNS message could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    /// Shorter than the 12-byte header.
    #[error("shorter than a DNS header")]
    TooShort,
    /// A name is malformed (bad label type, too long, pointer loop or out of range).
    #[error("malformed name: {0}")]
    BadName(&'static str),
}

/// A domain name inside a message.
#[derive(Clone, Copy)]
pub struct Name<'a> {
    msg: &'a [u8],
    start: usize,
}

const MAX_NAME: usize = 255;
const MAX_HOPS: usize = 127;

/// Validates the name at `pos`; returns the offset just after it in the record.
fn check_name(msg: &[u8], pos: usize) -> Result<usize, DnsError> {
    let mut at = pos;
    let mut end = None;
    let mut len = 0usize;
    let mut hops = 0usize;
    // Pointers must go strictly backwards from the lowest offset reached so far.
    let mut floor = pos;
    loop {
        let &b = msg
            .get(at)
            .ok_or(DnsError::BadName("runs past the message"))?;
        match b & 0xc0 {
            0x00 => {
                if b == 0 {
                    return Ok(end.unwrap_or(at + 1));
                }
                let l = usize::from(b);
                if at + 1 + l > msg.len() {
                    return Err(DnsError::BadName("label runs past the message"));
                }
                len += l + 1;
                if len > MAX_NAME {
                    return Err(DnsError::BadName("longer than 255 bytes"));
                }
                at += 1 + l;
            }
            0xc0 => {
                let &lo = msg
                    .get(at + 1)
                    .ok_or(DnsError::BadName("pointer runs past the message"))?;
                let target = (usize::from(b & 0x3f) << 8) | usize::from(lo);
                if end.is_none() {
                    end = Some(at + 2);
                }
                if target >= floor {
                    return Err(DnsError::BadName(
                        "compression pointer does not point backwards",
                    ));
                }
                hops += 1;
                if hops > MAX_HOPS {
                    return Err(DnsError::BadName("too many compression pointers"));
                }
                floor = target;
                at = target;
            }
            _ => return Err(DnsError::BadName("extended or reserved label type")),
        }
    }
}

/// [`CLASS`] of an upper-case letter.
const UPPER: u8 = 1;
/// [`CLASS`] of a byte written escaped (`.`, `\\`, controls, space, bytes outside ASCII).
const ESCAPED: u8 = 2;
/// How each byte of a label is written in the presentation form: as it is (0), lower-cased
/// when asked ([`UPPER`]), or escaped ([`ESCAPED`]).
const CLASS: [u8; 256] = {
    let mut t = [ESCAPED; 256];
    let mut c = 0x21;
    while c < 0x7f {
        t[c] = if c == b'.' as usize || c == b'\\' as usize {
            ESCAPED
        } else if c >= b'A' as usize && c <= b'Z' as usize {
            UPPER
        } else {
            0
        };
        c += 1;
    }
    t
};

impl<'a> Name<'a> {
    /// Where the name's first label (or its root byte) is, leading compression pointers
    /// followed.
    fn first_label(&self) -> usize {
        let mut at = self.start;
        for _ in 0..=MAX_HOPS {
            match (self.msg.get(at), self.msg.get(at + 1)) {
                (Some(&b), Some(&lo)) if b & 0xc0 == 0xc0 => {
                    at = (usize::from(b & 0x3f) << 8) | usize::from(lo);
                }
                _ => break,
            }
        }
        at
    }

    /// Iterates the labels (raw bytes, no dots). Only valid names exist, so this cannot loop.
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            msg: self.msg,
            at: self.start,
            hops: 0,
        }
    }

    /// The name's raw bytes, labels joined by `.`, with no escaping (empty for the root).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        for (i, l) in self.labels().enumerate() {
            if i > 0 {
                v.push(b'.');
            }
            v.extend_from_slice(l);
        }
        v
    }

    /// Whether this is the root name.
    pub fn is_root(&self) -> bool {
        self.labels().next().is_none()
    }

    /// The name in presentation form, lower-cased, without the trailing dot; bytes outside
    /// printable ASCII and the characters `.` and `\` inside a label are escaped as `\DDD`
    /// (as `dig` does), so a hostile name cannot smuggle control characters or fake dots.
    pub fn to_lowercase_string(&self) -> String {
        let mut v = Vec::with_capacity(64);
        self.write(&mut v, true);
        // Only printable ASCII is written: this never takes the lossy path.
        String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Appends the lower-cased presentation form of [`Name::to_lowercase_string`] to `out`
    /// (for comparing names without building a string for each).
    pub fn write_lowercase(&self, out: &mut Vec<u8>) {
        self.write(out, true);
    }

    /// Appends the presentation form to a byte buffer (only ASCII is written); `.` for the root.
    fn write(&self, out: &mut Vec<u8>, lower: bool) {
        let at = out.len();
        self.write_labels(out, lower);
        if out.len() == at {
            out.push(b'.');
        }
    }

    /// The labels joined by dots, escaped; nothing for the root.
    fn write_labels(&self, out: &mut Vec<u8>, lower: bool) {
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                out.push(b'.');
            }
            // Most labels need no escaping and are lower case already: copied whole.
            let class = label
                .iter()
                .fold(0u8, |acc, &c| acc | CLASS[usize::from(c)]);
            if class == 0 || (class == UPPER && !lower) {
                out.extend_from_slice(label);
                continue;
            }
            if class == UPPER {
                out.extend(label.iter().map(u8::to_ascii_lowercase));
                continue;
            }
            out.reserve(label.len());
            for &c in label {
                match c {
                    b'.' | b'\\' | 0..=0x20 | 0x7f.. => {
                        out.extend_from_slice(&[
                            b'\\',
                            b'0' + c / 100,
                            b'0' + c / 10 % 10,
                            b'0' + c % 10,
                        ]);
                    }
                    b'A'..=b'Z' if lower => out.push(c + 32),
                    _ => out.push(c),
                }
            }
        }
    }
}

impl fmt::Display for Name<'_> {
    /// Presentation form with the original case (see [`Name::to_lowercase_string`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut v = Vec::new();
        self.write(&mut v, false);
        f.write_str(&String::from_utf8_lossy(&v))
    }
}

impl fmt::Debug for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

/// Names are equal when their labels are, ignoring ASCII case (as their lower-cased
/// presentation forms are equal).
impl PartialEq for Name<'_> {
    fn eq(&self, other: &Self) -> bool {
        // The same place in the same message, once leading compression pointers are followed
        // (an answer's owner is most often a pointer to the question or to a CNAME target).
        if std::ptr::eq(self.msg, other.msg) && self.first_label() == other.first_label() {
            return true;
        }
        let (mut a, mut b) = (self.labels(), other.labels());
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
                _ => return false,
            }
        }
    }
}

/// Iterator over the labels of a [`Name`].
pub struct Labels<'a> {
    msg: &'a [u8],
    at: usize,
    hops: usize,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            let &b = self.msg.get(self.at)?;
            if b & 0xc0 == 0xc0 {
                let &lo = self.msg.get(self.at + 1)?;
                self.hops += 1;
                if self.hops > MAX_HOPS {
                    return None;
                }
                self.at = (usize::from(b & 0x3f) << 8) | usize::from(lo);
                continue;
            }
            if b == 0 || b & 0xc0 != 0 {
                return None;
            }
            let l = usize::from(b);
            let label = self.msg.get(self.at + 1..self.at + 1 + l)?;
            self.at += 1 + l;
            return Some(label);
        }
    }
}

/// Record types decoded by name.
pub mod rtype {
    /// IPv4 address.
    pub const A: u16 = 1;
    /// Canonical name.
    pub const CNAME: u16 = 5;
    /// Pointer (reverse lookups, DNS-SD).
    pub const PTR: u16 = 12;
    /// IPv6 address.
    pub const AAAA: u16 = 28;
    /// Service binding.
    pub const SVCB: u16 = 64;
    /// HTTPS service binding.
    pub const HTTPS: u16 = 65;
}

/// A question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Question<'a> {
    /// The name asked for.
    pub name: Name<'a>,
    /// Record type.
    pub qtype: u16,
    /// Class (the mDNS unicast-response bit removed).
    pub class: u16,
}

/// Record data.
#[derive(Debug, Clone, PartialEq)]
pub enum RData<'a> {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// A canonical name.
    Cname(Name<'a>),
    /// A pointer.
    Ptr(Name<'a>),
    /// SVCB or HTTPS: priority, target and address hints.
    Svcb {
        /// SvcPriority (0 is alias mode).
        priority: u16,
        /// TargetName (root means the owner name).
        target: Name<'a>,
        /// `ipv4hint` addresses.
        ipv4_hints: Vec<Ipv4Addr>,
        /// `ipv6hint` addresses.
        ipv6_hints: Vec<Ipv6Addr>,
    },
    /// Anything else, or a known type whose data is malformed, as raw bytes.
    Other(&'a [u8]),
}

/// A resource record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    /// Owner name.
    pub name: Name<'a>,
    /// Record type.
    pub rtype: u16,
    /// Class (the mDNS cache-flush bit removed).
    pub class: u16,
    /// Time to live, seconds.
    pub ttl: u32,
    /// Decoded data.
    pub data: RData<'a>,
}

/// The section a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Answer.
    Answer,
    /// Authority.
    Authority,
    /// Additional.
    Additional,
}

/// A DNS message. Sections are read as far as the bytes allow: a message cut short (snapshot
/// length, or a lying count) keeps the records before the cut and sets `truncated`.
#[derive(Debug, Clone, PartialEq)]
pub struct Message<'a> {
    /// Transaction id.
    pub id: u16,
    /// Response bit.
    pub is_response: bool,
    /// Opcode.
    pub opcode: u8,
    /// Authoritative answer.
    pub authoritative: bool,
    /// TC bit: the server truncated the answer.
    pub tc: bool,
    /// Response code (low 4 bits).
    pub rcode: u8,
    /// Questions.
    pub questions: Vec<Question<'a>>,
    /// Records of the answer, authority and additional sections, with their section.
    pub records: Vec<(Section, Record<'a>)>,
    /// The message ended (or a record was malformed) before all counted entries were read.
    pub truncated: bool,
}

impl<'a> Message<'a> {
    /// The answer-section records.
    pub fn answers(&self) -> impl Iterator<Item = &Record<'a>> {
        self.records
            .iter()
            .filter(|(s, _)| *s == Section::Answer)
            .map(|(_, r)| r)
    }
}

/// Most entries read from one message, whatever its counts claim (bounds work on hostile input).
const MAX_ENTRIES: usize = 512;

/// Parses a DNS message carried over UDP (or mDNS / LLMNR).
pub fn parse(msg: &[u8]) -> Result<Message<'_>, DnsError> {
    let h = msg.get(..12).ok_or(DnsError::TooShort)?;
    let be16 = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    let flags = be16(2);
    let mut m = Message {
        id: be16(0),
        is_response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0xf) as u8,
        authoritative: flags & 0x0400 != 0,
        tc: flags & 0x0200 != 0,
        rcode: (flags & 0xf) as u8,
        questions: Vec::new(),
        records: Vec::new(),
        truncated: false,
    };
    let counts = [be16(4), be16(6), be16(8), be16(10)].map(usize::from);
    // Room for what the counts announce, as far as the bytes could hold it (an entry takes at
    // least 5 bytes), so that the vectors are allocated once.
    let room = msg.len() / 5;
    m.questions = Vec::with_capacity(counts[0].min(room).min(MAX_ENTRIES));
    let records = counts[1] + counts[2] + counts[3];
    m.records = Vec::with_capacity(records.min(room).min(MAX_ENTRIES));
    let mut pos = 12;
    let mut budget = MAX_ENTRIES;
    for _ in 0..counts[0] {
        if budget == 0 {
            m.truncated = true;
            return Ok(m);
        }
        budget -= 1;
        let Ok(end) = check_name(msg, pos) else {
            m.truncated = true;
            return finish(m);
        };
        let Some(t) = msg.get(end..end + 4) else {
            m.truncated = true;
            return finish(m);
        };
        m.questions.push(Question {
            name: Name { msg, start: pos },
            qtype: u16::from_be_bytes([t[0], t[1]]),
            class: u16::from_be_bytes([t[2], t[3]]) & 0x7fff,
        });
        pos = end + 4;
    }
    for (section, &count) in [Section::Answer, Section::Authority, Section::Additional]
        .into_iter()
        .zip(&counts[1..])
    {
        for _ in 0..count {
            if budget == 0 {
                m.truncated = true;
                return Ok(m);
            }
            budget -= 1;
            match record(msg, pos) {
                Some((r, next)) => {
                    m.records.push((section, r));
                    pos = next;
                }
                None => {
                    m.truncated = true;
                    return finish(m);
                }
            }
        }
    }
    Ok(m)
}

fn finish(m: Message<'_>) -> Result<Message<'_>, DnsError> {
    if m.questions.is_empty() && m.records.is_empty() {
        // Nothing usable: report the first name's problem rather than an empty message.
        return Err(DnsError::BadName("first entry unreadable"));
    }
    Ok(m)
}

/// Parses a DNS message carried over TCP (a 2-byte length prefix, RFC 1035 4.2.2). Only the
/// first message of the segment is read.
pub fn parse_tcp(payload: &[u8]) -> Result<Message<'_>, DnsError> {
    let b = payload.get(..2).ok_or(DnsError::TooShort)?;
    let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
    let end = (2 + len).min(payload.len());
    parse(&payload[2..end])
}

fn record(msg: &[u8], pos: usize) -> Option<(Record<'_>, usize)> {
    let end = check_name(msg, pos).ok()?;
    let f = msg.get(end..end + 10)?;
    let rtype = u16::from_be_bytes([f[0], f[1]]);
    let class = u16::from_be_bytes([f[2], f[3]]) & 0x7fff;
    let ttl = u32::from_be_bytes([f[4], f[5], f[6], f[7]]);
    let rdlen = usize::from(u16::from_be_bytes([f[8], f[9]]));
    let start = end + 10;
    let rd = msg.get(start..start + rdlen)?;
    let name_in = |at: usize| -> Option<Name<'_>> {
        let e = check_name(msg, at).ok()?;
        (e <= start + rdlen).then_some(Name { msg, start: at })
    };
    let data = match (rtype, rdlen) {
        (rtype::A, 4) => RData::A(Ipv4Addr::new(rd[0], rd[1], rd[2], rd[3])),
        (rtype::AAAA, 16) => {
            let mut a = [0u8; 16];
            a.copy_from_slice(rd);
            RData::Aaaa(Ipv6Addr::from(a))
        }
        (rtype::CNAME, _) => name_in(start).map_or(RData::Other(rd), RData::Cname),
        (rtype::PTR, _) => name_in(start).map_or(RData::Other(rd), RData::Ptr),
        (rtype::SVCB | rtype::HTTPS, 3..) => svcb(msg, start, rd).unwrap_or(RData::Other(rd)),
        _ => RData::Other(rd),
    };
    Some((
        Record {
            name: Name { msg, start: pos },
            rtype,
            class,
            ttl,
            data,
        },
        start + rdlen,
    ))
}

/// SVCB/HTTPS rdata (RFC 9460): priority, target (uncompressed), then key/value parameters.
fn svcb<'a>(msg: &'a [u8], start: usize, rd: &'a [u8]) -> Option<RData<'a>> {
    let priority = u16::from_be_bytes([rd[0], rd[1]]);
    let tend = check_name(msg, start + 2).ok()?;
    if tend > start + rd.len() {
        return None;
    }
    let target = Name {
        msg,
        start: start + 2,
    };
    let mut params = &rd[tend - start..];
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    while params.len() >= 4 {
        let key = u16::from_be_bytes([params[0], params[1]]);
        let len = usize::from(u16::from_be_bytes([params[2], params[3]]));
        let val = params.get(4..4 + len)?;
        match key {
            4 => v4.extend(
                val.chunks_exact(4)
                    .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3])),
            ),
            6 => v6.extend(val.chunks_exact(16).map(|c| {
                let mut a = [0u8; 16];
                a.copy_from_slice(c);
                Ipv6Addr::from(a)
            })),
            _ => {}
        }
        params = &params[4 + len..];
    }
    Some(RData::Svcb {
        priority,
        target,
        ipv4_hints: v4,
        ipv6_hints: v6,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&id.to_be_bytes());
        v.extend_from_slice(&flags.to_be_bytes());
        for c in counts {
            v.extend_from_slice(&c.to_be_bytes());
        }
        v
    }

    fn name(s: &str) -> Vec<u8> {
        let mut v = Vec::new();
        for l in s.split('.').filter(|l| !l.is_empty()) {
            v.push(l.len() as u8);
            v.extend_from_slice(l.as_bytes());
        }
        v.push(0);
        v
    }

    /// A response for albert.apple.com: CNAME chain to an Akamai name, then an A record.
    pub(crate) fn albert_response() -> Vec<u8> {
        let mut m = header(0xbeef, 0x8180, [1, 2, 0, 0]);
        m.extend(name("albert.apple.com"));
        m.extend_from_slice(&[0, 1, 0, 1]);
        // answer 1: albert.apple.com (pointer to 12) CNAME albert.gslb.apple.com.edgekey.net
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60]);
        let target = name("albert.apple.com.edgekey.net");
        m.extend_from_slice(&(target.len() as u16).to_be_bytes());
        let cname_at = m.len();
        m.extend(target);
        // answer 2: (pointer to the CNAME target) A 17.32.194.2
        m.extend_from_slice(&[
            0xc0,
            cname_at as u8,
            0,
            1,
            0,
            1,
            0,
            0,
            1,
            0,
            0,
            4,
            17,
            32,
            194,
            2,
        ]);
        m
    }

    /// Names compare by their labels, ASCII case aside: a pointer to a name equals it, the
    /// same labels written out equal it in any case, and a prefix, a suffix or a label with a
    /// dot in it do not.
    #[test]
    fn names_compare_by_labels_ignoring_case() {
        let mut m = header(1, 0x8180, [6, 0, 0, 0]);
        for n in [
            "www.Example.com",
            "WWW.EXAMPLE.COM",
            "www.example.co",
            "example.com",
        ] {
            m.extend(name(n));
            m.extend_from_slice(&[0, 1, 0, 1]);
        }
        // A pointer to the first name, and one label "www.example" then "com".
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        m.extend_from_slice(b"\x0bwww.example\x03com\x00\x00\x01\x00\x01");
        let msg = parse(&m).expect("parses");
        let q: Vec<&Name<'_>> = msg.questions.iter().map(|q| &q.name).collect();
        assert_eq!(q.len(), 6);
        let same = |a: usize, b: usize| {
            assert_eq!(q[a] == q[b], q[b] == q[a], "{a} {b}: both ways");
            q[a] == q[b]
        };
        assert!(same(0, 1), "case");
        assert!(same(0, 4) && same(4, 1), "pointer");
        assert!(!same(0, 2), "prefix");
        assert!(!same(0, 3), "suffix");
        assert!(!same(0, 5), "a dot inside a label");
        for (a, b) in [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (2, 3)] {
            let same = q[a].to_lowercase_string() == q[b].to_lowercase_string();
            assert_eq!(*q[a] == *q[b], same, "{a} {b}: as their lower-cased text");
        }
    }

    #[test]
    fn question_and_cname_chain() {
        let m = albert_response();
        let msg = parse(&m).unwrap();
        assert!(msg.is_response && !msg.truncated);
        assert_eq!(msg.questions[0].name.to_string(), "albert.apple.com");
        assert_eq!(msg.questions[0].qtype, rtype::A);
        let ans: Vec<_> = msg.answers().collect();
        assert_eq!(ans.len(), 2);
        match &ans[0].data {
            RData::Cname(n) => assert_eq!(n.to_string(), "albert.apple.com.edgekey.net"),
            d => panic!("{d:?}"),
        }
        assert_eq!(ans[1].name.to_string(), "albert.apple.com.edgekey.net");
        assert_eq!(ans[1].data, RData::A(Ipv4Addr::new(17, 32, 194, 2)));
        assert_eq!(ans[1].ttl, 256);
    }

    #[test]
    fn tcp_form() {
        let m = albert_response();
        let mut t = (m.len() as u16).to_be_bytes().to_vec();
        t.extend(&m);
        assert_eq!(parse_tcp(&t).unwrap().answers().count(), 2);
        assert!(parse_tcp(&[0]).is_err());
    }

    #[test]
    fn https_record_hints() {
        let mut m = header(1, 0x8180, [1, 1, 0, 0]);
        m.extend(name("www.apple.com"));
        m.extend_from_slice(&[0, 65, 0, 1]);
        m.extend_from_slice(&[0xc0, 12, 0, 65, 0, 1, 0, 0, 0, 30]);
        let mut rd = vec![0, 1, 0]; // priority 1, target "." (root)
        rd.extend_from_slice(&[0, 1, 0, 3, 2, b'h', b'2']); // alpn
        rd.extend_from_slice(&[0, 4, 0, 8, 23, 1, 2, 3, 23, 1, 2, 4]); // ipv4hint
        rd.extend_from_slice(&[0, 6, 0, 16]);
        rd.extend_from_slice(&[0x26, 0x00, 0x14, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        m.extend_from_slice(&(rd.len() as u16).to_be_bytes());
        m.extend(rd);
        let msg = parse(&m).unwrap();
        let first = msg.answers().next().unwrap().clone();
        match &first.data {
            RData::Svcb {
                priority,
                target,
                ipv4_hints,
                ipv6_hints,
            } => {
                assert_eq!(*priority, 1);
                assert!(target.is_root());
                assert_eq!(
                    ipv4_hints,
                    &[Ipv4Addr::new(23, 1, 2, 3), Ipv4Addr::new(23, 1, 2, 4)]
                );
                assert_eq!(ipv6_hints.len(), 1);
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn compression_loop_rejected() {
        // Question name is a pointer to itself.
        let mut m = header(1, 0x0100, [1, 0, 0, 0]);
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert!(parse(&m).is_err());
        // Two pointers pointing at each other, reached from an answer.
        let mut m = header(1, 0x8180, [0, 1, 0, 0]);
        m.extend_from_slice(&[0xc0, 14, 0xc0, 12]);
        assert!(parse(&m).is_err());
        assert_eq!(
            check_name(&m, 12),
            Err(DnsError::BadName(
                "compression pointer does not point backwards"
            ))
        );
    }

    #[test]
    fn out_of_range_pointer_and_lengths_past_end() {
        let mut m = header(1, 0x0100, [1, 0, 0, 0]);
        m.extend_from_slice(&[0xc0, 200, 0, 1, 0, 1]);
        assert!(parse(&m).is_err());
        let mut m = header(1, 0x0100, [1, 0, 0, 0]);
        m.extend_from_slice(&[30, b'a', b'b']);
        assert!(parse(&m).is_err());
        // Answer whose rdlength runs past the end: the question survives, truncated is set.
        let mut m = header(1, 0x8180, [1, 1, 0, 0]);
        m.extend(name("a.example"));
        m.extend_from_slice(&[
            0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 1, 2,
        ]);
        let msg = parse(&m).unwrap();
        assert!(msg.truncated);
        assert_eq!(msg.questions.len(), 1);
        assert!(msg.records.is_empty());
        assert_eq!(parse(&[0; 11]), Err(DnsError::TooShort));
    }

    #[test]
    fn lying_counts_are_bounded() {
        let mut m = header(1, 0x0100, [0xffff, 0xffff, 0xffff, 0xffff]);
        for _ in 0..2000 {
            m.extend_from_slice(&[0, 0, 1, 0, 1]);
        }
        let msg = parse(&m).unwrap();
        assert!(msg.truncated);
        assert!(msg.questions.len() + msg.records.len() <= MAX_ENTRIES);
    }

    #[test]
    fn zero_length_labels_and_long_names() {
        // The root name.
        let mut m = header(1, 0x0100, [1, 0, 0, 0]);
        m.extend_from_slice(&[0, 0, 2, 0, 1]);
        assert_eq!(parse(&m).unwrap().questions[0].name.to_string(), ".");
        // 4 labels of 63 bytes = 256 bytes of name: too long.
        let mut m = header(1, 0x0100, [1, 0, 0, 0]);
        for _ in 0..4 {
            m.push(63);
            m.extend_from_slice(&[b'a'; 63]);
        }
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        assert!(parse(&m).is_err());
        // 3 x 63 + 61 = 253 characters with dots, 255 bytes in wire form: accepted.
        let mut m = header(1, 0x0100, [1, 0, 0, 0]);
        for _ in 0..3 {
            m.push(63);
            m.extend_from_slice(&[b'a'; 63]);
        }
        m.push(61);
        m.extend_from_slice(&[b'b'; 61]);
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        let msg = parse(&m).unwrap();
        assert_eq!(msg.questions[0].name.to_string().len(), 253);
        // Labels with the extended type bits are refused.
        let mut m = header(1, 0x0100, [1, 0, 0, 0]);
        m.extend_from_slice(&[0x41, 0, 0, 1, 0, 1]);
        assert!(parse(&m).is_err());
    }

    #[test]
    fn hostile_bytes_are_escaped() {
        let mut m = header(1, 0x0100, [1, 0, 0, 0]);
        m.extend_from_slice(&[
            5, b'a', 0x1b, b'[', b'.', b'Z', 3, b'c', b'o', b'm', 0, 0, 1, 0, 1,
        ]);
        let msg = parse(&m).unwrap();
        assert_eq!(msg.questions[0].name.to_string(), "a\\027[\\046Z.com");
        assert_eq!(
            msg.questions[0].name.to_lowercase_string(),
            "a\\027[\\046z.com"
        );
    }

    #[test]
    fn presentation_form_matches_a_byte_by_byte_reference() {
        // The reference: every byte escaped or copied on its own.
        fn reference(labels: &[Vec<u8>], lower: bool) -> String {
            let mut out = String::new();
            for (i, l) in labels.iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                for &c in l {
                    match c {
                        b'.' | b'\\' | 0..=0x20 | 0x7f.. => out.push_str(&format!("\\{c:03}")),
                        b'A'..=b'Z' if lower => out.push(char::from(c + 32)),
                        _ => out.push(char::from(c)),
                    }
                }
            }
            if out.is_empty() {
                out.push('.');
            }
            out
        }
        let mut x: u32 = 12345;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for _ in 0..2000 {
            let labels: Vec<Vec<u8>> = (0..next() % 4)
                .map(|_| {
                    (0..1 + next() % 12)
                        .map(|_| match next() % 4 {
                            0 => (next() % 256) as u8,
                            1 => b'A' + (next() % 26) as u8,
                            _ => b'a' + (next() % 26) as u8,
                        })
                        .collect()
                })
                .collect();
            let mut m = header(1, 0x0100, [1, 0, 0, 0]);
            for l in &labels {
                m.push(l.len() as u8);
                m.extend_from_slice(l);
            }
            m.extend_from_slice(&[0, 0, 1, 0, 1]);
            let msg = parse(&m).unwrap();
            let name = &msg.questions[0].name;
            assert_eq!(name.to_lowercase_string(), reference(&labels, true));
            assert_eq!(name.to_string(), reference(&labels, false));
            let mut buf = b"x ".to_vec();
            name.write_lowercase(&mut buf);
            assert_eq!(buf[2..], *reference(&labels, true).as_bytes());
        }
    }
}
