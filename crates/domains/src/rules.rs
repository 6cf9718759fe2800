//! The rules file: parsing, load-time validation, merging and the lookup tables.
//!
//! The format is documented in `docs/rules.md`. Every check here returns a typed
//! [`RulesError`]; a file that loads is guaranteed to have a source on every rule, only defined
//! owners, known roles, normalised patterns and no duplicate patterns.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Deserialize;

use crate::name::normalize;

/// The schema version this crate reads.
pub const SCHEMA: u32 = 1;

/// The fixed role vocabulary. A rule's `role` must be one of these.
pub const ROLES: &[&str] = &[
    "time",
    "activation",
    "device-setup",
    "connectivity-check",
    "cert-status",
    "software-update",
    "app-store",
    "push",
    "mdm",
    "icloud",
    "apple-id",
    "account",
    "private-relay",
    "maps",
    "location",
    "siri-search",
    "ai-relay",
    "assistant",
    "telemetry",
    "diagnostics",
    "content-caching",
    "developer",
    "game-center",
    "identity-services",
    "apple-pay",
    "cloud",
    "email",
    "messaging",
    "cdn",
    "dns",
    "media",
    "web",
    "ads",
    "analytics",
    "search",
    "social",
    "news",
    "weather",
    "finance",
    "safe-browsing",
    "local-discovery",
    "content-provider",
    "other",
];

/// Why a rules file was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// Not valid TOML, or a field has the wrong type or an unknown name.
    #[error("rules file is not valid: {0}")]
    Parse(String),
    /// The `schema` number is not [`SCHEMA`].
    #[error("unsupported rules schema {0} (expected {SCHEMA})")]
    UnsupportedSchema(u32),
    /// A rule, range or owner has no (or an empty) `source`.
    #[error("{0}: no source")]
    MissingSource(String),
    /// A rule or range names an owner or operator that no `[owners.*]` table defines.
    #[error("{pattern}: owner {owner:?} is not defined")]
    UnknownOwner {
        /// The rule's pattern (or range).
        pattern: String,
        /// The undefined owner id.
        owner: String,
    },
    /// A role outside [`ROLES`].
    #[error("{pattern}: role {role:?} is not in the vocabulary")]
    UnknownRole {
        /// The rule's pattern (or range).
        pattern: String,
        /// The unknown role.
        role: String,
    },
    /// Two rules with the same pattern, match kind and path, or two ranges with the same CIDR.
    #[error("{0}: duplicate pattern")]
    Duplicate(String),
    /// A pattern that is not in normalised form: only `a-z`, `0-9`, `-`, `_` and dots, no
    /// trailing dot, no empty label, labels of at most 63 bytes, at most 253 bytes in all.
    #[error("{0:?}: pattern is not a normalised ASCII host name")]
    NotNormalised(String),
    /// A `path` that does not start with `/`.
    #[error("{pattern}: path {path:?} must start with '/'")]
    BadPath {
        /// The rule's pattern.
        pattern: String,
        /// The offending path.
        path: String,
    },
    /// A `cidr` that does not parse, or has host bits set.
    #[error("{0:?}: not a valid CIDR range")]
    BadRange(String),
    /// A rule that sets none of owner, operator and role.
    #[error("{0}: rule sets no field")]
    Empty(String),
    /// An owner id that is not lower-case ASCII letters, digits and `-`.
    #[error("{0:?}: owner id must be lower-case letters, digits and '-'")]
    BadOwnerId(String),
    /// A name rule whose pattern is an IP address: it could never match (addresses are looked
    /// up in the ranges), so it is refused rather than silently ignored.
    #[error("{0:?}: an address is not a name pattern; write a [[range]] with cidr = \"{0}/32\" (or /128)")]
    AddressPattern(String),
}

/// How a rule's pattern is compared with a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum MatchKind {
    /// The whole host equals the pattern.
    Exact,
    /// The host equals the pattern or ends with `.` + pattern (label boundary).
    Suffix,
}

impl fmt::Display for MatchKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MatchKind::Exact => "exact",
            MatchKind::Suffix => "suffix",
        })
    }
}

/// An organisation that owns or operates services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Short id used in rules and output (`apple`, `microsoft`, ...).
    pub id: String,
    /// Display name (`Apple Inc.`).
    pub name: String,
    /// The parent organisation's id, when this one is a subsidiary (LinkedIn → `microsoft`).
    pub parent: Option<String>,
    /// Where the ownership fact comes from.
    pub source: String,
}

