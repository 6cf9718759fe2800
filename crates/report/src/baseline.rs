//! What is normal for a kind of machine, learnt from many captures, and the deviations of a new
//! capture from it.
//!
//! A baseline keeps, per key (host, domain or owner), the per-capture values themselves (sorted),
//! so that merging two baselines is exact, associative and commutative, and any statistic (min,
//! median, p95, max) can be computed later.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::diff::Rows;
use crate::input::Tables;

/// The file format version.
pub const SCHEMA_VERSION: u32 = 1;

/// What a key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// Host name (or server address).
    Host,
    /// Registrable domain.
    Domain,
    /// Owner organisation.
    Owner,
}

/// One input that went into a baseline.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InputRef {
    /// File name.
    pub name: String,
    /// SHA-256 of the file (of `summary.json` for an output folder).
    pub sha256: String,
}

/// Everything learnt about one key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyStats {
    /// Captures it was seen in.
    pub seen: u64,
    /// Connections per capture where seen (sorted).
    pub connections: Vec<u64>,
    /// IP bytes down per capture where seen (sorted).
    pub bytes_down: Vec<u64>,
    /// IP bytes up per capture where seen (sorted).
    pub bytes_up: Vec<u64>,
    /// First-seen seconds per capture where seen (sorted).
    pub first_seen_s: Vec<f64>,
    /// Server ports (`tcp/443`).
    pub ports: BTreeSet<String>,
    /// Application protocols.
    pub apps: BTreeSet<String>,
    /// Owner, category and role (the first seen, by key order of merging).
    pub owner: String,
    /// Category.
    pub category: String,
    /// Role.
    pub role: String,
}

/// A baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The rules version the labels came from.
    pub rules_version: String,
    /// The key kind.
    pub key: KeyKind,
    /// Captures learnt from.
    pub captures: u64,
    /// The inputs (sorted).
    pub inputs: Vec<InputRef>,
    /// Per key.
    pub keys: BTreeMap<String, KeyStats>,
    /// Client SYN signatures (p0f form) and the captures they were seen in.
    pub syn_signatures: BTreeMap<String, u64>,
    /// JA4 fingerprints and the captures they were seen in.
    pub ja4: BTreeMap<String, u64>,
    /// Per category: its share of bytes per capture, percent (sorted).
    pub category_share: BTreeMap<String, Vec<f64>>,
}

