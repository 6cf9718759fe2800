//! What one DNS, mDNS or LLMNR message says: the part of its handling that needs no flow state.
//! The facts are made either by the analysing thread, or ahead of it by the reading thread (see
//! [`crate::prepare`]); [`crate::dissect`] applies them to a flow the same way. Their text lives
//! in a [`FactText`] shared by many messages, so that making them allocates nothing once the
//! buffers have grown.

use std::net::IpAddr;

use phonehome_decode::app::dns::{self, Name};
use phonehome_decode::text::IpText;

/// Most answers written per DNS row (a hostile message may carry 512).
pub(crate) const MAX_ANSWERS_PER_ROW: usize = 64;
/// Longest CNAME chain followed.
const MAX_CHAIN: usize = 16;

/// A run of entries in one of [`FactText`]'s lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Run {
    start: u32,
    end: u32,
}

impl Run {
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// The text and addresses of the facts of many messages, in a few growing buffers.
#[derive(Debug, Default)]
pub struct FactText {
    /// Names and addresses as text, one after another (printable ASCII only).
    bytes: Vec<u8>,
    /// Where each text lies in `bytes`.
    texts: Vec<Run>,
    /// Addresses of resolutions.
    addresses: Vec<IpAddr>,
    /// Address records of mDNS/LLMNR responses: (text of the owner name, address).
    locals: Vec<(u32, IpAddr)>,
    /// Facts kept here by [`FactText::keep`].
    facts: Vec<DnsFacts>,
}

impl FactText {
    /// Forgets everything, keeping the buffers.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.texts.clear();
        self.addresses.clear();
        self.locals.clear();
        self.facts.clear();
    }

    /// Keeps `facts` with their text; returns their number for [`FactText::facts`].
    pub fn keep(&mut self, facts: DnsFacts) -> u32 {
        self.facts.push(facts);
        self.facts.len() as u32 - 1
    }

    /// Facts number `i` kept by [`FactText::keep`].
    pub fn facts(&self, i: u32) -> Option<DnsFacts> {
        self.facts.get(i as usize).copied()
    }

    /// Text number `i`.
    pub fn text(&self, i: u32) -> &str {
        let run = self.texts.get(i as usize).copied().unwrap_or_default();
        // Only ASCII is ever written.
        std::str::from_utf8(self.bytes.get(run.range()).unwrap_or_default()).unwrap_or_default()
    }

    /// The texts of a run.
    pub fn texts(&self, run: Run) -> impl ExactSizeIterator<Item = &str> + Clone {
        run.range().map(|i| self.text(i as u32))
    }

    /// The addresses of a run.
    pub fn addresses(&self, run: Run) -> &[IpAddr] {
        self.addresses.get(run.range()).unwrap_or_default()
    }

    /// The address records of a run: (owner name, address).
    pub fn locals(&self, run: Run) -> impl Iterator<Item = (&str, IpAddr)> {
        self.locals
            .get(run.range())
            .unwrap_or_default()
            .iter()
            .map(|(t, a)| (self.text(*t), *a))
    }

    fn next_text(&self) -> u32 {
        self.texts.len() as u32
    }

    /// Closes the text written since `from` (a byte offset) as the next text.
    fn close(&mut self, from: usize) -> u32 {
        self.texts.push(Run {
            start: from as u32,
            end: self.bytes.len() as u32,
        });
        self.next_text() - 1
    }

    pub(crate) fn push_name(&mut self, n: &Name<'_>) -> u32 {
        let from = self.bytes.len();
        n.write_lowercase(&mut self.bytes);
        self.close(from)
    }

    fn push_ip(&mut self, a: IpAddr) -> u32 {
        let from = self.bytes.len();
        self.bytes
            .extend_from_slice(IpText::new(a).as_str().as_bytes());
        self.close(from)
    }
}

/// One message's facts; their text is in a [`FactText`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsFacts {
    /// `dns`, `mdns` or `llmnr`.
    pub kind: &'static str,
    /// Transaction id.
    pub id: u16,
    /// Response bit.
    pub is_response: bool,
    /// Response code.
    pub rcode: u8,
    /// The first question's type (0 without a question).
    pub qtype: u16,
    /// The first question's name, lower-cased (its text number).
    pub question: Option<u32>,
    /// For an mDNS/LLMNR message without a question: its first answer's name, which stands for
    /// the flow.
    pub announced: Option<u32>,
    /// A response with a question resolves it: the CNAMEs followed from the question, in
    /// order (texts), the addresses it resolves to, and the smallest TTL of the answers.
    pub resolution: Option<(Run, Run, Option<u32>)>,
    /// An mDNS/LLMNR response's address records.
    pub local_records: Run,
    /// The answers as written in a row (texts); `None` when they were not wanted.
    pub answers: Option<Run>,
}