/// One name rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Normalised host pattern.
    pub pattern: String,
    /// Exact or suffix.
    pub kind: MatchKind,
    /// URL path prefix the rule is limited to (only used when the path is known).
    pub path: Option<String>,
    /// Owner id (whose service it is).
    pub owner: Option<String>,
    /// Operator id (who runs the servers), when it differs from the owner.
    pub operator: Option<String>,
    /// Role from [`ROLES`].
    pub role: Option<String>,
    /// Where the fact comes from.
    pub source: String,
    /// Free-text note.
    pub note: Option<String>,
}

/// One address-range rule, a weaker fallback used only when no name rule applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// Network address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
    /// Owner id.
    pub owner: String,
    /// Operator id, when it differs from the owner.
    pub operator: Option<String>,
    /// Role from [`ROLES`].
    pub role: Option<String>,
    /// Where the fact comes from.
    pub source: String,
}

/// `addr` with every bit after the first `prefix` bits cleared.
fn masked(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::from(Ipv4Addr::from(u32::from(v) & mask))
        }
        IpAddr::V6(v) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::from(Ipv6Addr::from(u128::from(v) & mask))
        }
    }
}

impl Range {
    /// Whether `ip` falls in this range (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.addr.is_ipv4() && masked(ip, self.prefix) == self.addr
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Parses `addr/prefix`; rejects a prefix too long for the family and set host bits.
fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let (a, p) = text.split_once('/')?;
    let addr: IpAddr = a.parse().ok()?;
    let prefix: u8 = p.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (prefix <= max && masked(addr, prefix) == addr).then_some((addr, prefix))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: u32,
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    owners: BTreeMap<String, RawOwner>,
    #[serde(default, rename = "rule")]
    rules: Vec<RawRule>,
    #[serde(default, rename = "range")]
    ranges: Vec<RawRange>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOwner {
    name: String,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    pattern: String,
    #[serde(rename = "match")]
    kind: MatchKind,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    operator: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    cidr: String,
    owner: String,
    #[serde(default)]
    operator: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

/// Key that identifies a rule for duplicate detection and overriding.
type RuleKey = (String, MatchKind, Option<String>);

/// A loaded, validated set of rules with its lookup tables.
///
/// Build one with [`Rules::load_str`] or [`Rules::builtin`]; add a user's file with
/// [`Rules::extend_str`] or [`Rules::merge`]. Lookups ([`Rules::classify`] and friends) probe a
/// hash map once per label of the host, longest suffix first; they never scan all rules.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub(crate) as_of: Option<String>,
    pub(crate) owners: BTreeMap<String, Owner>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) ranges: Vec<Range>,
    /// Pattern → indexes into `rules` of the exact rules with that pattern.
    pub(crate) exact: HashMap<String, Vec<usize>>,
    /// Pattern → indexes into `rules` of the suffix rules with that pattern.
    pub(crate) suffix: HashMap<String, Vec<usize>>,
}

fn check_source(what: &str, source: Option<String>) -> Result<String, RulesError> {
    match source {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(RulesError::MissingSource(what.to_owned())),
    }
}

fn check_role(what: &str, role: &Option<String>) -> Result<(), RulesError> {
    match role {
        Some(r) if !ROLES.contains(&r.as_str()) => Err(RulesError::UnknownRole {
            pattern: what.to_owned(),
            role: r.clone(),
        }),
        _ => Ok(()),
    }
}