fn num(r: &BTreeMap<String, String>, k: &str) -> u64 {
    r.get(k).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// The key of a host row.
pub fn key_of(r: &BTreeMap<String, String>, kind: KeyKind) -> String {
    let get = |k: &str| r.get(k).filter(|v| !v.is_empty()).cloned();
    let host = get("host").unwrap_or_default();
    match kind {
        KeyKind::Host => host,
        KeyKind::Domain => get("registrable_domain").unwrap_or(host),
        KeyKind::Owner => get("owner").unwrap_or_else(|| "unknown".into()),
    }
}

/// One capture's facts per key, and its client facts.
#[derive(Debug, Clone, Default)]
pub struct CaptureFacts {
    /// Per key: (connections, bytes down, bytes up, first seen, ports, apps, owner, category, role).
    pub keys: BTreeMap<String, KeyStats>,
    /// SYN signatures.
    pub syn: BTreeSet<String>,
    /// JA4s.
    pub ja4: BTreeSet<String>,
    /// Bytes share per category, percent.
    pub category_share: BTreeMap<String, f64>,
}

fn split(s: Option<&String>) -> BTreeSet<String> {
    s.map(|v| {
        v.split(' ')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

impl CaptureFacts {
    /// The facts of one input's tables.
    pub fn new(t: &Tables, kind: KeyKind) -> CaptureFacts {
        let mut f = CaptureFacts::default();
        let mut cat_bytes: BTreeMap<String, u64> = BTreeMap::new();
        for r in &t.hosts {
            let s = f.keys.entry(key_of(r, kind)).or_default();
            let add = |v: &mut Vec<u64>, x: u64| match v.first_mut() {
                Some(y) => *y += x,
                None => v.push(x),
            };
            add(&mut s.connections, num(r, "connections"));
            add(&mut s.bytes_down, num(r, "ip_bytes_down"));
            add(&mut s.bytes_up, num(r, "ip_bytes_up"));
            let fs: f64 = r
                .get("first_seen_s")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0);
            match s.first_seen_s.first_mut() {
                Some(x) => *x = x.min(fs),
                None => s.first_seen_s.push(fs),
            }
            s.ports.extend(split(r.get("ports")));
            s.apps.extend(split(r.get("apps")));
            if s.owner.is_empty() {
                s.owner = r.get("owner").cloned().unwrap_or_default();
                s.category = r.get("category").cloned().unwrap_or_default();
                s.role = r.get("role").cloned().unwrap_or_default();
            }
            s.seen = 1;
            *cat_bytes
                .entry(r.get("category").cloned().unwrap_or_default())
                .or_default() += num(r, "ip_bytes_down") + num(r, "ip_bytes_up");
        }
        let total: u64 = cat_bytes.values().sum();
        f.category_share = cat_bytes
            .into_iter()
            .map(|(k, v)| (k, 100.0 * v as f64 / total.max(1) as f64))
            .collect();
        f.syn = syn_set(&t.fingerprints);
        f.ja4 = t.ja4.clone();
        f
    }
}

fn syn_set(fps: &Rows) -> BTreeSet<String> {
    fps.iter()
        .filter(|r| r.get("kind").is_some_and(|k| k == "syn"))
        .filter_map(|r| r.get("p0f").cloned())
        .collect()
}

impl Baseline {
    /// An empty baseline.
    pub fn new(key: KeyKind, rules_version: &str) -> Baseline {
        Baseline {
            schema_version: SCHEMA_VERSION,
            rules_version: rules_version.to_string(),
            key,
            captures: 0,
            inputs: Vec::new(),
            keys: BTreeMap::new(),
            syn_signatures: BTreeMap::new(),
            ja4: BTreeMap::new(),
            category_share: BTreeMap::new(),
        }
    }

    /// Adds one capture.
    pub fn add(&mut self, input: InputRef, f: CaptureFacts) {
        let mut one = Baseline::new(self.key, &self.rules_version);
        one.captures = 1;
        one.inputs.push(input);
        one.keys = f.keys;
        one.syn_signatures = f.syn.into_iter().map(|s| (s, 1)).collect();
        one.ja4 = f.ja4.into_iter().map(|s| (s, 1)).collect();
        one.category_share = f
            .category_share
            .into_iter()
            .map(|(k, v)| (k, vec![v]))
            .collect();
        self.merge(one);
    }

    /// Merges another baseline into this one (exact; associative and commutative).
    pub fn merge(&mut self, o: Baseline) {
        self.captures += o.captures;
        self.inputs.extend(o.inputs);
        self.inputs.sort();
        for (k, v) in o.keys {
            let s = self.keys.entry(k).or_default();
            s.seen += v.seen;
            for (a, b) in [
                (&mut s.connections, v.connections),
                (&mut s.bytes_down, v.bytes_down),
                (&mut s.bytes_up, v.bytes_up),
            ] {
                a.extend(b);
                a.sort_unstable();
            }
            s.first_seen_s.extend(v.first_seen_s);
            s.first_seen_s.sort_by(f64::total_cmp);
            s.ports.extend(v.ports);
            s.apps.extend(v.apps);
            // Labels: the smallest non-empty, so that the order of merging does not matter.
            for (mine, theirs) in [
                (&mut s.owner, v.owner),
                (&mut s.category, v.category),
                (&mut s.role, v.role),
            ] {
                if mine.is_empty() || (!theirs.is_empty() && theirs < *mine) {
                    *mine = theirs;
                }
            }
        }
        for (k, n) in o.syn_signatures {
            *self.syn_signatures.entry(k).or_default() += n;
        }
        for (k, n) in o.ja4 {
            *self.ja4.entry(k).or_default() += n;
        }
        for (k, v) in o.category_share {
            let e = self.category_share.entry(k).or_default();
            e.extend(v);
            e.sort_by(f64::total_cmp);
        }
    }
}

/// A value at quantile `q` of sorted `v` (nearest rank).
pub fn quantile<T: Copy + Default>(v: &[T], q: f64) -> T {
    if v.is_empty() {
        return T::default();
    }
    let i = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}

/// How serious a deviation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Unusual.
    Medium,
    /// Not seen before.
    High,
}

impl Severity {
    /// `low`, `medium`, `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// One deviation.
#[derive(Debug, Clone, PartialEq)]
pub struct Deviation {
    /// `new-host`, `rare-host`, `new-owner`, `category-share`, `volume`, `missing-host`,
    /// `new-fingerprint`, `new-port`, `new-protocol`.
    pub kind: &'static str,
    /// Severity.
    pub severity: Severity,
    /// The key or fingerprint concerned.
    pub subject: String,
    /// One line of explanation.
    pub reason: String,
}

/// Thresholds of the check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// A key seen in fewer than this share of the captures is rare.
    pub rare: f64,
    /// A volume beyond the baseline's maximum times this is an outlier.
    pub factor: f64,
    /// A key seen in at least this share of the captures is usual; its absence is reported.
    pub usual: f64,
    /// Category share change (percentage points) that counts.
    pub share_points: f64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            rare: 0.10,
            factor: 3.0,
            usual: 0.90,
            share_points: 25.0,
        }
    }
}

