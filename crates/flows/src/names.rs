//! The name table learnt from DNS answers: which name a client looked up before it contacted an
//! address. Time-aware and per client, CNAME chains kept, HTTPS/SVCB address hints included.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;

use phonehome_decode::app::dns::Message;

use crate::dnsfacts::{self, FactText};

/// Answers kept per address by default (the newest win).
pub const DEFAULT_PER_ADDRESS: usize = 32;
/// Most distinct addresses held by default; beyond it the address learnt first is forgotten.
pub const DEFAULT_MAX_ADDRESSES: usize = 1_000_000;

/// One learnt mapping from an address to the name that was queried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// When the answer was seen (capture time, ns).
    pub ts: i64,
    /// The client that received the answer.
    pub client: IpAddr,
    /// The name the client asked for (shared by every address of one response).
    pub qname: Arc<str>,
    /// CNAMEs from the queried name to the address's owner, in order (shared likewise).
    pub chain: Arc<[String]>,
}

/// How a name was found for an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// An answer to the same client before the flow started (attribution rule 2).
    SameClientBefore,
    /// Any answer in the capture (rule 3, weaker).
    Any,
}

/// The table: address -> answers, oldest first. Bounded: at most `max_addresses` addresses
/// (the one learnt first is forgotten to make room, and counted) and `per_address` answers per
/// address (the oldest answer makes room).
#[derive(Debug)]
pub struct NameTable {
    /// Each address's answers, oldest first (a ring: the oldest makes room without moving
    /// the others).
    by_addr: crate::FastMap<IpAddr, VecDeque<Answer>>,
    /// Addresses in the order they were first learnt, for eviction.
    order: VecDeque<IpAddr>,
    max_addresses: usize,
    per_address: usize,
    evicted: u64,
    /// The last (name, chain) learnt for each queried name, shared by the answers that repeat
    /// them: a name looked up again costs no new text (bounded by [`MAX_SHARED_NAMES`]).
    shared: crate::FastMap<Arc<str>, Arc<[String]>>,
}

/// Most queried names whose text [`NameTable`] shares between answers; past it, sharing
/// starts again from none (the answers keep their text).
const MAX_SHARED_NAMES: usize = 1 << 16;

impl Default for NameTable {
    fn default() -> Self {
        NameTable::with_limits(DEFAULT_MAX_ADDRESSES, DEFAULT_PER_ADDRESS)
    }
}

/// The CNAME chain and addresses of one DNS response, derived once for the table and dns.csv.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The queried name.
    pub qname: String,
    /// CNAME targets followed from the queried name, in order.
    pub chain: Vec<String>,
    /// Addresses the queried name resolves to (A, AAAA, and SVCB/HTTPS hints).
    pub addresses: Vec<IpAddr>,
    /// Smallest TTL among the answer records.
    pub ttl_min: Option<u32>,
}

/// Derives the chain and addresses of a response for its first question (`None` without a
/// question).
pub fn resolve(msg: &Message<'_>) -> Option<Resolution> {
    let q = msg.questions.first()?;
    let mut text = FactText::default();
    let (chain, addresses, ttl_min) = dnsfacts::resolve(msg, &q.name, &mut text);
    let q = text.push_name(&q.name);
    Some(Resolution {
        qname: text.text(q).to_string(),
        chain: text.texts(chain).map(str::to_string).collect(),
        addresses: text.addresses(addresses).to_vec(),
        ttl_min,
    })
}

impl NameTable {
    /// An empty table holding at most `max_addresses` addresses and `per_address` answers for
    /// each (both at least 1).
    pub fn with_limits(max_addresses: usize, per_address: usize) -> NameTable {
        NameTable {
            by_addr: crate::FastMap::default(),
            order: VecDeque::new(),
            max_addresses: max_addresses.max(1),
            per_address: per_address.max(1),
            evicted: 0,
            shared: crate::FastMap::default(),
        }
    }