impl Rules {
    /// The project's own rules, `data/domains.toml`, embedded in the crate and parsed once.
    pub fn builtin() -> &'static Rules {
        static BUILTIN: std::sync::OnceLock<Rules> = std::sync::OnceLock::new();
        BUILTIN.get_or_init(|| {
            Rules::load_str(BUILTIN_TEXT).expect("data/domains.toml is validated by the tests")
        })
    }

    /// Parses and validates a rules file that stands on its own (every owner it uses is
    /// defined in it).
    pub fn load_str(text: &str) -> Result<Rules, RulesError> {
        let mut rules = Rules::default();
        rules.extend_str(text)?;
        Ok(rules)
    }

    /// Parses and validates a rules file on top of these rules: its owners and rules are added,
    /// replacing any with the same owner id or the same (pattern, match, path). Its rules may
    /// use owners defined here. On error, `self` is unchanged.
    pub fn extend_str(&mut self, text: &str) -> Result<(), RulesError> {
        let other = self.parse_over(text)?;
        self.merge(other);
        Ok(())
    }

    /// Parses `text` and validates it with `self`'s owners also in scope.
    fn parse_over(&self, text: &str) -> Result<Rules, RulesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| RulesError::Parse(e.to_string()))?;
        if raw.schema != SCHEMA {
            return Err(RulesError::UnsupportedSchema(raw.schema));
        }
        let mut out = Rules {
            as_of: raw.as_of,
            ..Rules::default()
        };
        for (id, o) in raw.owners {
            if id.is_empty()
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(RulesError::BadOwnerId(id));
            }
            let source = check_source(&format!("owner {id}"), o.source)?;
            out.owners.insert(
                id.clone(),
                Owner {
                    id,
                    name: o.name,
                    parent: o.parent,
                    source,
                },
            );
        }
        let defined = |id: &str| out.owners.contains_key(id) || self.owners.contains_key(id);
        for o in out.owners.values() {
            if let Some(p) = &o.parent {
                if !defined(p) {
                    return Err(RulesError::UnknownOwner {
                        pattern: format!("owner {}", o.id),
                        owner: p.clone(),
                    });
                }
            }
        }
        let mut seen: HashMap<RuleKey, ()> = HashMap::new();
        let mut rules = Vec::with_capacity(raw.rules.len());
        for r in raw.rules {
            let pat = r.pattern;
            let host_chars = pat.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
            });
            if pat.parse::<std::net::IpAddr>().is_ok() {
                return Err(RulesError::AddressPattern(pat));
            }
            if !host_chars || normalize(&pat).ok().as_deref() != Some(pat.as_str()) {
                return Err(RulesError::NotNormalised(pat));
            }
            let source = check_source(&pat, r.source)?;
            for id in [&r.owner, &r.operator].into_iter().flatten() {
                if !defined(id) {
                    return Err(RulesError::UnknownOwner {
                        pattern: pat,
                        owner: id.clone(),
                    });
                }
            }
            check_role(&pat, &r.role)?;
            if let Some(p) = &r.path {
                if !p.starts_with('/') {
                    return Err(RulesError::BadPath {
                        pattern: pat,
                        path: p.clone(),
                    });
                }
            }
            if r.owner.is_none() && r.operator.is_none() && r.role.is_none() {
                return Err(RulesError::Empty(pat));
            }
            if seen
                .insert((pat.clone(), r.kind, r.path.clone()), ())
                .is_some()
            {
                return Err(RulesError::Duplicate(pat));
            }
            rules.push(Rule {
                pattern: pat,
                kind: r.kind,
                path: r.path,
                owner: r.owner,
                operator: r.operator,
                role: r.role,
                source,
                note: r.note,
            });
        }
        let mut ranges: Vec<Range> = Vec::with_capacity(raw.ranges.len());
        for r in raw.ranges {
            let (addr, prefix) =
                parse_cidr(&r.cidr).ok_or_else(|| RulesError::BadRange(r.cidr.clone()))?;
            let source = check_source(&r.cidr, r.source)?;
            for id in std::iter::once(&r.owner).chain(&r.operator) {
                if !defined(id) {
                    return Err(RulesError::UnknownOwner {
                        pattern: r.cidr,
                        owner: id.clone(),
                    });
                }
            }
            check_role(&r.cidr, &r.role)?;
            if ranges.iter().any(|x| x.addr == addr && x.prefix == prefix) {
                return Err(RulesError::Duplicate(r.cidr));
            }
            ranges.push(Range {
                addr,
                prefix,
                owner: r.owner,
                operator: r.operator,
                role: r.role,
                source,
            });
        }
        out.rules = rules;
        out.ranges = ranges;
        Ok(out)
    }

    /// Adds `other`'s owners, rules and ranges to these, `other` winning on the same owner id,
    /// the same (pattern, match, path) or the same range. Both sets are already validated, so
    /// merging cannot fail; owners `other` uses must be defined in one of the two sets, which
    /// [`Rules::extend_str`] checks.
    pub fn merge(&mut self, other: Rules) {
        if other.as_of.is_some() {
            self.as_of = other.as_of;
        }
        self.owners.extend(other.owners);
        let key = |r: &Rule| (r.pattern.clone(), r.kind, r.path.clone());
        let mut by_key: HashMap<RuleKey, usize> = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (key(r), i))
            .collect();
        for r in other.rules {
            match by_key.get(&key(&r)) {
                Some(&i) => self.rules[i] = r,
                None => {
                    by_key.insert(key(&r), self.rules.len());
                    self.rules.push(r);
                }
            }
        }
        for r in other.ranges {
            match self
                .ranges
                .iter_mut()
                .find(|x| x.addr == r.addr && x.prefix == r.prefix)
            {
                Some(x) => *x = r,
                None => self.ranges.push(r),
            }
        }
        self.reindex();
    }

    /// Rebuilds the lookup tables and orders ranges longest prefix first.
    fn reindex(&mut self) {
        self.exact.clear();
        self.suffix.clear();
        for (i, r) in self.rules.iter().enumerate() {
            let map = match r.kind {
                MatchKind::Exact => &mut self.exact,
                MatchKind::Suffix => &mut self.suffix,
            };
            map.entry(r.pattern.clone()).or_default().push(i);
        }
        // Path rules first, longer paths first, so the first applicable one is the most specific.
        for v in self.exact.values_mut().chain(self.suffix.values_mut()) {
            let rules = &self.rules;
            v.sort_by_key(|&i| {
                std::cmp::Reverse(rules[i].path.as_ref().map_or(0, |p| p.len() + 1))
            });
        }
        self.ranges
            .sort_by(|a, b| b.prefix.cmp(&a.prefix).then_with(|| a.addr.cmp(&b.addr)));
    }

    /// The date the rules' facts were last checked, if the file says.
    pub fn as_of(&self) -> Option<&str> {
        self.as_of.as_deref()
    }

    /// The owner with this id.
    pub fn owner(&self, id: &str) -> Option<&Owner> {
        self.owners.get(id)
    }

    /// All owners, by id.
    pub fn owners(&self) -> impl Iterator<Item = &Owner> {
        self.owners.values()
    }

    /// All name rules, in file order (merged rules appended).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// All range rules, longest prefix first.
    pub fn ranges(&self) -> &[Range] {
        &self.ranges
    }
}

