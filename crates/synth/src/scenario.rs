//! The scenario file: a client, its resolver, and a timeline of contacts.
//!
//! ```toml
//! name = "macOS Catalina install"
//! start = 1571162400          # Unix seconds of the first packet
//! [client]
//! ip = "192.168.1.23"
//! resolver = "192.168.1.1"
//! mac = "a4:83:e7:12:34:56"    # optional, as the rest of [client]: Catalina's stack
//! ttl = 64
//! window = 65535
//! wscale = 6
//! ecn = true
//! layout = "catalina"         # catalina | linux | windows
//! [[contact]]
//! at = 0.0                    # seconds after start
//! host = "time.apple.com"
//! proto = "ntp"               # ntp | https | http | ocsp | quic
//! servers = ["17.253.4.125"]
//! cnames = ["time.g.aaplimg.com"]
//! connections = 1
//! bytes_down = 0              # total over the connections (https/http/ocsp responses)
//! bytes_up = 0                # extra upload, total
//! path = "/"                  # http and ocsp
//! spacing = 0.05              # seconds between connection starts
//! ```

use std::net::Ipv4Addr;

use serde::Deserialize;

/// Why a scenario was refused.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Not valid TOML, or a field is wrong.
    #[error("scenario: {0}")]
    Parse(String),
    /// A contact that cannot be generated.
    #[error("scenario contact {host:?}: {message}")]
    Contact {
        /// The contact's host.
        host: String,
        /// What is wrong.
        message: String,
    },
}

/// A whole scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Human name.
    pub name: String,
    /// Unix seconds of the first packet.
    pub start: u64,
    /// The machine under study.
    pub client: Client,
    /// The timeline.
    #[serde(rename = "contact")]
    pub contacts: Vec<Contact>,
}

/// The machine under study. The stack fields default to macOS 10.15 Catalina's SYN.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// Its address.
    pub ip: Ipv4Addr,
    /// Its DNS resolver.
    pub resolver: Ipv4Addr,
    /// MAC address, `a4:83:e7:12:34:56`.
    #[serde(default)]
    pub mac: Option<String>,
    /// TTL of its packets (64).
    #[serde(default)]
    pub ttl: Option<u8>,
    /// SYN window (65535).
    #[serde(default)]
    pub window: Option<u16>,
    /// SYN window scale (6).
    #[serde(default)]
    pub wscale: Option<u8>,
    /// Whether its SYN offers ECN (true).
    #[serde(default)]
    pub ecn: Option<bool>,
    /// SYN option layout: `catalina`, `linux` or `windows`.
    #[serde(default)]
    pub layout: Option<String>,
}

impl Client {
    /// The stack profile these fields describe.
    pub fn profile(&self) -> Result<crate::build::StackProfile, ScenarioError> {
        let mut p = crate::build::StackProfile::default();
        if let Some(m) = &self.mac {
            let bytes: Vec<u8> = m
                .split(':')
                .filter_map(|x| u8::from_str_radix(x, 16).ok())
                .collect();
            p.mac = bytes
                .try_into()
                .map_err(|_| ScenarioError::Parse(format!("client mac {m:?}")))?;
        }
        p.ttl = self.ttl.unwrap_or(p.ttl);
        p.window = self.window.unwrap_or(p.window);
        p.wscale = self.wscale.unwrap_or(p.wscale);
        p.ecn = self.ecn.unwrap_or(p.ecn);
        if let Some(l) = &self.layout {
            if !matches!(l.as_str(), "catalina" | "linux" | "windows") {
                return Err(ScenarioError::Parse(format!("client layout {l:?}")));
            }
            p.layout = l.clone();
        }
        Ok(p)
    }
}

/// The protocol of a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// NTP over UDP 123 (mode 3 request, mode 4 reply).
    Ntp,
    /// TLS over TCP 443, ClientHello with SNI and ALPN.
    Https,
    /// HTTP/1.1 GET over TCP 80.
    Http,
    /// OCSP over HTTP: a POST of an OCSP request.
    Ocsp,
    /// QUIC v1 on UDP 443: an encrypted client Initial with the ClientHello, then the
    /// server's (opaque) short-header packets.
    Quic,
}

fn one() -> u32 {
    1
}

fn spacing() -> f64 {
    0.05
}

/// One line of the timeline: at `at`, `connections` connections to `host`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Seconds after the start.
    pub at: f64,
    /// The name looked up and contacted.
    pub host: String,
    /// Protocol.
    pub proto: Proto,
    /// Server addresses, used in turn.
    pub servers: Vec<Ipv4Addr>,
    /// CNAME chain of the DNS answer.
    #[serde(default)]
    pub cnames: Vec<String>,
    /// Connections (or NTP exchanges).
    #[serde(default = "one")]
    pub connections: u32,
    /// Bytes the servers send, in total over the connections.
    #[serde(default)]
    pub bytes_down: u64,
    /// Extra bytes the client uploads, in total.
    #[serde(default)]
    pub bytes_up: u64,
    /// HTTP path.
    #[serde(default)]
    pub path: Option<String>,
    /// Seconds between connection starts.
    #[serde(default = "spacing")]
    pub spacing: f64,
}

impl Scenario {
    /// Parses and checks a scenario.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        let s: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse(e.to_string()))?;
        s.client.profile()?;
        for c in &s.contacts {
            let bad = |message: &str| {
                Err(ScenarioError::Contact {
                    host: c.host.clone(),
                    message: message.to_string(),
                })
            };
            if c.servers.is_empty() {
                return bad("no server address");
            }
            if !(c.at.is_finite() && c.at >= 0.0 && c.spacing.is_finite() && c.spacing >= 0.0) {
                return bad("times must be finite and not negative");
            }
            if c.connections == 0 {
                return bad("zero connections");
            }
        }
        Ok(s)
    }
}
