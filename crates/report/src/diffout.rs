//! A diff written out: the terminal report read top to bottom, Markdown for a blog post or a
//! ticket, and the rows as CSV/JSON.

use std::fmt::Write as _;

use crate::diff::{Diff, Row, Status};
use crate::sanitize::terminal;
use crate::tables::{Cell, RowSource, Table};
use crate::term::human_bytes;

/// Rows shown per section of the report.
pub const TOP: usize = 20;

fn signed_bytes(d: i128) -> String {
    let sign = if d < 0 { "-" } else { "+" };
    format!("{sign}{}", human_bytes(d.unsigned_abs() as u64))
}

fn rel(a: u64, b: u64) -> String {
    if a == 0 {
        return "new".into();
    }
    format!("{:+.0}%", (b as f64 - a as f64) * 100.0 / a as f64)
}

fn first(s: Option<f64>) -> String {
    s.map_or_else(|| "-".into(), |v| format!("{v:.1}"))
}

/// Column names of `diff.csv`.
pub const DIFF_COLUMNS: &[&str] = &[
    "key",
    "status",
    "category",
    "owner",
    "connections_a",
    "connections_b",
    "connections_delta",
    "bytes_down_a",
    "bytes_down_b",
    "bytes_up_a",
    "bytes_up_b",
    "bytes_delta",
    "bytes_delta_rel",
    "packets_a",
    "packets_b",
    "first_seen_a_s",
    "first_seen_b_s",
];

/// The rows as a table (CSV / JSON).
pub fn table<'a>(d: &Diff) -> Table<'a> {
    let rows = d
        .rows
        .iter()
        .map(|r| {
            let owner = if r.b.owner.is_empty() {
                &r.a.owner
            } else {
                &r.b.owner
            };
            let (ta, tb) = (r.a.bytes_down + r.a.bytes_up, r.b.bytes_down + r.b.bytes_up);
            vec![
                Cell::Text(r.key.clone()),
                Cell::Text(r.status.as_str().into()),
                Cell::Text(r.category().into()),
                Cell::Text(owner.clone()),
                Cell::Int(r.a.connections),
                Cell::Int(r.b.connections),
                Cell::Text(r.delta_connections().to_string()),
                Cell::Int(r.a.bytes_down),
                Cell::Int(r.b.bytes_down),
                Cell::Int(r.a.bytes_up),
                Cell::Int(r.b.bytes_up),
                Cell::Text(r.delta_bytes().to_string()),
                Cell::Text(rel(ta, tb)),
                Cell::Int(r.a.packets),
                Cell::Int(r.b.packets),
                r.a.first_seen_s.map_or(Cell::Empty, Cell::Secs),
                r.b.first_seen_s.map_or(Cell::Empty, Cell::Secs),
            ]
        })
        .collect();
    Table {
        name: "diff",
        columns: DIFF_COLUMNS.to_vec(),
        rows: RowSource::Held(rows),
    }
}

fn section(d: &Diff, s: Status) -> Vec<&Row> {
    d.of(s).take(TOP).collect()
}

/// The terminal report.
pub fn render_terminal(d: &Diff, a_name: &str, b_name: &str, bold: bool) -> String {
    let (b1, b0) = if bold {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("", "")
    };
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{b1}A{b0} = {}\n{b1}B{b0} = {}",
        terminal(a_name),
        terminal(b_name)
    );
    let count = |s| d.of(s).count();
    let _ = writeln!(
        o,
        "\n{} added, {} removed, {} changed, {} same",
        count(Status::Added),
        count(Status::Removed),
        count(Status::Changed),
        count(Status::Same)
    );
    let _ = writeln!(o, "\n{b1}By category{b0} (connections, bytes)");
    for (cat, v) in &d.categories {
        let _ = writeln!(
            o,
            "  {cat:<12} A {:>5}  {:>9}   B {:>5}  {:>9}",
            v[0],
            human_bytes(v[1]),
            v[2],
            human_bytes(v[3])
        );
    }
    for (s, title) in [
        (Status::Added, "Added (only in B)"),
        (Status::Removed, "Removed (only in A)"),
        (Status::Changed, "Changed most"),
    ] {
        let rows = section(d, s);
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(o, "\n{b1}{title}{b0}");
        for r in rows {
            let _ = writeln!(
                o,
                "  {:<44} {:<12} conns {:>4} -> {:<4} bytes {:>9} -> {:<9} ({})",
                terminal(&r.key),
                r.category(),
                r.a.connections,
                r.b.connections,
                human_bytes(r.a.bytes_down + r.a.bytes_up),
                human_bytes(r.b.bytes_down + r.b.bytes_up),
                signed_bytes(r.delta_bytes())
            );
        }
    }
    let sets = [
        ("SYN signatures", &d.syn_signatures),
        ("TLS client fingerprints (JA4)", &d.ja4),
        ("Local names", &d.local_names),
    ];
    for (title, (only_a, only_b)) in sets {
        if only_a.is_empty() && only_b.is_empty() {
            continue;
        }
        let _ = writeln!(o, "\n{b1}{title}{b0}");
        for x in only_a {
            let _ = writeln!(o, "  - {}", terminal(x));
        }
        for x in only_b {
            let _ = writeln!(o, "  + {}", terminal(x));
        }
    }
    let _ = writeln!(o, "\n{b1}Protocol mix{b0} (share of flows, A -> B)");
    for (app, (x, y)) in &d.apps {
        let _ = writeln!(o, "  {:<8} {x:>5.1}% -> {y:>5.1}%", terminal(app));
    }
    o
}

fn md_cell(s: &str) -> String {
    terminal(s).replace('|', "\\|")
}

/// Markdown: a summary, then tables of added, removed and changed keys.
pub fn render_markdown(d: &Diff, a_name: &str, b_name: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "## {} → {}\n", md_cell(a_name), md_cell(b_name));
    let count = |s| d.of(s).count();
    let _ = writeln!(
        o,
        "{} added, {} removed, {} changed, {} unchanged.\n",
        count(Status::Added),
        count(Status::Removed),
        count(Status::Changed),
        count(Status::Same)
    );
    let _ = writeln!(
        o,
        "| category | connections A | bytes A | connections B | bytes B |"
    );
    let _ = writeln!(o, "| --- | ---: | ---: | ---: | ---: |");
    for (cat, v) in &d.categories {
        let _ = writeln!(
            o,
            "| {cat} | {} | {} | {} | {} |",
            v[0],
            human_bytes(v[1]),
            v[2],
            human_bytes(v[3])
        );
    }
    for (s, title) in [
        (Status::Added, "Added"),
        (Status::Removed, "Removed"),
        (Status::Changed, "Changed"),
    ] {
        let rows = section(d, s);
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(o, "\n### {title}\n");
        let _ = writeln!(
            o,
            "| host | category | connections | bytes | first seen (s) |"
        );
        let _ = writeln!(o, "| --- | --- | ---: | ---: | ---: |");
        for r in rows {
            let _ = writeln!(
                o,
                "| {} | {} | {} → {} | {} → {} | {} → {} |",
                md_cell(&r.key),
                r.category(),
                r.a.connections,
                r.b.connections,
                human_bytes(r.a.bytes_down + r.a.bytes_up),
                human_bytes(r.b.bytes_down + r.b.bytes_up),
                first(r.a.first_seen_s),
                first(r.b.first_seen_s)
            );
        }
    }
    o
}
