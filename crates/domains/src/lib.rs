//! Domain categorization for phonehome: maps a host name or an address to its owner,
//! operator, category (vendor, third-party, local, unknown) and role, from the project's rules
//! file `data/domains.toml` (embedded; see `docs/rules.md`), plus the public suffix list for
//! registrable domains.
//!
//! Rules are keyed by exact host or label-boundary suffix, never substring or regex. Exact beats
//! suffix and a longer suffix beats a shorter one; each field (owner, operator, role) is taken
//! from the most specific matching rule that sets it. Address ranges (Apple's 17.0.0.0/8) are a
//! weaker fallback used only when no name rule applies. Category is relative to a [`Vendor`]:
//! its own services are `vendor`, every other known owner is `third-party`.
//!
//! ```
//! use phonehome_domains::{Category, Confidence, Rules, Vendor};
//! let rules = Rules::builtin();
//! let c = rules.classify("time.apple.com", None, &Vendor::default());
//! assert_eq!(c.owner_id(), Some("apple"));
//! assert_eq!(c.role, Some("time"));
//! assert_eq!(c.category, Category::Vendor);
//! assert_eq!(c.confidence, Confidence::Name);
//! ```

mod local;
mod name;
pub mod os;
mod rules;

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

pub use local::{is_local_name, local_address_kind, local_service, PROTO_TCP, PROTO_UDP};
pub use name::{normalize, NameError, MAX_LABEL_LEN, MAX_NAME_LEN};
pub use rules::{MatchKind, Owner, Range, Rule, Rules, RulesError, BUILTIN_TEXT, ROLES, SCHEMA};

/// The role given to local discovery traffic (multicast, broadcast, `.local` names).
pub const LOCAL_DISCOVERY: &str = "local-discovery";

/// The organisation under study, whose own services count as first-party.
///
/// Holds an owner id from the rules file: `apple` (the default), `microsoft`, `google`, or any
/// other owner the rules define. Subsidiaries (owners whose `parent` is the vendor) count too.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vendor(String);

impl Vendor {
    /// A vendor by owner id (lower-cased).
    pub fn new(id: &str) -> Vendor {
        Vendor(id.to_ascii_lowercase())
    }

    /// Apple, the default.
    pub fn apple() -> Vendor {
        Vendor::new("apple")
    }

    /// Microsoft.
    pub fn microsoft() -> Vendor {
        Vendor::new("microsoft")
    }

    /// Google.
    pub fn google() -> Vendor {
        Vendor::new("google")
    }

    /// The owner id.
    pub fn id(&self) -> &str {
        &self.0
    }
}

impl Default for Vendor {
    fn default() -> Self {
        Vendor::apple()
    }
}

impl FromStr for Vendor {
    type Err = NameError;

    /// Parses an owner id; only an empty string is rejected.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            Err(NameError::Empty)
        } else {
            Ok(Vendor::new(s.trim()))
        }
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whose traffic it is, relative to the vendor under study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Category {
    /// The vendor's own service (first-party).
    Vendor,
    /// A known owner other than the vendor.
    ThirdParty,
    /// Traffic that stays on the local network.
    Local,
    /// No rule applies.
    Unknown,
}

impl Category {
    /// The name used in output: `vendor`, `third-party`, `local`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Vendor => "vendor",
            Category::ThirdParty => "third-party",
            Category::Local => "local",
            Category::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the answer was reached, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Confidence {
    /// An exact host rule (or a `.local` name).
    Name,
    /// A suffix rule.
    Suffix,
    /// An address range, or a local address.
    Ip,
    /// Nothing matched.
    None,
}

impl Confidence {
    /// The name used in output: `name`, `suffix`, `ip`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Name => "name",
            Confidence::Suffix => "suffix",
            Confidence::Ip => "ip",
            Confidence::None => "none",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer for one host or address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification<'r> {
    /// The host as compared: the normalised name, or the address in text form.
    pub host: String,
    /// The registrable domain (eTLD+1) under the public suffix list's ICANN section (so
    /// `x.y.akamaiedge.net` gives `akamaiedge.net`; see [`registrable_domain`]); `None` for
    /// addresses, `.local` names and invalid names.
    pub registrable_domain: Option<String>,
    /// Whose service it is.
    pub owner: Option<&'r Owner>,
    /// Who runs the servers, when a rule says it differs from the owner.
    pub operator: Option<&'r Owner>,
    /// The role, from [`ROLES`].
    pub role: Option<&'r str>,
    /// Relative to the vendor.
    pub category: Category,
    /// How the answer was reached.
    pub confidence: Confidence,
}

impl Classification<'_> {
    /// The owner's id, if any.
    pub fn owner_id(&self) -> Option<&str> {
        self.owner.map(|o| o.id.as_str())
    }

    /// The operator's id, if any.
    pub fn operator_id(&self) -> Option<&str> {
        self.operator.map(|o| o.id.as_str())
    }
}

