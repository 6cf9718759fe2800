//! `phonehome-baseline`: learn what is normal from many captures of one kind of machine, then
//! check new captures against it. Exit status of `check`: 0 no deviation at or above
//! `--fail-on`, 1 some, 2 an error.

/// mimalloc: the extractor allocates small strings by the million, where it is much faster
/// than the system allocator.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use phonehome_domains::{Rules, Vendor};
use phonehome_report::baseline::{
    check, quantile, Baseline, CaptureFacts, CheckOptions, Deviation, InputRef, KeyKind, Severity,
};
use phonehome_report::sanitize::terminal;
use phonehome_report::tables::{Cell, Table};
use phonehome_report::term::human_bytes;
use phonehome_report::{input, write_tables, Format, Labeller, WriteOptions};

/// Learn what is normal from many captures of one kind of machine, and flag what is not.
#[derive(Debug, Parser)]
#[command(name = "phonehome-baseline", version, max_term_width = 100)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Learn a baseline from captures, directories of captures, or extractor output folders.
    Build {
        /// Inputs.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
        /// What a key is.
        #[arg(long, value_enum, default_value_t = KeyArg::Host)]
        key: KeyArg,
    },
    /// Merge baselines (associative and commutative: the same as building from all inputs).
    Merge {
        /// Baselines.
        #[arg(required = true)]
        baselines: Vec<PathBuf>,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Check captures against a baseline.
    Check {
        /// The baseline.
        baseline: PathBuf,
        /// Captures (or output folders).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// A key seen in fewer than this share of the baseline's captures is rare.
        #[arg(long, default_value_t = 0.10)]
        rare: f64,
        /// Volumes beyond the baseline's maximum (or p95) times this are outliers.
        #[arg(long, default_value_t = 3.0)]
        factor: f64,
        /// Fail (exit 1) on deviations of at least this severity.
        #[arg(long, value_enum, default_value_t = SeverityArg::High)]
        fail_on: SeverityArg,
        /// Write the deviations as CSV (or --format json) to FILE.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Print JSON instead of the report.
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
    },
    /// Print the "normal" table of a baseline.
    Show {
        /// The baseline.
        baseline: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KeyArg {
    Host,
    Domain,
    Owner,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SeverityArg {
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Json,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(fail) => ExitCode::from(u8::from(fail)),
        Err(e) => {
            eprintln!("phonehome-baseline: {}", terminal(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

/// Files below the inputs: directories that are not extractor output folders are searched for
/// captures.
fn expand(inputs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() && !p.join("summary.json").is_file() {
            let mut stack = vec![p.clone()];
            while let Some(d) = stack.pop() {
                let Ok(rd) = std::fs::read_dir(&d) else {
                    continue;
                };
                for e in rd.flatten() {
                    let q = e.path();
                    if e.file_type().is_ok_and(|t| t.is_dir()) {
                        stack.push(q);
                    } else if q.extension().is_some_and(|x| {
                        matches!(x.to_str(), Some("pcap" | "pcapng" | "cap" | "gz" | "zst"))
                    }) {
                        out.push(q);
                    }
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out
}

fn sha256_of(path: &Path) -> Result<String> {
    let file = if path.is_dir() {
        path.join("summary.json")
    } else {
        path.to_path_buf()
    };
    let bytes = std::fs::read(&file).with_context(|| file.display().to_string())?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn facts(paths: &[PathBuf], kind: KeyKind) -> Result<Vec<(InputRef, CaptureFacts)>> {
    let rules = Rules::builtin();
    let labeller = Labeller::new(rules, Vendor::apple());
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(paths.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let results: Vec<Result<(InputRef, CaptureFacts)>> = paths
        .par_iter()
        .map(|p| {
            let t = input::read(p, &labeller).with_context(|| p.display().to_string())?;
            let r = InputRef {
                name: p.file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                ),
                sha256: sha256_of(p)?,
            };
            bar.inc(1);
            Ok((r, CaptureFacts::new(&t, kind)))
        })
        .collect();
    bar.finish_and_clear();
    results.into_iter().collect()
}

fn read_baseline(p: &Path) -> Result<Baseline> {
    let b: Baseline =
        serde_json::from_slice(&std::fs::read(p).with_context(|| p.display().to_string())?)
            .with_context(|| p.display().to_string())?;
    anyhow::ensure!(
        b.schema_version == phonehome_report::baseline::SCHEMA_VERSION,
        "{}: schema_version {} is not supported",
        p.display(),
        b.schema_version
    );
    Ok(b)
}

fn write_baseline(b: &Baseline, p: &Path) -> Result<()> {
    let mut text = serde_json::to_string_pretty(b)?;
    text.push('\n');
    std::fs::write(p, text).with_context(|| p.display().to_string())
}

fn run(args: Args) -> Result<bool> {
    match args.command {
        Command::Build {
            inputs,
            output,
            key,
        } => {
            let kind = match key {
                KeyArg::Host => KeyKind::Host,
                KeyArg::Domain => KeyKind::Domain,
                KeyArg::Owner => KeyKind::Owner,
            };
            let rules_version = Rules::builtin().as_of().unwrap_or("unknown").to_string();
            let mut b = Baseline::new(kind, &rules_version);
            let mut all = facts(&expand(&inputs), kind)?;
            all.sort_by(|x, y| x.0.cmp(&y.0));
            for (r, f) in all {
                b.add(r, f);
            }
            write_baseline(&b, &output)?;
            eprintln!(
                "phonehome-baseline: {} captures, {} keys",
                b.captures,
                b.keys.len()
            );
            Ok(false)
        }
        Command::Merge { baselines, output } => {
            let mut it = baselines.iter();
            let first = it.next().context("no baseline")?;
            let mut b = read_baseline(first)?;
            for p in it {
                let o = read_baseline(p)?;
                anyhow::ensure!(o.key == b.key, "{}: another key kind", p.display());
                b.merge(o);
            }
            write_baseline(&b, &output)?;
            Ok(false)
        }
        Command::Show { baseline } => {
            let b = read_baseline(&baseline)?;
            let mut o = std::io::stdout().lock();
            writeln!(
                o,
                "baseline of {} captures, {} keys (rules {})",
                b.captures,
                b.keys.len(),
                terminal(&b.rules_version)
            )?;
            let mut keys: Vec<_> = b.keys.iter().collect();
            keys.sort_by(|x, y| y.1.seen.cmp(&x.1.seen).then_with(|| x.0.cmp(y.0)));
            writeln!(
                o,
                "{:<44} {:<12} {:>9} {:>8} {:>11} {:>8}",
                "key", "category", "seen", "conns", "down (med)", "first s"
            )?;
            for (k, s) in keys {
                writeln!(
                    o,
                    "{:<44} {:<12} {:>4}/{:<4} {:>8} {:>11} {:>8.1}",
                    terminal(k),
                    s.category,
                    s.seen,
                    b.captures,
                    quantile(&s.connections, 0.5),
                    human_bytes(quantile(&s.bytes_down, 0.5)),
                    quantile(&s.first_seen_s, 0.5)
                )?;
            }
            writeln!(
                o,
                "SYN signatures: {}  JA4: {}",
                b.syn_signatures.len(),
                b.ja4.len()
            )?;
            Ok(false)
        }
        Command::Check {
            baseline,
            inputs,
            rare,
            factor,
            fail_on,
            output,
            format,
        } => {
            let b = read_baseline(&baseline)?;
            let opts = CheckOptions {
                rare,
                factor,
                ..CheckOptions::default()
            };
            let fail_at = match fail_on {
                SeverityArg::Low => Severity::Low,
                SeverityArg::Medium => Severity::Medium,
                SeverityArg::High => Severity::High,
            };
            let mut rows: Vec<(String, Deviation)> = Vec::new();
            for (r, f) in facts(&expand(&inputs), b.key)? {
                for d in check(&b, &f, &opts) {
                    rows.push((r.name.clone(), d));
                }
            }
            let table = Table {
                name: "deviations",
                columns: vec!["capture", "kind", "severity", "subject", "reason"],
                rows: rows
                    .iter()
                    .map(|(c, d)| {
                        vec![
                            Cell::Text(c.clone()),
                            Cell::Text(d.kind.into()),
                            Cell::Text(d.severity.as_str().into()),
                            Cell::Text(d.subject.clone()),
                            Cell::Text(d.reason.clone()),
                        ]
                    })
                    .collect::<Vec<_>>()
                    .into(),
            };
            let json = matches!(format, Some(FormatArg::Json));
            if let Some(out) = &output {
                let mut f = std::io::BufWriter::new(
                    std::fs::File::create(out).with_context(|| out.display().to_string())?,
                );
                let format = if json { Format::Json } else { Format::Csv };
                write_tables(
                    &mut f,
                    &[(None, &table)],
                    WriteOptions { format, raw: false },
                )?;
                f.flush()?;
            }
            let mut o = std::io::stdout().lock();
            if json && output.is_none() {
                write_tables(
                    &mut o,
                    &[(None, &table)],
                    WriteOptions {
                        format: Format::Json,
                        raw: true,
                    },
                )?;
            } else {
                writeln!(o, "{} deviations", rows.len())?;
                for (c, d) in &rows {
                    writeln!(
                        o,
                        "{:<24} {:<7} {:<16} {}: {}",
                        terminal(c),
                        d.severity.as_str(),
                        d.kind,
                        terminal(&d.subject),
                        terminal(&d.reason)
                    )?;
                }
            }
            Ok(rows.iter().any(|(_, d)| d.severity >= fail_at))
        }
    }
}