/// Checks one capture's facts against a baseline.
pub fn check(b: &Baseline, f: &CaptureFacts, o: &CheckOptions) -> Vec<Deviation> {
    let mut out = Vec::new();
    let n = b.captures.max(1) as f64;
    let owners: BTreeSet<&str> = b.keys.values().map(|s| s.owner.as_str()).collect();
    for (k, s) in &f.keys {
        let Some(known) = b.keys.get(k) else {
            let owner_new =
                !s.owner.is_empty() && s.owner != "unknown" && !owners.contains(s.owner.as_str());
            // A new name is the strong signal. Bare addresses (cloud servers behind rotating
            // IPs) and local peers change between otherwise identical runs: medium.
            let bare = k.parse::<std::net::IpAddr>().is_ok() || s.category == "local";
            out.push(Deviation {
                kind: "new-host",
                severity: if bare {
                    Severity::Medium
                } else {
                    Severity::High
                },
                subject: k.clone(),
                reason: format!(
                    "never seen in {} captures ({}, {})",
                    b.captures, s.owner, s.category
                ),
            });
            if owner_new {
                out.push(Deviation {
                    kind: "new-owner",
                    severity: Severity::High,
                    subject: s.owner.clone(),
                    reason: format!("{} is a new owner (via {k})", s.owner),
                });
            }
            continue;
        };
        let seen_share = known.seen as f64 / n;
        if seen_share < o.rare {
            out.push(Deviation {
                kind: "rare-host",
                severity: Severity::Medium,
                subject: k.clone(),
                reason: format!("seen in {} of {} captures", known.seen, b.captures),
            });
        }
        for (what, mine, theirs) in [
            (
                "bytes down",
                s.bytes_down.first().copied().unwrap_or(0),
                &known.bytes_down,
            ),
            (
                "connections",
                s.connections.first().copied().unwrap_or(0),
                &known.connections,
            ),
        ] {
            let max = theirs.last().copied().unwrap_or(0);
            let p95 = quantile(theirs, 0.95);
            let limit = (max as f64 * o.factor).max(p95 as f64 * o.factor);
            if mine as f64 > limit && mine > 0 {
                out.push(Deviation {
                    kind: "volume",
                    severity: Severity::Medium,
                    subject: k.clone(),
                    reason: format!(
                        "{what} {mine} is beyond {:.0}x the baseline's max {max}",
                        o.factor
                    ),
                });
            }
        }
        let new_ports: Vec<&String> = s.ports.difference(&known.ports).collect();
        if !new_ports.is_empty() {
            out.push(Deviation {
                kind: "new-port",
                severity: Severity::Low,
                subject: k.clone(),
                reason: format!("new ports {new_ports:?}"),
            });
        }
        let new_apps: Vec<&String> = s.apps.difference(&known.apps).collect();
        if !new_apps.is_empty() {
            out.push(Deviation {
                kind: "new-protocol",
                severity: Severity::Low,
                subject: k.clone(),
                reason: format!("new protocols {new_apps:?}"),
            });
        }
    }
    for (k, s) in &b.keys {
        if s.seen as f64 / n >= o.usual && !f.keys.contains_key(k) && s.category != "local" {
            out.push(Deviation {
                kind: "missing-host",
                severity: Severity::Low,
                subject: k.clone(),
                reason: format!("seen in {} of {} captures, absent here", s.seen, b.captures),
            });
        }
    }
    for (set, known, what) in [(&f.syn, &b.syn_signatures, "SYN"), (&f.ja4, &b.ja4, "JA4")] {
        for x in set.iter().filter(|x| !known.contains_key(*x)) {
            out.push(Deviation {
                kind: "new-fingerprint",
                severity: Severity::Medium,
                subject: x.clone(),
                reason: format!("{what} fingerprint never seen: the client's stack changed"),
            });
        }
    }
    for (cat, share) in &f.category_share {
        // Outside the range the baseline saw by more than `share_points`.
        let seen = b.category_share.get(cat).map(Vec::as_slice).unwrap_or(&[]);
        let (lo, hi) = (
            seen.first().copied().unwrap_or(0.0),
            seen.last().copied().unwrap_or(0.0),
        );
        if *share < lo - o.share_points || *share > hi + o.share_points {
            out.push(Deviation {
                kind: "category-share",
                severity: Severity::Low,
                subject: cat.clone(),
                reason: format!("{share:.0}% of bytes, usually {lo:.0}% to {hi:.0}%"),
            });
        }
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| (a.kind, &a.subject).cmp(&(b.kind, &b.subject)))
    });
    out
}
