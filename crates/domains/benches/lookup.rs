//! Cost of classifying one name or address with the built-in rules: a hashed lookup per label,
//! never a scan of all rules. Reported per name (criterion's element throughput).

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use phonehome_domains::{Rules, Vendor};

/// The diary's hosts and a few that match no rule, look-alikes and a long name.
const NAMES: &[&str] = &[
    "time.apple.com",
    "albert.apple.com",
    "ocsp.apple.com",
    "www.apple.com",
    "swscan.apple.com",
    "gspe21-ssl.ls.apple.com",
    "apple-finance.query.yahoo.com",
    "www.yelp.com",
    "www.yahoo.com",
    "www.weather.com",
    "www.tripadvisor.com",
    "www.linkedin.com",
    "www.facebook.com",
    "www.bing.com",
    "www.twitter.com",
    "e6858.dscx.akamaiedge.net",
    "notapple.com",
    "apple.com.evil.example",
    "a.b.c.d.e.f.g.h.unknown-zone.example.co.uk",
    "Bücher.example",
];

fn lookup(c: &mut Criterion) {
    let rules = Rules::builtin();
    let vendor = Vendor::apple();
    let mut g = c.benchmark_group("domains");
    g.throughput(Throughput::Elements(NAMES.len() as u64));
    g.bench_function("classify name (20 names)", |b| {
        b.iter(|| {
            for n in NAMES {
                black_box(rules.classify(black_box(n), None, &vendor));
            }
        })
    });
    let addrs: Vec<IpAddr> = ["17.253.4.125", "8.8.8.8", "192.168.1.1", "203.0.113.9"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    g.throughput(Throughput::Elements(addrs.len() as u64));
    g.bench_function("classify address (4 addresses)", |b| {
        b.iter(|| {
            for a in &addrs {
                black_box(rules.classify_addr(black_box(*a), &vendor));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
