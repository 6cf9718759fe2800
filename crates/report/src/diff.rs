//! Differences between two sides (each one or more captures): hosts — or domains, owners,
//! categories, roles — added, removed and changed, with counts on both sides and deltas; and
//! what describes the client: SYN signatures, TLS fingerprints, local names, protocol mix.
//!
//! A side is built from the extractor's tables as text rows (header -> cell), whether they come
//! from a capture just extracted or from an output folder read back, so both give one answer.

use std::collections::{BTreeMap, BTreeSet};

/// Rows of one table: column name -> cell text.
pub type Rows = Vec<BTreeMap<String, String>>;

/// The level at which hosts are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Host name (or server address).
    Host,
    /// Registrable domain (the host when it has none).
    Domain,
    /// Owner organisation.
    Owner,
    /// Category.
    Category,
    /// Role.
    Role,
}

/// Counts of one key on one side.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Connections.
    pub connections: u64,
    /// IP bytes server to client.
    pub bytes_down: u64,
    /// IP bytes client to server.
    pub bytes_up: u64,
    /// Packets both ways.
    pub packets: u64,
    /// First seen, seconds after the side's capture started (the earliest over its captures).
    pub first_seen_s: Option<f64>,
    /// Category of the key's hosts (the first seen).
    pub category: String,
    /// Owner of the key's hosts (the first seen).
    pub owner: String,
}

/// One side of a diff.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Side {
    /// Keys and their counts.
    pub keys: BTreeMap<String, Counts>,
    /// Distinct SYN signatures (`kind p0f`) of the client side.
    pub syn_signatures: BTreeSet<String>,
    /// Distinct JA4 fingerprints.
    pub ja4: BTreeSet<String>,
    /// Local names announced (`name source`).
    pub local_names: BTreeSet<String>,
    /// Flows per application protocol.
    pub apps: BTreeMap<String, u64>,
    /// Per category: connections and bytes (down + up).
    pub categories: BTreeMap<String, (u64, u64)>,
}

fn num(r: &BTreeMap<String, String>, k: &str) -> u64 {
    r.get(k).and_then(|v| v.parse().ok()).unwrap_or(0)
}

impl Side {
    /// Adds one capture's tables: hosts, flows, fingerprints, tls rows and local names.
    pub fn add(
        &mut self,
        level: Level,
        hosts: &Rows,
        apps: &BTreeMap<String, u64>,
        fingerprints: &Rows,
        ja4: &BTreeSet<String>,
        local_names: &[String],
    ) {
        for h in hosts {
            let host = h.get("host").cloned().unwrap_or_default();
            let pick = |k: &str| h.get(k).filter(|v| !v.is_empty()).cloned();
            let key = match level {
                Level::Host => host.clone(),
                Level::Domain => pick("registrable_domain").unwrap_or(host.clone()),
                Level::Owner => pick("owner").unwrap_or_else(|| "unknown".into()),
                Level::Category => pick("category").unwrap_or_else(|| "unknown".into()),
                Level::Role => pick("role").unwrap_or_else(|| "unknown".into()),
            };
            let c = self.keys.entry(key).or_default();
            if c.category.is_empty() {
                c.category = pick("category").unwrap_or_default();
                c.owner = pick("owner").unwrap_or_default();
            }
            c.connections += num(h, "connections");
            c.bytes_down += num(h, "ip_bytes_down");
            c.bytes_up += num(h, "ip_bytes_up");
            c.packets += num(h, "packets_up") + num(h, "packets_down");
            if let Some(f) = h.get("first_seen_s").and_then(|v| v.parse::<f64>().ok()) {
                c.first_seen_s = Some(c.first_seen_s.map_or(f, |x: f64| x.min(f)));
            }
            let cat = self
                .categories
                .entry(pick("category").unwrap_or_else(|| "unknown".into()))
                .or_default();
            cat.0 += num(h, "connections");
            cat.1 += num(h, "ip_bytes_down") + num(h, "ip_bytes_up");
        }
        for (app, n) in apps {
            let app = if app.is_empty() { "other" } else { app };
            *self.apps.entry(app.to_string()).or_default() += n;
        }
        for f in fingerprints
            .iter()
            .filter(|f| f.get("kind").is_some_and(|k| k == "syn"))
        {
            if let Some(p) = f.get("p0f") {
                self.syn_signatures.insert(p.clone());
            }
        }
        self.ja4.extend(ja4.iter().cloned());
        self.local_names.extend(local_names.iter().cloned());
    }
}