    /// Learns the addresses of one response received by `client` at `ts`.
    pub fn learn(&mut self, res: &Resolution, client: IpAddr, ts: i64) {
        let chain = res.chain.iter().map(String::as_str);
        self.learn_parts(&res.qname, chain, &res.addresses, client, ts);
    }

    /// [`NameTable::learn`], given the parts of the resolution: the queried name, the CNAMEs
    /// followed from it and the addresses.
    pub fn learn_parts<'a>(
        &mut self,
        qname: &str,
        chain: impl Iterator<Item = &'a str> + Clone,
        addresses: &[IpAddr],
        client: IpAddr,
        ts: i64,
    ) {
        if addresses.is_empty() {
            return;
        }
        let (qname, chain) = self.share(qname, chain);
        for addr in addresses {
            if !self.by_addr.contains_key(addr) {
                while self.by_addr.len() >= self.max_addresses {
                    let Some(old) = self.order.pop_front() else {
                        break;
                    };
                    self.by_addr.remove(&old);
                    self.evicted += 1;
                }
                self.order.push_back(*addr);
            }
            let list = self
                .by_addr
                .entry(*addr)
                .or_insert_with(|| VecDeque::with_capacity(1));
            if list.len() >= self.per_address {
                list.pop_front();
            }
            list.push_back(Answer {
                ts,
                client,
                qname: Arc::clone(&qname),
                chain: Arc::clone(&chain),
            });
        }
    }

    /// The shared text of a queried name and its chain: the text learnt last for the name when
    /// the chain is the same, else new text, shared from now on.
    fn share<'a>(
        &mut self,
        qname: &str,
        chain: impl Iterator<Item = &'a str> + Clone,
    ) -> (Arc<str>, Arc<[String]>) {
        if let Some((name, known)) = self.shared.get_key_value(qname) {
            if known.iter().map(String::as_str).eq(chain.clone()) {
                return (Arc::clone(name), Arc::clone(known));
            }
        }
        if self.shared.len() >= MAX_SHARED_NAMES {
            self.shared.clear();
        }
        let name: Arc<str> = Arc::from(qname);
        let chain: Arc<[String]> = chain.map(str::to_string).collect();
        self.shared.insert(Arc::clone(&name), Arc::clone(&chain));
        (name, chain)
    }

    /// Addresses forgotten (with their answers) to make room for newer ones.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The newest answer for `addr` that `client` received at or before `start` (rule 2).
    pub fn before(&self, addr: IpAddr, client: IpAddr, start: i64) -> Option<&Answer> {
        self.by_addr
            .get(&addr)?
            .iter()
            .rev()
            .find(|a| a.client == client && a.ts <= start)
    }

    /// Any answer for `addr` (rule 3): the newest at or before `start` from any client, else
    /// the first one after it.
    pub fn any(&self, addr: IpAddr, start: i64) -> Option<&Answer> {
        let list = self.by_addr.get(&addr)?;
        list.iter()
            .rev()
            .find(|a| a.ts <= start)
            .or_else(|| list.front())
    }

    /// Rule 2, then rule 3.
    pub fn lookup(&self, addr: IpAddr, client: IpAddr, start: i64) -> Option<(&Answer, Lookup)> {
        self.before(addr, client, start)
            .map(|a| (a, Lookup::SameClientBefore))
            .or_else(|| self.any(addr, start).map(|a| (a, Lookup::Any)))
    }

    /// Addresses with at least one answer.
    pub fn len(&self) -> usize {
        self.by_addr.len()
    }

    /// Whether nothing was learnt.
    pub fn is_empty(&self) -> bool {
        self.by_addr.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_forgets_the_address_learnt_first() {
        let c: IpAddr = "10.0.0.2".parse().unwrap();
        let mut t = NameTable::with_limits(2, 2);
        t.learn(&res("a.example", &[], &["192.0.2.1"]), c, 1);
        t.learn(&res("b.example", &[], &["192.0.2.2"]), c, 2);
        // A newer answer for a known address does not evict anything.
        t.learn(&res("a2.example", &[], &["192.0.2.1"]), c, 3);
        assert_eq!(t.evicted(), 0);
        t.learn(&res("c.example", &[], &["192.0.2.3"]), c, 4);
        assert_eq!(t.evicted(), 1);
        assert_eq!(t.len(), 2);
        assert!(t.any("192.0.2.1".parse().unwrap(), 10).is_none());
        assert_eq!(
            &*t.any("192.0.2.3".parse().unwrap(), 10).unwrap().qname,
            "c.example"
        );
        // Per address, the oldest answer makes room.
        t.learn(&res("b2.example", &[], &["192.0.2.2"]), c, 5);
        t.learn(&res("b3.example", &[], &["192.0.2.2"]), c, 6);
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(&*t.any(b, 0).unwrap().qname, "b2.example");
        assert_eq!(&*t.any(b, 10).unwrap().qname, "b3.example");
    }

    /// Answers that repeat a name share its text; a new chain for the name gets text of its
    /// own, and the answers keep what they were learnt with.
    #[test]
    fn repeated_names_share_their_text() {
        let c: IpAddr = "10.0.0.2".parse().unwrap();
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let mut t = NameTable::default();
        t.learn(&res("x.example", &["e.cdn.example"], &["192.0.2.1"]), c, 1);
        t.learn(&res("x.example", &["e.cdn.example"], &["192.0.2.2"]), c, 2);
        let (first, second) = (t.any(a, 10).unwrap(), t.any(b, 10).unwrap());
        assert!(Arc::ptr_eq(&first.qname, &second.qname));
        assert!(Arc::ptr_eq(&first.chain, &second.chain));
        t.learn(&res("x.example", &[], &["192.0.2.2"]), c, 3);
        let third = t.any(b, 10).unwrap();
        assert!(third.chain.is_empty());
        assert_eq!(&*third.qname, "x.example");
        assert_eq!(t.any(b, 2).unwrap().chain.to_vec(), ["e.cdn.example"]);
        assert_eq!(t.any(a, 10).unwrap().chain.to_vec(), ["e.cdn.example"]);
    }

    fn res(q: &str, chain: &[&str], addrs: &[&str]) -> Resolution {
        Resolution {
            qname: q.into(),
            chain: chain.iter().map(|s| s.to_string()).collect(),
            addresses: addrs.iter().map(|a| a.parse().unwrap()).collect(),
            ttl_min: Some(60),
        }
    }

    #[test]
    fn rule_two_is_per_client_and_before_the_flow() {
        let c1: IpAddr = "10.0.0.2".parse().unwrap();
        let c2: IpAddr = "10.0.0.3".parse().unwrap();
        let s: IpAddr = "17.1.1.1".parse().unwrap();
        let mut t = NameTable::default();
        t.learn(
            &res("a.apple.com", &["a.apple.com.akadns.net"], &["17.1.1.1"]),
            c1,
            10,
        );
        t.learn(&res("b.apple.com", &[], &["17.1.1.1"]), c2, 20);
        t.learn(&res("c.apple.com", &[], &["17.1.1.1"]), c1, 30);
        assert_eq!(&*t.before(s, c1, 25).unwrap().qname, "a.apple.com");
        assert_eq!(&*t.before(s, c1, 35).unwrap().qname, "c.apple.com");
        assert!(t.before(s, c1, 5).is_none());
        // Rule 3: from another client, or after the flow started.
        let (a, how) = t.lookup(s, c2, 15).unwrap();
        assert_eq!((&*a.qname, how), ("a.apple.com", Lookup::Any));
        let (a, how) = t.lookup(s, c1, 5).unwrap();
        assert_eq!((&*a.qname, how), ("a.apple.com", Lookup::Any));
        assert_eq!(
            t.before(s, c1, 25).unwrap().chain.to_vec(),
            ["a.apple.com.akadns.net"]
        );
    }
}