/// One rule that matched a host, and the fields it decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step<'r> {
    /// The rule.
    pub rule: &'r Rule,
    /// The fields this rule decided (`owner`, `operator`, `role`); empty when a more specific
    /// rule had already set every field it sets.
    pub decided: Vec<&'static str>,
}

/// Why a host was classified as it was: the answer plus every rule consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation<'r> {
    /// The answer.
    pub classification: Classification<'r>,
    /// Name rules that matched, most specific first.
    pub steps: Vec<Step<'r>>,
    /// The address range used, when the answer came from an address.
    pub range: Option<&'r Range>,
    /// Why the host is local (`.local name`, `private`, `multicast`, ...), when it is.
    pub local: Option<&'static str>,
    /// Why the name was unusable, when it was.
    pub name_error: Option<NameError>,
}

impl fmt::Display for Explanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.classification;
        writeln!(
            f,
            "{}: {} (owner {}, operator {}, role {}, confidence {})",
            c.host,
            c.category,
            c.owner_id().unwrap_or("-"),
            c.operator_id().unwrap_or("-"),
            c.role.unwrap_or("-"),
            c.confidence
        )?;
        if let Some(e) = self.name_error {
            writeln!(f, "  name not usable: {e}")?;
        }
        if let Some(l) = self.local {
            writeln!(f, "  local: {l}")?;
        }
        for s in &self.steps {
            let r = s.rule;
            write!(f, "  {} {}", r.kind, r.pattern)?;
            if let Some(p) = &r.path {
                write!(f, " path {p}")?;
            }
            let decided = if s.decided.is_empty() {
                "nothing (overridden)".to_owned()
            } else {
                s.decided.join(", ")
            };
            writeln!(f, " -> decided {decided} [source: {}]", r.source)?;
        }
        if let Some(r) = self.range {
            writeln!(f, "  range {r} -> owner {} [source: {}]", r.owner, r.source)?;
        }
        if self.steps.is_empty() && self.range.is_none() && self.local.is_none() {
            writeln!(f, "  no rule matched")?;
        }
        Ok(())
    }
}

/// The registrable domain (eTLD+1) of a normalised name under the public suffix list's ICANN
/// section only: `e6858.dscx.akamaiedge.net` gives `akamaiedge.net`, where the whole list (whose
/// private section holds CDN and hosting zones) would give `dscx.akamaiedge.net`. This is the
/// grouping a person wants for "whose domain is it"; [`psl_registrable_domain`] gives the other.
pub fn registrable_domain(host: &str) -> Option<String> {
    let s = psl::suffix(host.as_bytes())?;
    let mut suffix = std::str::from_utf8(s.as_bytes()).ok()?;
    let mut typ = s.typ();
    // Walk up past private-section suffixes to the ICANN suffix beneath them.
    while typ == Some(psl::Type::Private) {
        let parent = suffix.split_once('.')?.1;
        let p = psl::suffix(parent.as_bytes())?;
        suffix = std::str::from_utf8(p.as_bytes()).ok()?;
        typ = p.typ();
    }
    let prefix = host.strip_suffix(suffix)?.strip_suffix('.')?;
    let label = prefix.rsplit('.').next().filter(|l| !l.is_empty())?;
    Some(format!("{label}.{suffix}"))
}

/// The registrable domain under the whole public suffix list, private section included.
pub fn psl_registrable_domain(host: &str) -> Option<String> {
    psl::domain_str(host).map(str::to_owned)
}

/// Parses an address literal, also in `[v6]` form.
fn parse_addr(host: &str) -> Option<IpAddr> {
    let h = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    h.parse().ok()
}