/// What happened to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Only in B.
    Added,
    /// Only in A.
    Removed,
    /// In both, with other counts.
    Changed,
    /// In both, the same counts.
    Same,
}

impl Status {
    /// `added`, `removed`, `changed`, `same`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Changed => "changed",
            Status::Same => "same",
        }
    }
}

/// One key's comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The key (host, domain, owner, category or role).
    pub key: String,
    /// Status.
    pub status: Status,
    /// Counts in A (zero when absent).
    pub a: Counts,
    /// Counts in B (zero when absent).
    pub b: Counts,
}

impl Row {
    /// Change in bytes (both ways), B minus A.
    pub fn delta_bytes(&self) -> i128 {
        i128::from(self.b.bytes_down + self.b.bytes_up)
            - i128::from(self.a.bytes_down + self.a.bytes_up)
    }

    /// Change in connections, B minus A.
    pub fn delta_connections(&self) -> i128 {
        i128::from(self.b.connections) - i128::from(self.a.connections)
    }

    /// Category (from B when present, else A).
    pub fn category(&self) -> &str {
        if self.b.category.is_empty() {
            &self.a.category
        } else {
            &self.b.category
        }
    }
}

/// Noise controls.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Ignore keys whose bytes (both ways, the larger side) are below this.
    pub min_bytes: u64,
    /// Ignore keys whose connections (the larger side) are below this.
    pub min_connections: u64,
    /// Leave out the local category.
    pub ignore_local: bool,
    /// Only these statuses (all when empty).
    pub only: Vec<Status>,
}

impl Filter {
    fn keeps(&self, r: &Row) -> bool {
        let bytes = (r.a.bytes_down + r.a.bytes_up).max(r.b.bytes_down + r.b.bytes_up);
        let conns = r.a.connections.max(r.b.connections);
        bytes >= self.min_bytes
            && conns >= self.min_connections
            && !(self.ignore_local && r.category() == "local")
            && (self.only.is_empty() || self.only.contains(&r.status))
    }
}

/// Set differences of a client descriptor: (only in A, only in B).
pub type SetDiff = (Vec<String>, Vec<String>);

/// The whole comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    /// Rows kept by the filter, biggest change first (then by key); `same` rows included.
    pub rows: Vec<Row>,
    /// SYN signatures.
    pub syn_signatures: SetDiff,
    /// JA4 fingerprints.
    pub ja4: SetDiff,
    /// Local names.
    pub local_names: SetDiff,
    /// Flow share per app protocol: app -> (share in A, share in B), in percent.
    pub apps: BTreeMap<String, (f64, f64)>,
    /// Per category: (A connections, A bytes, B connections, B bytes).
    pub categories: BTreeMap<String, [u64; 4]>,
}

fn set_diff(a: &BTreeSet<String>, b: &BTreeSet<String>) -> SetDiff {
    (
        a.difference(b).cloned().collect(),
        b.difference(a).cloned().collect(),
    )
}

fn shares(m: &BTreeMap<String, u64>) -> BTreeMap<String, f64> {
    let total: u64 = m.values().sum();
    m.iter()
        .map(|(k, v)| (k.clone(), 100.0 * *v as f64 / total.max(1) as f64))
        .collect()
}

