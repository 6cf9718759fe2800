//! Operating-system guesses from TCP SYN and SYN-ACK signatures, matched the way p0f v3 matches
//! them: the option layout must be equal; quirks equal (or, fuzzily, only `df`/`id+` missing or
//! `ecn` added); IP options length, MSS, window scale, payload class and window (a value, `*`,
//! `%N`, `mss*N`, `mtu*N`) as the signature says; TTL at most 35 hops below the signature's
//! (else fuzzy). A specific exact match wins, then a generic exact one, then the first fuzzy.
//!
//! Signatures come from the project's own `data/syn-signatures.toml` (facts, each with a source)
//! or from a p0f `p0f.fp` file (`--p0f-db`).

use std::collections::BTreeSet;

use serde::Deserialize;

/// Farthest a host may be from the signature's initial TTL before the match is fuzzy.
const MAX_DIST: u8 = 35;

/// Why a signature file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OsDbError {
    /// A line or entry that does not parse.
    #[error("signature file line {line}: {message}")]
    Parse {
        /// 1-based line (0 for TOML errors without one).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// How a guess was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsConfidence {
    /// A specific signature matched exactly.
    Exact,
    /// A generic signature matched exactly.
    Generic,
    /// Matched with tolerated differences (quirks, TTL distance).
    Fuzzy,
}

impl OsConfidence {
    /// `exact`, `generic`, `fuzzy`.
    pub fn as_str(self) -> &'static str {
        match self {
            OsConfidence::Exact => "exact",
            OsConfidence::Generic => "generic",
            OsConfidence::Fuzzy => "fuzzy",
        }
    }
}

