//! `phonehome-diff`: what changed between two captures (or two sets of captures, or extractor
//! output folders). Exit status as diff(1): 0 nothing differs beyond the thresholds, 1 something
//! does, 2 an error.

/// mimalloc: the extractor allocates small strings by the million, where it is much faster
/// than the system allocator.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};

use phonehome_domains::{Rules, Vendor};
use phonehome_report::diff::{Diff, Filter, Level, Side, Status};
use phonehome_report::diffout;
use phonehome_report::write::text_rows;
use phonehome_report::{write_tables, Format, Labeller, WriteOptions};

/// What changed between A and B: hosts (or domains, owners, categories, roles) added, removed
/// and changed, with connections and bytes on both sides; SYN and TLS fingerprints, local names
/// and the protocol mix of the client.
///
/// A side is a capture, an extractor output folder (phonehome-extract -o DIR), or a
/// summary.json inside one. Exit status: 0 no difference beyond the thresholds, 1 differences,
/// 2 an error.
#[derive(Debug, Parser)]
#[command(name = "phonehome-diff", version, max_term_width = 100)]
struct Args {
    /// Side A and side B (or use --a / --b for several files per side).
    #[arg(value_name = "SIDE", num_args = 0..=2)]
    sides: Vec<PathBuf>,
    /// Files of side A (several are added together).
    #[arg(long = "a", value_name = "FILE", num_args = 1..)]
    a: Vec<PathBuf>,
    /// Files of side B.
    #[arg(long = "b", value_name = "FILE", num_args = 1..)]
    b: Vec<PathBuf>,
    /// Level of comparison.
    #[arg(long, value_enum, default_value_t = ByArg::Host)]
    by: ByArg,
    /// Ignore keys with fewer bytes (both ways, the larger side).
    #[arg(long, default_value_t = 0, value_name = "BYTES")]
    min_bytes: u64,
    /// Ignore keys with fewer connections (the larger side).
    #[arg(long, default_value_t = 0, value_name = "N")]
    min_connections: u64,
    /// Leave out local-network traffic.
    #[arg(long)]
    ignore_local: bool,
    /// Only these changes.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<OnlyArg>,
    /// Write the rows as CSV (or --format) to FILE.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Format on stdout: the terminal report (default), json, or markdown.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Vendor under study.
    #[arg(long, default_value = "apple")]
    vendor: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ByArg {
    Host,
    Domain,
    Owner,
    Category,
    Role,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OnlyArg {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Json,
    Markdown,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(true) => ExitCode::from(1),
        Ok(false) => ExitCode::from(0),
        Err(e) => {
            eprintln!(
                "phonehome-diff: {}",
                phonehome_report::sanitize::terminal(&format!("{e:#}"))
            );
            ExitCode::from(2)
        }
    }
}

/// Reads one file or folder into `side`.
fn load(path: &Path, level: Level, labeller: &Labeller<'_>, side: &mut Side) -> Result<()> {
    let t = phonehome_report::input::read(path, labeller)
        .with_context(|| path.display().to_string())?;
    for w in &t.warnings {
        eprintln!(
            "phonehome-diff: warning: {}",
            phonehome_report::sanitize::terminal(w)
        );
    }
    side.add(
        level,
        &t.hosts,
        &t.apps,
        &t.fingerprints,
        &t.ja4,
        &t.local_names,
    );
    Ok(())
}

fn run(args: &Args) -> Result<bool> {
    let (a_files, b_files) = match (args.sides.as_slice(), args.a.is_empty(), args.b.is_empty()) {
        ([a, b], true, true) => (vec![a.clone()], vec![b.clone()]),
        ([], false, false) => (args.a.clone(), args.b.clone()),
        _ => bail!("give two sides (A B), or --a FILE... and --b FILE..."),
    };
    let vendor = match args.vendor.as_str() {
        v @ ("apple" | "microsoft" | "google") => Vendor::new(v),
        v => bail!("unknown vendor {v:?}"),
    };
    let rules = Rules::builtin();
    let labeller = Labeller::new(rules, vendor);
    let level = match args.by {
        ByArg::Host => Level::Host,
        ByArg::Domain => Level::Domain,
        ByArg::Owner => Level::Owner,
        ByArg::Category => Level::Category,
        ByArg::Role => Level::Role,
    };
    let mut sides = [Side::default(), Side::default()];
    for (side, files) in sides.iter_mut().zip([&a_files, &b_files]) {
        for f in files {
            load(f, level, &labeller, side)?;
        }
    }
    let filter = Filter {
        min_bytes: args.min_bytes,
        min_connections: args.min_connections,
        ignore_local: args.ignore_local,
        only: args
            .only
            .iter()
            .map(|o| match o {
                OnlyArg::Added => Status::Added,
                OnlyArg::Removed => Status::Removed,
                OnlyArg::Changed => Status::Changed,
            })
            .collect(),
    };
    let diff = Diff::new(&sides[0], &sides[1], &filter);
    let name = |files: &[PathBuf]| {
        files
            .iter()
            .map(|f| {
                f.file_name().map_or_else(
                    || f.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (an, bn) = (name(&a_files), name(&b_files));
    let table = diffout::table(&diff);
    if let Some(out) = &args.output {
        let format = match args.format {
            Some(FormatArg::Json) => Format::Json,
            _ => Format::Csv,
        };
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(out).with_context(|| out.display().to_string())?,
        );
        write_tables(
            &mut f,
            &[(None, &table)],
            WriteOptions { format, raw: false },
        )?;
        f.flush()?;
    }
    let stdout = std::io::stdout();
    let mut o = stdout.lock();
    match args.format {
        Some(FormatArg::Markdown) => {
            o.write_all(diffout::render_markdown(&diff, &an, &bn).as_bytes())?
        }
        Some(FormatArg::Json) if args.output.is_none() => {
            let rows = text_rows(&table);
            let v = serde_json::json!({
                "a": an, "b": bn,
                "rows": rows,
                "syn_signatures": {"only_a": diff.syn_signatures.0, "only_b": diff.syn_signatures.1},
                "ja4": {"only_a": diff.ja4.0, "only_b": diff.ja4.1},
                "local_names": {"only_a": diff.local_names.0, "only_b": diff.local_names.1},
                "apps": diff.apps.iter().map(|(k, (x, y))| (k.clone(), serde_json::json!([x, y]))).collect::<BTreeMap<_, _>>(),
            });
            serde_json::to_writer_pretty(&mut o, &v)?;
            writeln!(o)?;
        }
        _ => {
            let bold = std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            o.write_all(diffout::render_terminal(&diff, &an, &bn, bold).as_bytes())?;
        }
    }
    Ok(diff.differs())
}