impl Diff {
    /// Compares `a` with `b`.
    pub fn new(a: &Side, b: &Side, filter: &Filter) -> Diff {
        let keys: BTreeSet<&String> = a.keys.keys().chain(b.keys.keys()).collect();
        let mut rows: Vec<Row> = keys
            .into_iter()
            .map(|k| {
                let (ca, cb) = (a.keys.get(k), b.keys.get(k));
                let status = match (ca, cb) {
                    (None, Some(_)) => Status::Added,
                    (Some(_), None) => Status::Removed,
                    (Some(x), Some(y))
                        if (x.connections, x.bytes_down, x.bytes_up, x.packets)
                            == (y.connections, y.bytes_down, y.bytes_up, y.packets) =>
                    {
                        Status::Same
                    }
                    _ => Status::Changed,
                };
                Row {
                    key: k.clone(),
                    status,
                    a: ca.cloned().unwrap_or_default(),
                    b: cb.cloned().unwrap_or_default(),
                }
            })
            .filter(|r| filter.keeps(r))
            .collect();
        rows.sort_by(|x, y| {
            y.delta_bytes()
                .abs()
                .cmp(&x.delta_bytes().abs())
                .then_with(|| {
                    y.delta_connections()
                        .abs()
                        .cmp(&x.delta_connections().abs())
                })
                .then_with(|| x.key.cmp(&y.key))
        });
        let (sa, sb) = (shares(&a.apps), shares(&b.apps));
        let apps = sa
            .keys()
            .chain(sb.keys())
            .map(|k| {
                (
                    k.clone(),
                    (
                        sa.get(k).copied().unwrap_or(0.0),
                        sb.get(k).copied().unwrap_or(0.0),
                    ),
                )
            })
            .collect();
        let mut categories: BTreeMap<String, [u64; 4]> = BTreeMap::new();
        for (k, (c, by)) in &a.categories {
            let e = categories.entry(k.clone()).or_default();
            e[0] += c;
            e[1] += by;
        }
        for (k, (c, by)) in &b.categories {
            let e = categories.entry(k.clone()).or_default();
            e[2] += c;
            e[3] += by;
        }
        Diff {
            rows,
            syn_signatures: set_diff(&a.syn_signatures, &b.syn_signatures),
            ja4: set_diff(&a.ja4, &b.ja4),
            local_names: set_diff(&a.local_names, &b.local_names),
            apps,
            categories,
        }
    }

    /// Whether anything differs (after the filter): a row not `same`, or a descriptor change.
    pub fn differs(&self) -> bool {
        self.rows.iter().any(|r| r.status != Status::Same)
            || [&self.syn_signatures, &self.ja4, &self.local_names]
                .iter()
                .any(|(x, y)| !x.is_empty() || !y.is_empty())
    }

    /// Rows of one status, in order.
    pub fn of(&self, s: Status) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(move |r| r.status == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, conns: u64, down: u64, cat: &str) -> BTreeMap<String, String> {
        [
            ("host", name.to_string()),
            ("connections", conns.to_string()),
            ("ip_bytes_down", down.to_string()),
            ("ip_bytes_up", "10".to_string()),
            ("category", cat.to_string()),
            ("owner", "o".to_string()),
            (
                "registrable_domain",
                name.rsplitn(3, '.')
                    .take(2)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("."),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn side(rows: Rows, level: Level) -> Side {
        let mut s = Side::default();
        s.add(
            level,
            &rows,
            &BTreeMap::new(),
            &Vec::new(),
            &BTreeSet::new(),
            &[],
        );
        s
    }

    #[test]
    fn statuses_mirror_and_identity() {
        let a = side(
            vec![
                host("x.a.com", 1, 100, "vendor"),
                host("y.b.com", 2, 50, "third-party"),
            ],
            Level::Host,
        );
        let b = side(
            vec![
                host("x.a.com", 3, 900, "vendor"),
                host("z.c.com", 1, 5, "third-party"),
            ],
            Level::Host,
        );
        let f = Filter::default();
        let d = Diff::new(&a, &b, &f);
        let st: Vec<(&str, Status)> = d.rows.iter().map(|r| (r.key.as_str(), r.status)).collect();
        assert_eq!(
            st,
            [
                ("x.a.com", Status::Changed),
                ("y.b.com", Status::Removed),
                ("z.c.com", Status::Added)
            ]
        );
        let m = Diff::new(&b, &a, &f);
        for r in &d.rows {
            let mr = m.rows.iter().find(|x| x.key == r.key).unwrap();
            assert_eq!((mr.a.clone(), mr.b.clone()), (r.b.clone(), r.a.clone()));
        }
        assert!(!Diff::new(&a, &a, &f).differs());
        assert!(d.differs());
        // Thresholds and levels.
        let big = Filter {
            min_bytes: 200,
            ..Filter::default()
        };
        assert_eq!(Diff::new(&a, &b, &big).rows.len(), 1);
        let by_cat = Diff::new(
            &side(vec![host("x.a.com", 1, 100, "vendor")], Level::Category),
            &side(vec![host("q.a.com", 1, 100, "vendor")], Level::Category),
            &f,
        );
        assert!(!by_cat.differs());
    }
}