/// A guess: the label's name and flavour (`Mac OS X`, `Linux 3.11 and newer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsGuess {
    /// Name and flavour, as p0f prints them.
    pub os: String,
    /// How it was matched.
    pub confidence: OsConfidence,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum WSize {
    Any,
    Value(u32),
    Mod(u32),
    Mss(u32),
    Mtu(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Sig {
    os: String,
    generic: bool,
    ver: Option<u8>,
    ittl: u8,
    bad_ttl: bool,
    olen: u8,
    mss: Option<u32>,
    wsize: WSize,
    scale: Option<u32>,
    olayout: String,
    quirks: BTreeSet<String>,
    payload: Option<bool>,
}

/// A set of signatures for SYNs (`request`) and SYN-ACKs (`response`).
#[derive(Debug, Clone, Default)]
pub struct OsDb {
    request: Vec<Sig>,
    response: Vec<Sig>,
}

/// The project's signature file, embedded.
pub const BUILTIN_SYN_TEXT: &str = include_str!("../../../data/syn-signatures.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: u32,
    #[serde(rename = "signature", default)]
    signatures: Vec<RawSig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSig {
    kind: String,
    label: String,
    sig: String,
    source: String,
}

/// The observed side of a match.
struct Observed<'a> {
    ver: u8,
    ttl: u8,
    olen: u8,
    mss: u32,
    wsize: &'a str,
    window: u32,
    scale: u32,
    olayout: &'a str,
    quirks: BTreeSet<&'a str>,
    payload: bool,
}

fn parse_label(label: &str) -> Result<(String, bool), String> {
    // type:class:name:flavor
    let parts: Vec<&str> = label.splitn(4, ':').collect();
    if parts.len() != 4 {
        return Err(format!("label {label:?} is not type:class:name:flavor"));
    }
    let os = if parts[3].is_empty() {
        parts[2].to_string()
    } else {
        format!("{} {}", parts[2], parts[3])
    };
    Ok((os, parts[0] == "g"))
}

fn parse_sig(os: &str, generic: bool, text: &str) -> Result<Sig, String> {
    let f: Vec<&str> = text.trim().split(':').collect();
    if f.len() != 8 {
        return Err(format!("signature {text:?} does not have 8 fields"));
    }
    let num = |s: &str| s.parse::<u32>().map_err(|_| format!("{s:?} in {text:?}"));
    let any_num = |s: &str| if s == "*" { Ok(None) } else { num(s).map(Some) };
    let (ittl_s, bad_ttl) = match f[1].strip_suffix('-') {
        Some(t) => (t, true),
        None => (f[1], false),
    };
    let ittl_s = ittl_s.split('+').next().unwrap_or(ittl_s);
    let (ws, scale) = f[4]
        .split_once(',')
        .ok_or_else(|| format!("window {:?} without scale", f[4]))?;
    let wsize = if ws == "*" {
        WSize::Any
    } else if let Some(n) = ws.strip_prefix("mss*") {
        WSize::Mss(num(n)?)
    } else if let Some(n) = ws.strip_prefix("mtu*") {
        WSize::Mtu(num(n)?)
    } else if let Some(n) = ws.strip_prefix('%') {
        WSize::Mod(num(n)?.max(1))
    } else {
        WSize::Value(num(ws)?)
    };
    Ok(Sig {
        os: os.to_string(),
        generic,
        ver: any_num(f[0])?.map(|v| v as u8),
        ittl: num(ittl_s)?.min(255) as u8,
        bad_ttl,
        olen: num(f[2])?.min(255) as u8,
        mss: any_num(f[3])?,
        wsize,
        scale: any_num(scale)?,
        olayout: f[5].to_string(),
        quirks: f[6]
            .split(',')
            .filter(|q| !q.is_empty())
            .map(str::to_string)
            .collect(),
        payload: match f[7] {
            "0" => Some(false),
            "+" => Some(true),
            _ => None,
        },
    })
}

impl OsDb {
    /// The project's signatures, `data/syn-signatures.toml`, parsed once.
    pub fn builtin() -> &'static OsDb {
        static DB: std::sync::OnceLock<OsDb> = std::sync::OnceLock::new();
        DB.get_or_init(|| {
            OsDb::parse_toml(BUILTIN_SYN_TEXT).expect("data/syn-signatures.toml is tested")
        })
    }

    /// Parses the project's TOML format.
    pub fn parse_toml(text: &str) -> Result<OsDb, OsDbError> {
        let err = |message: String| OsDbError::Parse { line: 0, message };
        let raw: RawFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if raw.schema != 1 {
            return Err(err(format!("unsupported schema {}", raw.schema)));
        }
        let mut db = OsDb::default();
        for s in raw.signatures {
            if s.source.trim().is_empty() {
                return Err(err(format!("{}: no source", s.sig)));
            }
            let (os, generic) = parse_label(&s.label).map_err(err)?;
            let sig = parse_sig(&os, generic, &s.sig).map_err(err)?;
            match s.kind.as_str() {
                "syn" => db.request.push(sig),
                "synack" => db.response.push(sig),
                k => return Err(err(format!("kind {k:?} is not syn or synack"))),
            }
        }
        Ok(db)
    }

    /// Parses a p0f v3 `p0f.fp` file: the `[tcp:request]` and `[tcp:response]` sections.
    pub fn parse_p0f(text: &str) -> Result<OsDb, OsDbError> {
        let mut db = OsDb::default();
        let mut section = "";
        let mut label: Option<(String, bool)> = None;
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with(';') {
                continue;
            }
            let err = |message: String| OsDbError::Parse {
                line: i + 1,
                message,
            };
            if l.starts_with('[') {
                section = match l {
                    "[tcp:request]" => "request",
                    "[tcp:response]" => "response",
                    _ => "",
                };
                label = None;
                continue;
            }
            if section.is_empty() {
                continue;
            }
            let Some((key, value)) = l.split_once('=') else {
                return Err(err(format!("{l:?} is not key = value")));
            };
            match key.trim() {
                "label" => label = Some(parse_label(value.trim()).map_err(err)?),
                "sig" => {
                    let Some((os, generic)) = &label else {
                        return Err(err("sig before any label".into()));
                    };
                    let sig = parse_sig(os, *generic, value).map_err(err)?;
                    if section == "request" {
                        db.request.push(sig);
                    } else {
                        db.response.push(sig);
                    }
                }
                _ => {}
            }
        }
        Ok(db)
    }

    /// Signatures loaded (SYN, SYN-ACK).
    pub fn len(&self) -> (usize, usize) {
        (self.request.len(), self.response.len())
    }

    /// Whether no signature is loaded.
    pub fn is_empty(&self) -> bool {
        self.request.is_empty() && self.response.is_empty()
    }

    /// The guess for a SYN (`syn`) or SYN-ACK with p0f raw signature `raw` and the segment's
    /// `window`; `None` when nothing matches or `raw` does not parse.
    pub fn guess(&self, syn: bool, raw: &str, window: u16) -> Option<OsGuess> {
        let obs = observe(raw, window)?;
        let sigs = if syn { &self.request } else { &self.response };
        let mut generic: Option<&Sig> = None;
        let mut fuzzy: Option<&Sig> = None;
        for s in sigs {
            let Some(is_fuzzy) = matches(s, &obs) else {
                continue;
            };
            if is_fuzzy {
                fuzzy = fuzzy.or(Some(s));
            } else if !s.generic {
                return Some(OsGuess {
                    os: s.os.clone(),
                    confidence: OsConfidence::Exact,
                });
            } else {
                generic = generic.or(Some(s));
            }
        }
        generic
            .map(|s| (s, OsConfidence::Generic))
            .or(fuzzy.map(|s| (s, OsConfidence::Fuzzy)))
            .map(|(s, confidence)| OsGuess {
                os: s.os.clone(),
                confidence,
            })
    }
}

