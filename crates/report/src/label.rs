//! Categorisation of flows and hosts with the domains crate: owner, operator, category, role,
//! confidence and registrable domain, as owned strings ready for output.

use std::collections::BTreeMap;

use phonehome_domains::os::{OsDb, OsGuess};
use phonehome_domains::{Category, Rules, Vendor};
use phonehome_flows::{CaptureSummary, FlowRecord, HostStats};

/// What the rules say about one flow or host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// eTLD+1 of the name (empty for addresses).
    pub registrable_domain: String,
    /// Owner organisation's display name, or `unknown`.
    pub owner: String,
    /// Operator, when it differs from the owner.
    pub operator: String,
    /// `vendor`, `third-party`, `local`, `unknown`.
    pub category: Category,
    /// Role from the fixed vocabulary, or `unknown`.
    pub role: String,
    /// `name`, `suffix`, `ip`, `none`.
    pub confidence: &'static str,
}

/// Labels flows and hosts for one vendor under study.
#[derive(Debug)]
pub struct Labeller<'r> {
    rules: &'r Rules,
    vendor: Vendor,
    os: &'r OsDb,
}

/// The labels of one summary's hosts and fingerprints (flows are labelled row by row, see
/// [`crate::tables::flows`]).
#[derive(Debug, Default, Clone)]
pub struct Labels {
    /// By host key.
    pub hosts: BTreeMap<String, Label>,
    /// OS guess per row of the summary's fingerprints, in order.
    pub fingerprints: Vec<Option<OsGuess>>,
}

impl Labels {
    /// Totals per category: (hosts, connections, bytes down, bytes up).
    pub fn category_totals(&self, s: &CaptureSummary) -> BTreeMap<Category, [u64; 4]> {
        let mut t: BTreeMap<Category, [u64; 4]> = BTreeMap::new();
        for (k, h) in &s.hosts {
            let cat = self.hosts.get(k).map_or(Category::Unknown, |l| l.category);
            let e = t.entry(cat).or_default();
            e[0] += 1;
            e[1] += h.connections;
            e[2] += h.down.ip_bytes;
            e[3] += h.up.ip_bytes;
        }
        t
    }
}

impl<'r> Labeller<'r> {
    /// A labeller over `rules` for `vendor`, guessing stacks with the built-in signatures.
    pub fn new(rules: &'r Rules, vendor: Vendor) -> Labeller<'r> {
        Labeller {
            rules,
            vendor,
            os: OsDb::builtin(),
        }
    }

    /// The same, with another signature database (a p0f `p0f.fp`).
    pub fn with_os_db(mut self, os: &'r OsDb) -> Labeller<'r> {
        self.os = os;
        self
    }

    /// The vendor under study.
    pub fn vendor(&self) -> &Vendor {
        &self.vendor
    }

    /// Labels every flow and host of a summary. The first HTTP request path of a flow (or of
    /// a host's flows) lets path rules apply (a connectivity check on `www.apple.com`).
    pub fn label(&self, s: &CaptureSummary) -> Labels {
        // Flows are labelled as their rows are made (tables::flows); hosts here, each with the
        // first HTTP path seen on it.
        let paths = crate::tables::first_paths(s);
        let mut labels = Labels::default();
        let mut host_path: BTreeMap<String, &str> = BTreeMap::new();
        if !paths.is_empty() {
            for f in s.flow_iter() {
                if let Some(p) = paths.get(&f.id) {
                    host_path.entry(f.host_key()).or_insert(p.as_str());
                }
            }
        }
        for (k, h) in &s.hosts {
            let l = self.host(k, h, host_path.get(k).copied());
            labels.hosts.insert(k.clone(), l);
        }
        labels.fingerprints = s
            .fingerprints
            .iter()
            .map(|f| {
                let p = &f.fingerprint;
                let syn = p.kind == phonehome_decode::syn::SynKind::Syn;
                self.os.guess(syn, &p.p0f, p.window)
            })
            .collect();
        labels
    }

    /// Labels one flow. DNS flows are labelled as their resolver (role `dns`).
    pub fn flow(&self, f: &FlowRecord, path: Option<&str>) -> Label {
        // Only unicast DNS to a resolver is role `dns`; mDNS and LLMNR are local discovery.
        let dns = f.app == Some("dns");
        let name = f.hostname.as_deref().filter(|_| !dns);
        let c = self
            .rules
            .classify_flow(name, path, Some(f.server.ip), &self.vendor);
        let mut l = to_label(&c);
        if dns {
            l.role = "dns".into();
        }
        l
    }

    /// Labels one host row.
    pub fn host(&self, key: &str, h: &HostStats, path: Option<&str>) -> Label {
        let addr = h.server_ips.iter().next().copied();
        let c = self
            .rules
            .classify_flow(Some(key), path, addr, &self.vendor);
        let mut l = to_label(&c);
        // A resolver: every flow is DNS, or DNS beside local services (a home router also
        // answers DHCP and pings) and the rules gave no role.
        if h.apps.contains("dns") && (h.apps.len() == 1 || l.role == "unknown") {
            l.role = "dns".into();
        }
        l
    }
}

fn to_label(c: &phonehome_domains::Classification<'_>) -> Label {
    Label {
        registrable_domain: c.registrable_domain.clone().unwrap_or_default(),
        owner: c
            .owner
            .map_or_else(|| "unknown".to_string(), |o| o.name.clone()),
        operator: c.operator.map(|o| o.name.clone()).unwrap_or_default(),
        category: c.category,
        role: c.role.unwrap_or("unknown").to_string(),
        confidence: c.confidence.as_str(),
    }
}
