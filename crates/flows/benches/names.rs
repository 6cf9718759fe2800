//! Cost of the DNS name table: deriving a response's chain and addresses, learning them, and
//! finding the name of a flow's server. Reported per response or per lookup (criterion's
//! element throughput).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use phonehome_decode::app::dns;
use phonehome_flows::dnsfacts::{DnsFacts, FactText};
use phonehome_flows::names::{resolve, NameTable, Resolution};
use phonehome_synth::build::dns_message;

/// Distinct names (and addresses) of the lookups, as in `phonehome-synth --dns-lookups`.
const NAMES: u32 = 2_000;

/// Responses of `n` lookups over the pool of names; every third through a CNAME.
fn responses(n: u32) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let k = (i * 7_919) % NAMES;
            let name = format!("host{k}.svc{}.example.com", k % 50);
            let cname = format!("edge{}.cdn.example.net", k % 97);
            let cnames: &[&str] = if k % 3 == 0 { &[&cname] } else { &[] };
            dns_message(i as u16, true, &name, cnames, address(k))
        })
        .collect()
}

fn address(k: u32) -> [u8; 4] {
    0x6440_0000u32.wrapping_add(k).to_be_bytes()
}

fn names(c: &mut Criterion) {
    let msgs = responses(10_000);
    let client = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 23));
    let resolutions: Vec<Resolution> = msgs
        .iter()
        .map(|m| resolve(&dns::parse(m).expect("parses")).expect("a question"))
        .collect();
    let mut g = c.benchmark_group("names");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("parse and resolve a response (10,000 responses)", |b| {
        b.iter(|| {
            for m in &msgs {
                black_box(resolve(&dns::parse(black_box(m)).expect("parses")));
            }
        })
    });
    g.bench_function(
        "parse a response and make its facts, text reused (10,000)",
        |b| {
            let mut text = FactText::default();
            b.iter(|| {
                for (i, m) in msgs.iter().enumerate() {
                    if i % 64 == 0 {
                        text.clear();
                    }
                    let m = dns::parse(black_box(m)).expect("parses");
                    black_box(DnsFacts::new(&m, "dns", true, &mut text));
                }
            })
        },
    );
    g.bench_function("learn a response (10,000 responses, 2,000 names)", |b| {
        b.iter_batched_ref(
            NameTable::default,
            |t| {
                for (i, r) in resolutions.iter().enumerate() {
                    t.learn(r, client, i as i64);
                }
            },
            BatchSize::SmallInput,
        )
    });
    let mut table = NameTable::default();
    for (i, r) in resolutions.iter().enumerate() {
        table.learn(r, client, i as i64);
    }
    // A long capture's steady state: every address already holds its 32 answers, so each one
    // learnt pushes the oldest out.
    let mut full = NameTable::default();
    for round in 0..40 {
        for (i, r) in resolutions.iter().enumerate() {
            full.learn(r, client, round * 10_000 + i as i64);
        }
    }
    let mut ts = 1_000_000i64;
    g.bench_function(
        "learn a response, each address full (10,000 responses)",
        |b| {
            b.iter(|| {
                for r in &resolutions {
                    ts += 1;
                    full.learn(r, client, ts);
                }
            })
        },
    );
    let other = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 99));
    g.bench_function("look up a server (10,000 lookups, rules 2 and 3)", |b| {
        b.iter(|| {
            for i in 0..10_000u32 {
                let addr = IpAddr::V4(Ipv4Addr::from(address(i % NAMES)));
                // Every other lookup is from a client that asked nothing: rule 3.
                let who = if i % 2 == 0 { client } else { other };
                black_box(table.lookup(addr, who, i64::from(i) * 2));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, names);
criterion_main!(benches);