impl DnsFacts {
    /// The facts of `m`, a message of protocol `kind` (`dns`, `mdns` or `llmnr`), their text
    /// added to `text`; the answers' text only `with_answers`.
    pub fn new(
        m: &dns::Message<'_>,
        kind: &'static str,
        with_answers: bool,
        text: &mut FactText,
    ) -> DnsFacts {
        let question = m.questions.first().map(|q| text.push_name(&q.name));
        let announced = match question {
            None if kind != "dns" => m.answers().next().map(|r| text.push_name(&r.name)),
            _ => None,
        };
        let resolution = match m.questions.first() {
            Some(q) if m.is_response => Some(resolve(m, &q.name, text)),
            _ => None,
        };
        let local_records = if kind != "dns" && m.is_response {
            let start = text.locals.len() as u32;
            for (_, r) in &m.records {
                let address = match &r.data {
                    dns::RData::A(a) => IpAddr::V4(*a),
                    dns::RData::Aaaa(a) => IpAddr::V6(*a),
                    _ => continue,
                };
                let t = text.push_name(&r.name);
                text.locals.push((t, address));
            }
            Run {
                start,
                end: text.locals.len() as u32,
            }
        } else {
            Run::default()
        };
        let answers = with_answers.then(|| {
            let start = text.next_text();
            for r in m.answers().take(MAX_ANSWERS_PER_ROW) {
                match &r.data {
                    dns::RData::A(a) => text.push_ip(IpAddr::V4(*a)),
                    dns::RData::Aaaa(a) => text.push_ip(IpAddr::V6(*a)),
                    dns::RData::Cname(n) | dns::RData::Ptr(n) => text.push_name(n),
                    dns::RData::Svcb { target, .. } => text.push_name(target),
                    dns::RData::Other(_) => continue,
                };
            }
            Run {
                start,
                end: text.next_text(),
            }
        });
        DnsFacts {
            kind,
            id: m.id,
            is_response: m.is_response,
            rcode: m.rcode,
            qtype: m.questions.first().map_or(0, |q| q.qtype),
            question,
            announced,
            resolution,
            local_records,
            answers,
        }
    }
}

