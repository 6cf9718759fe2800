//! Per-host aggregation: the rows of `hosts.csv`, before categorisation.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::records::{DirStats, FlowRecord, NameSource};

/// Everything counted for one host (a name, or a server address with no name).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostStats {
    /// Flows (TCP connections, UDP flows, others).
    pub connections: u64,
    /// TCP connections.
    pub tcp_connections: u64,
    /// UDP flows.
    pub udp_flows: u64,
    /// Client to server.
    pub up: DirStats,
    /// Server to client.
    pub down: DirStats,
    /// First packet of any of its flows (ns since the epoch).
    pub first_ns: i64,
    /// Last packet of any of its flows (ns since the epoch).
    pub last_ns: i64,
    /// Server addresses.
    pub server_ips: BTreeSet<IpAddr>,
    /// Server ports as `proto/port`, e.g. `tcp/443`.
    pub ports: BTreeSet<(u8, u16)>,
    /// Application protocols seen.
    pub apps: BTreeSet<&'static str>,
    /// Name sources seen.
    pub name_sources: BTreeSet<NameSource>,
}

impl HostStats {
    /// Counts one flow (what merging a host of that one flow would do, in place).
    pub fn add_flow(&mut self, f: &FlowRecord) {
        let (start, end) = (f.start.as_nanos(), f.end.as_nanos());
        if self.connections == 0 {
            self.first_ns = start;
            self.last_ns = end;
        } else {
            self.first_ns = self.first_ns.min(start);
            self.last_ns = self.last_ns.max(end);
        }
        self.connections += 1;
        self.tcp_connections += u64::from(f.proto == 6);
        self.udp_flows += u64::from(f.proto == 17);
        self.up.add(&f.up);
        self.down.add(&f.down);
        self.server_ips.insert(f.server.ip);
        self.ports.insert((f.proto, f.server.port));
        if let Some(a) = f.app {
            self.apps.insert(a);
        }
        self.name_sources.insert(f.name_source);
    }

    /// Combines two hosts' counts (sums, minimum/maximum times, unions). Associative and
    /// commutative.
    pub fn merge(&mut self, o: HostStats) {
        let empty = self.connections == 0;
        self.connections += o.connections;
        self.tcp_connections += o.tcp_connections;
        self.udp_flows += o.udp_flows;
        self.up.add(&o.up);
        self.down.add(&o.down);
        if o.connections > 0 {
            self.first_ns = if empty {
                o.first_ns
            } else {
                self.first_ns.min(o.first_ns)
            };
            self.last_ns = if empty {
                o.last_ns
            } else {
                self.last_ns.max(o.last_ns)
            };
        }
        self.server_ips.extend(o.server_ips);
        self.ports.extend(o.ports);
        self.apps.extend(o.apps);
        self.name_sources.extend(o.name_sources);
    }
}

/// Aggregates flows into hosts, keyed by [`FlowRecord::host_key`].
pub fn aggregate<F: std::borrow::Borrow<FlowRecord>>(
    flows: impl IntoIterator<Item = F>,
) -> BTreeMap<String, HostStats> {
    let mut hosts: BTreeMap<String, HostStats> = BTreeMap::new();
    for f in flows {
        let f = f.borrow();
        // A name is looked up without copying it; only a new host's key is allocated.
        match f.host_name() {
            Some(name) => match hosts.get_mut(name) {
                Some(h) => h.add_flow(f),
                None => hosts.entry(name.to_string()).or_default().add_flow(f),
            },
            None => hosts.entry(f.host_key()).or_default().add_flow(f),
        }
    }
    hosts
}