impl Rules {
    /// Classifies a host name (or an address literal) with an optional HTTP path.
    pub fn classify(&self, host: &str, path: Option<&str>, vendor: &Vendor) -> Classification<'_> {
        self.explain_flow(Some(host), path, None, vendor)
            .classification
    }

    /// Classifies an address with no name: local ranges, then the range rules.
    pub fn classify_addr(&self, addr: IpAddr, vendor: &Vendor) -> Classification<'_> {
        self.explain_flow(None, None, Some(addr), vendor)
            .classification
    }

    /// Classifies a flow: its name when known (a name rule always beats a range), else its
    /// server address.
    pub fn classify_flow(
        &self,
        host: Option<&str>,
        path: Option<&str>,
        addr: Option<IpAddr>,
        vendor: &Vendor,
    ) -> Classification<'_> {
        self.explain_flow(host, path, addr, vendor).classification
    }

    /// Like [`Rules::classify`], with the rules that matched and why.
    pub fn explain(&self, host: &str, path: Option<&str>, vendor: &Vendor) -> Explanation<'_> {
        self.explain_flow(Some(host), path, None, vendor)
    }

    /// Like [`Rules::classify_flow`], with the rules that matched and why.
    pub fn explain_flow(
        &self,
        host: Option<&str>,
        path: Option<&str>,
        addr: Option<IpAddr>,
        vendor: &Vendor,
    ) -> Explanation<'_> {
        let mut addr = addr;
        let mut name = None;
        let mut name_error = None;
        let mut shown = None;
        if let Some(h) = host {
            if let Some(a) = parse_addr(h) {
                addr = addr.or(Some(a));
            } else {
                match normalize(h) {
                    Ok(n) => name = Some(n),
                    Err(e) => {
                        name_error = Some(e);
                        shown = Some(h.to_ascii_lowercase());
                    }
                }
            }
        }
        let mut ex = Explanation {
            classification: Classification {
                host: String::new(),
                registrable_domain: None,
                owner: None,
                operator: None,
                role: None,
                category: Category::Unknown,
                confidence: Confidence::None,
            },
            steps: Vec::new(),
            range: None,
            local: None,
            name_error,
        };
        if let Some(n) = name {
            if is_local_name(&n) {
                ex.local = Some(".local name");
                let c = &mut ex.classification;
                c.host = n;
                c.category = Category::Local;
                c.role = Some(LOCAL_DISCOVERY);
                c.confidence = Confidence::Name;
                return ex;
            }
            ex.classification.registrable_domain = registrable_domain(&n);
            self.match_name(&n, path, &mut ex);
            ex.classification.host = n;
            if !ex.steps.is_empty() {
                ex.classification.category = self.category(ex.classification.owner, vendor);
                return ex;
            }
        } else if let Some(s) = shown {
            ex.classification.host = s;
        } else if let Some(a) = addr {
            ex.classification.host = a.to_string();
        }
        if let Some(a) = addr {
            self.match_addr(a, &mut ex);
            if ex.local.is_none() {
                ex.classification.category = self.category(ex.classification.owner, vendor);
            }
        }
        ex
    }

    /// Fills `ex` from the name rules that match `host` (normalised).
    fn match_name<'r>(&'r self, host: &str, path: Option<&str>, ex: &mut Explanation<'r>) {
        let applies = |r: &Rule| match (&r.path, path) {
            (None, _) => true,
            (Some(p), Some(q)) => q.starts_with(p.as_str()),
            (Some(_), None) => false,
        };
        let mut matched: Vec<&'r Rule> = Vec::new();
        for (i, s) in name::suffixes(host).enumerate() {
            if i == 0 {
                if let Some(ids) = self.exact.get(s) {
                    matched.extend(ids.iter().map(|&k| &self.rules[k]).filter(|r| applies(r)));
                }
            }
            if let Some(ids) = self.suffix.get(s) {
                matched.extend(ids.iter().map(|&k| &self.rules[k]).filter(|r| applies(r)));
            }
        }
        let c = &mut ex.classification;
        for r in &matched {
            let mut decided = Vec::new();
            if c.owner.is_none() {
                if let Some(o) = &r.owner {
                    c.owner = self.owners.get(o);
                    decided.push("owner");
                }
            }
            if c.operator.is_none() {
                if let Some(o) = &r.operator {
                    c.operator = self.owners.get(o);
                    decided.push("operator");
                }
            }
            if c.role.is_none() {
                if let Some(role) = &r.role {
                    c.role = Some(role);
                    decided.push("role");
                }
            }
            ex.steps.push(Step { rule: r, decided });
        }
        if let Some(first) = matched.first() {
            c.confidence = match first.kind {
                MatchKind::Exact => Confidence::Name,
                MatchKind::Suffix => Confidence::Suffix,
            };
        }
    }

    /// Fills `ex` from an address: local first, then the longest matching range.
    fn match_addr<'r>(&'r self, addr: IpAddr, ex: &mut Explanation<'r>) {
        let c = &mut ex.classification;
        if let Some(kind) = local_address_kind(addr) {
            ex.local = Some(kind);
            c.category = Category::Local;
            c.confidence = Confidence::Ip;
            if matches!(kind, "multicast" | "broadcast") {
                c.role = Some(LOCAL_DISCOVERY);
            }
            return;
        }
        if let Some(r) = self.ranges.iter().find(|r| r.contains(addr)) {
            ex.range = Some(r);
            c.owner = self.owners.get(&r.owner);
            c.operator = r.operator.as_ref().and_then(|o| self.owners.get(o));
            c.role = r.role.as_deref();
            c.confidence = Confidence::Ip;
        }
    }

    /// The category of an owner relative to the vendor (parents followed, at most 8 levels).
    fn category(&self, owner: Option<&Owner>, vendor: &Vendor) -> Category {
        let Some(mut o) = owner else {
            return Category::Unknown;
        };
        for _ in 0..8 {
            if o.id == vendor.id() {
                return Category::Vendor;
            }
            match o.parent.as_ref().and_then(|p| self.owners.get(p)) {
                Some(p) => o = p,
                None => break,
            }
        }
        Category::ThirdParty
    }
}

#[cfg(test)]
mod tests;