/// Follows the CNAMEs of a response from its question (`question`, its text `q`) and gathers
/// the addresses of the names on that chain (A, AAAA, and SVCB/HTTPS hints): (chain,
/// addresses, smallest TTL). Names are compared as names (labels, case aside), which is
/// comparing their lower-cased text.
pub(crate) fn resolve(
    m: &dns::Message<'_>,
    question: &Name<'_>,
    text: &mut FactText,
) -> (Run, Run, Option<u32>) {
    let ttl_min = m.answers().map(|a| a.ttl).min();
    let start = text.next_text();
    let mut chain: [Option<&Name<'_>>; MAX_CHAIN] = [None; MAX_CHAIN];
    let mut len = 0;
    let mut owner = question;
    while len < MAX_CHAIN {
        let target = m.answers().find_map(|a| match &a.data {
            dns::RData::Cname(t) if a.name == *owner => Some(t),
            _ => None,
        });
        let Some(target) = target else { break };
        if target == question || chain[..len].iter().flatten().any(|c| *c == target) {
            break;
        }
        chain[len] = Some(target);
        len += 1;
        text.push_name(target);
        owner = target;
    }
    let chain_run = Run {
        start,
        end: text.next_text(),
    };
    let on_chain = |o: &Name<'_>| o == question || chain[..len].iter().flatten().any(|c| *c == o);
    let first = text.addresses.len();
    for a in m.answers() {
        match &a.data {
            dns::RData::A(v4) if on_chain(&a.name) => text.addresses.push(IpAddr::V4(*v4)),
            dns::RData::Aaaa(v6) if on_chain(&a.name) => text.addresses.push(IpAddr::V6(*v6)),
            dns::RData::Svcb {
                ipv4_hints,
                ipv6_hints,
                ..
            } if on_chain(&a.name) => {
                text.addresses
                    .extend(ipv4_hints.iter().map(|a| IpAddr::V4(*a)));
                text.addresses
                    .extend(ipv6_hints.iter().map(|a| IpAddr::V6(*a)));
            }
            _ => {}
        }
    }
    // Sorted and without repeats, within this response's run.
    text.addresses[first..].sort_unstable();
    let mut kept = first;
    for i in first..text.addresses.len() {
        if kept == first || text.addresses[i] != text.addresses[kept - 1] {
            text.addresses[kept] = text.addresses[i];
            kept += 1;
        }
    }
    text.addresses.truncate(kept);
    let addresses = Run {
        start: first as u32,
        end: kept as u32,
    };
    (chain_run, addresses, ttl_min)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response for `www.Example.com` through a CNAME to two addresses (one twice).
    fn response() -> Vec<u8> {
        let mut v = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 4, 0, 0, 0, 0];
        v.extend_from_slice(b"\x03www\x07Example\x03com\x00\x00\x01\x00\x01");
        // www.example.com CNAME edge.example.net
        v.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 18]);
        v.extend_from_slice(b"\x04edge\x07example\x03net\x00");
        for (ttl, last) in [(90u8, 2u8), (30, 1), (40, 2)] {
            // edge.example.net A 192.0.2.x (owner by pointer to the CNAME's target at 45)
            v.extend_from_slice(&[0xc0, 45, 0, 1, 0, 1, 0, 0, 0, ttl, 0, 4, 192, 0, 2, last]);
        }
        v
    }

    #[test]
    fn a_response_resolves_its_question_through_the_chain() {
        let bytes = response();
        let m = dns::parse(&bytes).expect("parses");
        let mut text = FactText::default();
        let f = DnsFacts::new(&m, "dns", true, &mut text);
        assert_eq!((f.id, f.is_response, f.qtype), (0x1234, true, 1));
        assert_eq!(f.question.map(|q| text.text(q)), Some("www.example.com"));
        let (chain, addresses, ttl) = f.resolution.expect("resolution");
        assert_eq!(text.texts(chain).collect::<Vec<_>>(), ["edge.example.net"]);
        let addresses: Vec<String> = text
            .addresses(addresses)
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(addresses, ["192.0.2.1", "192.0.2.2"]);
        assert_eq!(ttl, Some(30));
        let answers: Vec<_> = text.texts(f.answers.expect("answers")).collect();
        assert_eq!(
            answers,
            ["edge.example.net", "192.0.2.2", "192.0.2.1", "192.0.2.2"]
        );
        assert_eq!(text.locals(f.local_records).count(), 0);
        assert!(DnsFacts::new(&m, "dns", false, &mut text).answers.is_none());
    }

    #[test]
    fn facts_of_many_messages_share_one_text() {
        let bytes = response();
        let m = dns::parse(&bytes).expect("parses");
        let mut text = FactText::default();
        let first = DnsFacts::new(&m, "mdns", true, &mut text);
        let second = DnsFacts::new(&m, "mdns", true, &mut text);
        for f in [first, second] {
            let locals: Vec<_> = text
                .locals(f.local_records)
                .map(|(n, a)| format!("{n} {a}"))
                .collect();
            assert_eq!(
                locals,
                [
                    "edge.example.net 192.0.2.2",
                    "edge.example.net 192.0.2.1",
                    "edge.example.net 192.0.2.2"
                ]
            );
            assert_eq!(f.question.map(|q| text.text(q)), Some("www.example.com"));
        }
        assert_ne!(first.question, second.question);
        text.clear();
        assert_eq!(text.text(0), "");
    }

    /// A CNAME loop stops where a name comes back.
    #[test]
    fn a_cname_loop_ends_the_chain() {
        let mut v = vec![0, 1, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
        v.extend_from_slice(b"\x01a\x00\x00\x01\x00\x01");
        // a CNAME b ; b CNAME a
        v.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 3]);
        v.extend_from_slice(b"\x01b\x00");
        v.extend_from_slice(&[0xc0, 31, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12]);
        let m = dns::parse(&v).expect("parses");
        let mut text = FactText::default();
        let f = DnsFacts::new(&m, "dns", true, &mut text);
        let (chain, addresses, _) = f.resolution.expect("resolution");
        assert_eq!(text.texts(chain).collect::<Vec<_>>(), ["b"]);
        assert!(text.addresses(addresses).is_empty());
    }
}