/// The text of `data/domains.toml`, as shipped.
pub const BUILTIN_TEXT: &str = include_str!("../../../data/domains.toml");

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "schema = 1\n[owners.apple]\nname = \"Apple Inc.\"\nsource = \"P\"\n";

    fn load(body: &str) -> Result<Rules, RulesError> {
        Rules::load_str(&format!("{HEAD}{body}"))
    }

    #[test]
    fn builtin_file_loads_and_is_valid() {
        let r = Rules::load_str(BUILTIN_TEXT).unwrap();
        assert!(r.rules().len() > 300, "{}", r.rules().len());
        for rule in r.rules() {
            assert!(!rule.source.is_empty());
            assert_eq!(normalize(&rule.pattern).unwrap(), rule.pattern);
        }
        for o in [
            "apple",
            "microsoft",
            "google",
            "akamai",
            "digicert",
            "tencent",
        ] {
            assert!(r.owner(o).is_some(), "{o}");
        }
    }

    #[test]
    fn good_minimal_file() {
        let r = load(
            "[[rule]]\npattern = \"apple.com\"\nmatch = \"suffix\"\nowner = \"apple\"\nsource = \"V\"\n",
        )
        .unwrap();
        assert_eq!(r.rules().len(), 1);
    }

    #[test]
    fn rejects_missing_source() {
        let e = load("[[rule]]\npattern = \"apple.com\"\nmatch = \"suffix\"\nowner = \"apple\"\n");
        assert_eq!(
            e.unwrap_err(),
            RulesError::MissingSource("apple.com".into())
        );
        let e = load("[[rule]]\npattern = \"apple.com\"\nmatch = \"suffix\"\nowner = \"apple\"\nsource = \" \"\n");
        assert!(matches!(e, Err(RulesError::MissingSource(_))));
        let e = Rules::load_str("schema = 1\n[owners.x]\nname = \"X\"\n");
        assert!(matches!(e, Err(RulesError::MissingSource(_))));
    }

    #[test]
    fn rejects_undefined_owner_and_operator() {
        let e = load("[[rule]]\npattern = \"a.com\"\nmatch = \"exact\"\nowner = \"nobody\"\nsource = \"x\"\n");
        assert!(matches!(e, Err(RulesError::UnknownOwner { .. })));
        let e = load("[[rule]]\npattern = \"a.com\"\nmatch = \"exact\"\noperator = \"nobody\"\nsource = \"x\"\n");
        assert!(matches!(e, Err(RulesError::UnknownOwner { .. })));
        let e = load("[[range]]\ncidr = \"17.0.0.0/8\"\nowner = \"nobody\"\nsource = \"x\"\n");
        assert!(matches!(e, Err(RulesError::UnknownOwner { .. })));
    }

    #[test]
    fn rejects_duplicates() {
        let r =
            "[[rule]]\npattern = \"a.com\"\nmatch = \"exact\"\nowner = \"apple\"\nsource = \"x\"\n";
        let e = load(&format!("{r}{r}"));
        assert_eq!(e.unwrap_err(), RulesError::Duplicate("a.com".into()));
        // Same pattern with a different kind or path is not a duplicate.
        let s = "[[rule]]\npattern = \"a.com\"\nmatch = \"suffix\"\nowner = \"apple\"\nsource = \"x\"\n";
        let p = "[[rule]]\npattern = \"a.com\"\nmatch = \"exact\"\npath = \"/x\"\nrole = \"web\"\nsource = \"x\"\n";
        assert!(load(&format!("{r}{s}{p}")).is_ok());
        let g = "[[range]]\ncidr = \"17.0.0.0/8\"\nowner = \"apple\"\nsource = \"x\"\n";
        assert!(matches!(
            load(&format!("{g}{g}")),
            Err(RulesError::Duplicate(_))
        ));
    }

    #[test]
    fn rejects_unnormalised_patterns() {
        for bad in [
            "Apple.com",
            "apple.com.",
            "a..com",
            "",
            "bücher.de",
            "*.apple.com",
            "a com",
        ] {
            let e = load(&format!(
                "[[rule]]\npattern = \"{bad}\"\nmatch = \"exact\"\nowner = \"apple\"\nsource = \"x\"\n"
            ));
            assert_eq!(
                e.unwrap_err(),
                RulesError::NotNormalised(bad.into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn rejects_other_mistakes() {
        let e = load(
            "[[rule]]\npattern = \"a.com\"\nmatch = \"exact\"\nrole = \"bogus\"\nsource = \"x\"\n",
        );
        assert!(matches!(e, Err(RulesError::UnknownRole { .. })));
        let e = load(
            "[[rule]]\npattern = \"a.com\"\nmatch = \"regex\"\nrole = \"web\"\nsource = \"x\"\n",
        );
        assert!(matches!(e, Err(RulesError::Parse(_))));
        let e = load("[[rule]]\npattern = \"a.com\"\nmatch = \"exact\"\nsource = \"x\"\n");
        assert!(matches!(e, Err(RulesError::Empty(_))));
        let e = load("[[rule]]\npattern = \"a.com\"\nmatch = \"exact\"\npath = \"x\"\nrole = \"web\"\nsource = \"x\"\n");
        assert!(matches!(e, Err(RulesError::BadPath { .. })));
        let e = load("[[rule]]\npattern = \"a.com\"\nmatch = \"exact\"\nrole = \"web\"\nsource = \"x\"\ntypo = 1\n");
        assert!(matches!(e, Err(RulesError::Parse(_))));
        for cidr in ["17.0.0.1/8", "17.0.0.0/33", "nonsense", "17.0.0.0"] {
            let e = load(&format!(
                "[[range]]\ncidr = \"{cidr}\"\nowner = \"apple\"\nsource = \"x\"\n"
            ));
            assert!(matches!(e, Err(RulesError::BadRange(_))), "{cidr}");
        }
        assert!(matches!(
            Rules::load_str("schema = 2\n"),
            Err(RulesError::UnsupportedSchema(2))
        ));
        assert!(matches!(
            Rules::load_str("schema = 1\n[owners.Bad]\nname=\"x\"\nsource=\"x\"\n"),
            Err(RulesError::BadOwnerId(_))
        ));
        assert!(matches!(
            Rules::load_str("not toml ["),
            Err(RulesError::Parse(_))
        ));
    }

    #[test]
    fn cidr_contains() {
        let (addr, prefix) = parse_cidr("17.0.0.0/8").unwrap();
        let r = Range {
            addr,
            prefix,
            owner: "apple".into(),
            operator: None,
            role: None,
            source: "P".into(),
        };
        assert!(r.contains("17.255.0.1".parse().unwrap()));
        assert!(r.contains("::ffff:17.1.1.1".parse().unwrap()));
        assert!(!r.contains("18.0.0.1".parse().unwrap()));
        let (addr, prefix) = parse_cidr("2620:149::/32").unwrap();
        let r = Range {
            addr,
            prefix,
            owner: "apple".into(),
            operator: None,
            role: None,
            source: "N".into(),
        };
        assert!(r.contains("2620:149:a44::1".parse().unwrap()));
        assert!(!r.contains("2620:150::1".parse().unwrap()));
        assert!(parse_cidr("0.0.0.0/0").is_some());
    }
}
