//! The terminal table: hosts grouped vendor / third-party / local / unknown with totals per
//! group, reading like the diary's prose.

use std::fmt::Write as _;

use phonehome_domains::Category;
use phonehome_flows::{CaptureSummary, HostStats};

use crate::label::Labels;
use crate::sanitize::terminal;

/// Host order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// Most connections first.
    Connections,
    /// Most bytes (both ways) first.
    Bytes,
    /// Earliest first contact first.
    FirstSeen,
}

/// How to draw the table.
#[derive(Debug, Clone)]
pub struct TableOptions {
    /// Order within a group.
    pub sort: SortBy,
    /// Most hosts shown per group (all when `None`); totals always count every host.
    pub top: Option<usize>,
    /// ANSI colour and bold.
    pub color: bool,
    /// Name of the vendor under study, for the first group's title.
    pub vendor_name: String,
}

/// Bytes in human units (decimal: kB, MB, GB), as `ls -h --si` would.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Host keys in output order: grouped by category, then by `sort`, ties by name.
pub fn host_order<'a>(s: &'a CaptureSummary, labels: &Labels, sort: SortBy) -> Vec<&'a str> {
    let mut keys: Vec<(&'a String, &'a HostStats)> = s.hosts.iter().collect();
    let cat = |k: &String| {
        labels
            .hosts
            .get(k)
            .map_or(Category::Unknown, |l| l.category)
    };
    keys.sort_by(|(ka, a), (kb, b)| {
        cat(ka)
            .cmp(&cat(kb))
            .then_with(|| match sort {
                SortBy::Connections => b.connections.cmp(&a.connections),
                SortBy::Bytes => {
                    (b.up.ip_bytes + b.down.ip_bytes).cmp(&(a.up.ip_bytes + a.down.ip_bytes))
                }
                SortBy::FirstSeen => a.first_ns.cmp(&b.first_ns),
            })
            .then_with(|| ka.cmp(kb))
    });
    keys.into_iter().map(|(k, _)| k.as_str()).collect()
}

fn group_title(c: Category, vendor: &str) -> String {
    match c {
        Category::Vendor => format!("{vendor} (first-party)"),
        Category::ThirdParty => "Third-party".into(),
        Category::Local => "Local network".into(),
        _ => "Unknown".into(),
    }
}

const HEAD: [&str; 8] = [
    "host", "owner", "role", "conns", "down", "up", "first_s", "apps",
];
const MAX_HOST: usize = 44;
const MAX_OWNER: usize = 24;

fn clip(s: &str, n: usize) -> String {
    let s = terminal(s);
    if s.chars().count() <= n {
        s.into_owned()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// Renders the table for one capture.
pub fn render(s: &CaptureSummary, labels: &Labels, opts: &TableOptions) -> String {
    let order = host_order(s, labels, opts.sort);
    let first = s.first_ts.map_or(0, |t| t.as_nanos());
    let mut groups: Vec<(Category, Vec<[String; 8]>, [u64; 4])> = Vec::new();
    for k in &order {
        let Some(h) = s.hosts.get(*k) else { continue };
        let l = labels.hosts.get(*k);
        let cat = l.map_or(Category::Unknown, |l| l.category);
        if groups.last().is_none_or(|g| g.0 != cat) {
            groups.push((cat, Vec::new(), [0; 4]));
        }
        let Some(g) = groups.last_mut() else { continue };
        g.2[0] += 1;
        g.2[1] += h.connections;
        g.2[2] += h.down.ip_bytes;
        g.2[3] += h.up.ip_bytes;
        if opts.top.is_some_and(|t| g.1.len() >= t) {
            continue;
        }
        let owner = l.map_or("unknown", |l| l.owner.as_str());
        g.1.push([
            clip(k, MAX_HOST),
            clip(owner, MAX_OWNER),
            clip(l.map_or("unknown", |l| l.role.as_str()), 20),
            h.connections.to_string(),
            human_bytes(h.down.ip_bytes),
            human_bytes(h.up.ip_bytes),
            format!("{:.1}", (h.first_ns.saturating_sub(first)) as f64 / 1e9),
            clip(&h.apps.iter().copied().collect::<Vec<_>>().join(","), 24),
        ]);
    }
    let mut width = HEAD.map(|h| h.chars().count());
    for (_, rows, _) in &groups {
        for r in rows {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let (bold, dim, reset) = if opts.color {
        ("\x1b[1m", "\x1b[2m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String; 8]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(width).enumerate() {
            let pad = w.saturating_sub(c.chars().count());
            // Numbers right-aligned, text left-aligned.
            if (3..=6).contains(&i) {
                l.push_str(&" ".repeat(pad));
                l.push_str(c);
            } else {
                l.push_str(c);
                if i + 1 < cells.len() {
                    l.push_str(&" ".repeat(pad));
                }
            }
            if i + 1 < cells.len() {
                l.push_str("  ");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    let src = s
        .sources
        .iter()
        .map(|x| terminal(&x.file).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        out,
        "{bold}{src}{reset}: {} packets, {} flows, {} hosts, {:.1} s",
        s.counters.frames,
        s.flow_count(),
        s.hosts.len(),
        s.duration_s()
    );
    for (cat, rows, tot) in &groups {
        let _ = writeln!(
            out,
            "\n{bold}{}{reset} — {} hosts, {} connections, {} down, {} up",
            group_title(*cat, &opts.vendor_name),
            tot[0],
            tot[1],
            human_bytes(tot[2]),
            human_bytes(tot[3])
        );
        let head = HEAD.map(String::from);
        out.push_str(dim);
        line(&mut out, &head);
        out.push_str(reset);
        for r in rows {
            line(&mut out, r);
        }
        let shown = rows.len() as u64;
        if shown < tot[0] {
            let _ = writeln!(out, "{dim}… {} more hosts{reset}", tot[0] - shown);
        }
    }
    if !s.local_names.is_empty() {
        let _ = writeln!(
            out,
            "\n{bold}Local names announced{reset} (mDNS, LLMNR, DHCP)"
        );
        let rows: Vec<[String; 3]> = s
            .local_names
            .iter()
            .map(|n| {
                [
                    clip(&n.name, 48),
                    n.address.map_or_else(|| "-".into(), |a| a.to_string()),
                    n.source.to_string(),
                ]
            })
            .collect();
        let w0 = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0);
        let w1 = rows.iter().map(|r| r[1].chars().count()).max().unwrap_or(0);
        for r in rows {
            let _ = writeln!(
                out,
                "  {}{}  {}{}  {}",
                r[0],
                " ".repeat(w0 - r[0].chars().count()),
                r[1],
                " ".repeat(w1 - r[1].chars().count()),
                r[2]
            );
        }
    }
    for src in &s.sources {
        for w in &src.warnings {
            let _ = writeln!(out, "\nwarning: {}", terminal(&w.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(42_000_000), "42.0 MB");
        assert_eq!(human_bytes(1_500), "1.5 kB");
    }
}