fn observe(raw: &str, window: u16) -> Option<Observed<'_>> {
    let f: Vec<&str> = raw.split(':').collect();
    if f.len() != 8 {
        return None;
    }
    let (ws, scale) = f[4].split_once(',')?;
    Some(Observed {
        ver: f[0].parse().ok()?,
        ttl: f[1].split('+').next()?.parse().ok()?,
        olen: f[2].parse().ok()?,
        mss: f[3].parse().ok()?,
        wsize: ws,
        window: u32::from(window),
        scale: scale.parse().ok()?,
        olayout: f[5],
        quirks: f[6].split(',').filter(|q| !q.is_empty()).collect(),
        payload: f[7] == "+",
    })
}

/// `None` when `s` does not match; `Some(fuzzy)` when it does.
fn matches(s: &Sig, o: &Observed<'_>) -> Option<bool> {
    if s.olayout != o.olayout {
        return None;
    }
    let mut fuzzy = false;
    let theirs: BTreeSet<&str> = s.quirks.iter().map(String::as_str).collect();
    if theirs != o.quirks {
        let deleted = theirs
            .difference(&o.quirks)
            .any(|q| !matches!(*q, "df" | "id+"));
        let added = o.quirks.difference(&theirs).any(|q| *q != "ecn");
        if deleted || added {
            return None;
        }
        fuzzy = true;
    }
    if s.olen != o.olen {
        return None;
    }
    if s.bad_ttl {
        if s.ittl < o.ttl {
            return None;
        }
    } else if s.ittl < o.ttl || s.ittl - o.ttl > MAX_DIST {
        fuzzy = true;
    }
    if s.mss.is_some_and(|m| m != o.mss) || s.scale.is_some_and(|w| w != o.scale) {
        return None;
    }
    if s.payload.is_some_and(|p| p != o.payload) || s.ver.is_some_and(|v| v != o.ver) {
        return None;
    }
    let ok = match &s.wsize {
        WSize::Any => true,
        WSize::Value(v) => *v == o.window,
        WSize::Mod(m) => o.window % m == 0,
        WSize::Mss(n) => o.wsize == format!("mss*{n}"),
        WSize::Mtu(n) => o.wsize == format!("mtu*{n}"),
    };
    ok.then_some(fuzzy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_database_names_the_diary_mac() {
        let db = OsDb::builtin();
        assert!(db.len().0 >= 6, "{:?}", db.len());
        let g = db
            .guess(
                true,
                "4:64+0:0:1460:65535,6:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+,ecn:0",
                65535,
            )
            .unwrap();
        assert_eq!(g.os, "macOS/iOS");
        let w = db
            .guess(
                true,
                "4:128+0:0:1460:mss*44,8:mss,nop,ws,nop,nop,sok:df,id+:0",
                64240,
            )
            .unwrap();
        assert!(w.os.starts_with("Windows"), "{w:?}");
        assert!(db.guess(true, "4:64+0:0:1460:1,0:?9:df:0", 1).is_none());
    }

    #[test]
    fn p0f_rules_exact_generic_fuzzy() {
        let text = "[tcp:request]\nlabel = s:unix:Linux:3.11 and newer\nsig = *:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0\nlabel = g:unix:Mac OS X:\nsig = *:64:0:*:65535,*:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0\n[tcp:response]\nlabel = s:win:Windows:7 or 8\nsig = *:128:0:*:8192,0:mss,nop,nop,sok:df,id+:0\n";
        let db = OsDb::parse_p0f(text).unwrap();
        assert_eq!(db.len(), (2, 1));
        let linux = db
            .guess(
                true,
                "4:64+0:0:1460:mss*20,10:mss,sok,ts,nop,ws:df,id+:0",
                29200,
            )
            .unwrap();
        assert_eq!(
            (linux.os.as_str(), linux.confidence),
            ("Linux 3.11 and newer", OsConfidence::Exact)
        );
        // ECN added, id+ missing: fuzzy; far TTL: fuzzy.
        let mac = db
            .guess(
                true,
                "4:64+0:0:1460:65535,7:mss,nop,ws,nop,nop,ts,sok,eol+1:df,ecn:0",
                65535,
            )
            .unwrap();
        assert_eq!(
            (mac.os.as_str(), mac.confidence),
            ("Mac OS X", OsConfidence::Fuzzy)
        );
        let generic = db
            .guess(
                true,
                "4:60+4:0:1460:65535,3:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0",
                65535,
            )
            .unwrap();
        assert_eq!(generic.confidence, OsConfidence::Generic);
        assert!(db
            .guess(
                false,
                "4:120+8:0:1460:8192,0:mss,nop,nop,sok:df,id+:0",
                8192
            )
            .is_some());
        assert!(OsDb::parse_p0f("[tcp:request]\nsig = 1:2\n").is_err());
        assert!(OsDb::parse_p0f("[tcp:request]\nlabel = s:x:y:z\nsig = *:64:0\n").is_err());
    }
}
