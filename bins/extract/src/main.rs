//! `phonehome-extract`: the batch extractor. Thin: arguments, progress, parallel work over
//! captures, writing; the work itself is in the `phonehome-*` libraries.

/// mimalloc: the extractor allocates small strings by the million, where it is much faster
/// than the system allocator.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;
mod inputs;
mod progress;

use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use rayon::prelude::*;

use phonehome_decode::{CaptureReader, ReadLimits};
use phonehome_domains::{Rules, Vendor};
use phonehome_flows::dissect::StreamLimits;
use phonehome_flows::{analyze_with, CaptureSummary, Config};
use phonehome_report::sanitize::terminal;
use phonehome_report::summary::{summary_json, Stamp};
use phonehome_report::term::{host_order, render, SortBy, TableOptions};
use phonehome_report::{tables, write_tables, Format, Labeller, Labels, Table, WriteOptions};

use cli::{Args, ColorArg, FormatArg, SortArg};

/// One capture's outcome.
struct Done {
    name: String,
    summary: CaptureSummary,
    labels: Labels,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("phonehome-extract: {}", terminal(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

fn load_rules(args: &Args) -> Result<Rules> {
    let mut rules = Rules::builtin().clone();
    for f in &args.rules {
        let text = fs::read_to_string(f).with_context(|| format!("{}", f.display()))?;
        rules
            .extend_str(&text)
            .with_context(|| format!("rules file {}", f.display()))?;
    }
    Ok(rules)
}

fn vendor(args: &Args) -> Result<Vendor> {
    match args.vendor.to_ascii_lowercase().as_str() {
        v @ ("apple" | "microsoft" | "google") => Ok(Vendor::new(v)),
        other => anyhow::bail!("unknown vendor {other:?} (apple, microsoft or google)"),
    }
}

fn run(args: &Args) -> Result<u8> {
    let rules = load_rules(args)?;
    let vendor = vendor(args)?;
    if let Some(host) = &args.explain {
        let ex = rules.explain(host, None, &vendor);
        println!("{}", terminal(&ex.to_string()));
        return Ok(0);
    }
    if let (Some(a), Some(b)) = (args.since, args.until) {
        anyhow::ensure!(a <= b, "--since {a} is after --until {b}");
    }
    let cfg = Config {
        tcp_idle_s: args.tcp_idle,
        udp_idle_s: args.udp_idle,
        active_timeout_s: args.active_timeout,
        max_live_flows: args.max_flows.max(1),
        stream: StreamLimits {
            per_flow: args.max_stream_bytes.max(1),
            total: args.max_reassembly_bytes,
        },
        max_name_addresses: args.max_dns_addresses.max(1),
        names_per_address: args.names_per_address.max(1),
        spill_after: (args.spill_after > 0).then_some(args.spill_after),
        max_rows: args.max_rows,
        since_s: args.since,
        until_s: args.until,
        ..Config::default()
    };
    let limits = ReadLimits {
        max_record: args.max_block.max(64),
    };
    let (paths, dir_errors) = inputs::expand(&args.captures);
    let mut code = 0u8;
    for (p, e) in &dir_errors {
        eprintln!(
            "phonehome-extract: {}: {e}",
            terminal(&p.display().to_string())
        );
        code = 2;
    }
    if paths.is_empty() {
        anyhow::bail!("no captures found");
    }
    let names = inputs::unique_names(&paths);
    let os_db = match &args.p0f_db {
        Some(f) => {
            let text = fs::read_to_string(f).with_context(|| format!("{}", f.display()))?;
            phonehome_domains::os::OsDb::parse_p0f(&text)
                .with_context(|| format!("p0f database {}", f.display()))?
        }
        None => phonehome_domains::os::OsDb::builtin().clone(),
    };
    let labeller = Labeller::new(&rules, vendor.clone()).with_os_db(&os_db);
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("thread pool")?;
    let bar = progress::Bar::new(show_progress, &paths);
    // Fewer captures than threads: each capture is read on a thread of its own beside its
    // analysis (same output, see `analyze_with`).
    let read_ahead = pool.current_num_threads() > paths.len();
    let results: Vec<(PathBuf, Result<Done>)> = pool.install(|| {
        paths
            .par_iter()
            .zip(names.par_iter())
            .map(|(p, name)| {
                // A bug on one hostile capture must not cost the batch its other outputs.
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    extract_one(p, name, &cfg, limits, read_ahead, &labeller, &bar)
                }))
                .unwrap_or_else(|_| {
                    Err(anyhow::anyhow!(
                        "{}: internal error while reading this capture (please report it)",
                        p.display()
                    ))
                });
                (p.clone(), r)
            })
            .collect()
    });
    bar.finish();
    let stamp = Stamp {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        rules_version: format!(
            "{}{}",
            rules.as_of().unwrap_or("unknown"),
            if args.rules.is_empty() { "" } else { "+user" }
        ),
        vendor: vendor.id().to_string(),
    };
    let mut done = Vec::new();
    for (p, r) in results {
        match r {
            Ok(d) => {
                for s in &d.summary.sources {
                    for w in &s.warnings {
                        eprintln!("phonehome-extract: warning: {}", terminal(&w.to_string()));
                        code = code.max(1);
                    }
                }
                for w in limit_warnings(&d.summary.counters, args) {
                    eprintln!("phonehome-extract: warning: {}: {w}", terminal(&d.name));
                    code = code.max(1);
                }
                done.push(d);
            }
            Err(e) => {
                // The error names the file already.
                let _ = p;
                eprintln!("phonehome-extract: {}", terminal(&e.to_string()));
                code = 2;
            }
        }
    }
    let sort = match args.sort {
        SortArg::Connections => SortBy::Connections,
        SortArg::Bytes => SortBy::Bytes,
        SortArg::FirstSeen => SortBy::FirstSeen,
    };
    let format = match args.format {
        Some(FormatArg::Json) => Format::Json,
        Some(FormatArg::Jsonl) => Format::Jsonl,
        _ => Format::Csv,
    };
    let wopts = WriteOptions {
        format,
        raw: args.raw_csv,
    };
    if let Some(dir) = &args.output {
        let several = paths.len() > 1;
        for e in pool.install(|| {
            write_outputs(
                dir,
                &done,
                several,
                args.combined,
                (sort, &labeller),
                wopts,
                &stamp,
                args.force,
            )
        }) {
            eprintln!("phonehome-extract: {}", terminal(&format!("{e:#}")));
            code = 2;
        }
        if !args.quiet {
            for d in &done {
                eprintln!(
                    "phonehome-extract: {}: {} packets, {} flows, {} hosts",
                    terminal(&d.name),
                    d.summary.counters.frames,
                    d.summary.flow_count(),
                    d.summary.hosts.len()
                );
            }
        }
    } else {
        print_tables(args, &done, sort, wopts, &rules, &vendor)?;
    }
    // The summaries (name tables of up to a million addresses, rows) are left to the process's
    // exit rather than freed one allocation at a time.
    std::mem::forget(done);
    Ok(code)
}

/// One warning per limit that was reached while reading a capture (each counted in full in
/// summary.json `limits`), and one if temporary files could not be written.
fn limit_warnings(c: &phonehome_flows::summary::Counters, args: &Args) -> Vec<String> {
    let limits: [(u64, &str, usize, &str); 4] = [
        (
            c.shed_flows,
            "live-flow limit reached (--max-flows",
            args.max_flows,
            "flows finished early",
        ),
        (
            c.evicted_streams,
            "reassembly limit reached (--max-reassembly-bytes",
            args.max_reassembly_bytes,
            "buffers dissected early and released",
        ),
        (
            c.evicted_name_addresses,
            "DNS name table full (--max-dns-addresses",
            args.max_dns_addresses,
            "addresses forgotten, oldest first",
        ),
        (
            c.dropped_rows,
            "row limit reached (--max-rows",
            args.max_rows,
            "DNS/TLS/HTTP rows not kept",
        ),
    ];
    let mut out: Vec<String> = limits
        .iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, what, limit, result)| format!("{what} {limit}): {n} {result}"))
        .collect();
    if c.spill_failed {
        out.push(
            "temporary files could not be written ($TMPDIR): finished flows and rows were kept in memory"
                .into(),
        );
    }
    out
}

fn extract_one(
    path: &Path,
    name: &str,
    cfg: &Config,
    limits: ReadLimits,
    read_ahead: bool,
    labeller: &Labeller<'_>,
    bar: &progress::Bar,
) -> Result<Done> {
    let mut reader = CaptureReader::open_with(path, limits)?;
    let handle = bar.start(path);
    let summary = analyze_with(&mut reader, cfg.clone(), read_ahead, |bytes, frames| {
        handle.set(bytes, frames)
    });
    handle.done();
    let labels = labeller.label(&summary);
    Ok(Done {
        name: name.to_string(),
        summary,
        labels,
    })
}

/// How many tables each capture gives.
const TABLES: usize = 7;

/// Table `i` (of [`TABLES`]) of one capture, hosts in `sort` order.
fn capture_table<'a, 'r: 'a>(
    d: &'a Done,
    i: usize,
    sort: SortBy,
    labeller: &'a Labeller<'r>,
) -> Table<'a> {
    match i {
        0 => tables::flows(&d.summary, labeller),
        1 => {
            let order = host_order(&d.summary, &d.labels, sort);
            tables::hosts(&d.summary, &d.labels, &order)
        }
        2 => tables::dns(&d.summary),
        3 => tables::tls(&d.summary),
        4 => tables::http(&d.summary),
        5 => tables::fingerprints(&d.summary, &d.labels),
        _ => tables::local_names(&d.summary),
    }
}

/// Bytes gathered before each write of an output file.
const OUTPUT_BUFFER: usize = 1 << 20;

/// Writes `bytes` through a temporary name renamed into place when complete, so that an
/// interrupted run never leaves a half-written file that looks whole; refuses to replace an
/// existing file unless `force`.
fn write_atomic(
    path: &Path,
    force: bool,
    fill: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    if !force && path.exists() {
        anyhow::bail!("{} exists (use --force to overwrite)", path.display());
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    let f = fs::File::create(&tmp).with_context(|| format!("{}", tmp.display()))?;
    // Large writes: an output of hundreds of MB in 8 KiB writes costs seconds of system time.
    let mut w = std::io::BufWriter::with_capacity(OUTPUT_BUFFER, f);
    let done = fill(&mut w).and_then(|()| w.flush().map_err(anyhow::Error::from));
    if let Err(e) = done {
        let _ = fs::remove_file(&tmp);
        return Err(e.context(path.display().to_string()));
    }
    drop(w);
    // An existing file is removed first: renaming over it makes ext4 write the new file's data
    // out at once (its guard for programs that do not sync), a tenth of a second for a large
    // output. The old file still never becomes a half-written one.
    if force {
        let _ = fs::remove_file(path);
    }
    fs::rename(&tmp, path).with_context(|| format!("{}", path.display()))
}

fn write_file(
    path: &Path,
    parts: &[(Option<&str>, &Table)],
    opts: WriteOptions,
    force: bool,
) -> Result<()> {
    write_atomic(path, force, |w| Ok(write_tables(w, parts, opts)?))
}

fn write_summary(path: &Path, v: &serde_json::Value, force: bool) -> Result<()> {
    let mut text = serde_json::to_string_pretty(v)?;
    text.push('\n');
    write_atomic(path, force, |w| Ok(w.write_all(text.as_bytes())?))
}

/// Writes every capture's files; returns the errors (one per capture or file that failed), so
/// that one unwritable output does not stop the others.
#[allow(clippy::too_many_arguments)]
fn write_outputs(
    dir: &Path,
    done: &[Done],
    several: bool,
    combined: bool,
    (sort, labeller): (SortBy, &Labeller<'_>),
    opts: WriteOptions,
    stamp: &Stamp,
    force: bool,
) -> Vec<anyhow::Error> {
    let mut errors = Vec::new();
    if let Err(e) = fs::create_dir_all(dir) {
        errors.push(anyhow::Error::new(e).context(dir.display().to_string()));
        return errors;
    }
    let ext = opts.format.extension();
    // One task per output file (the table's rows are made while it is written), spread over
    // the threads; errors are reported in file order.
    let results: Vec<Result<()>> = if combined {
        (0..=TABLES)
            .into_par_iter()
            .map(|i| {
                if i == TABLES {
                    let summaries: Vec<serde_json::Value> = done
                        .iter()
                        .map(|d| {
                            let mut v = summary_json(&d.summary, &d.labels, stamp);
                            v["capture"] = serde_json::Value::String(d.name.clone());
                            v
                        })
                        .collect();
                    return write_summary(
                        &dir.join("summary.json"),
                        &serde_json::Value::Array(summaries),
                        force,
                    );
                }
                let tables: Vec<Table> = done
                    .iter()
                    .map(|d| capture_table(d, i, sort, labeller))
                    .collect();
                let parts: Vec<(Option<&str>, &Table)> = done
                    .iter()
                    .zip(&tables)
                    .map(|(d, t)| (Some(d.name.as_str()), t))
                    .collect();
                match tables.first() {
                    Some(t) => {
                        write_file(&dir.join(format!("{}.{ext}", t.name)), &parts, opts, force)
                    }
                    None => Ok(()),
                }
            })
            .collect()
    } else {
        // Several inputs each get their folder even when others failed, so that a batch's
        // layout does not depend on which files could be read.
        let sub = |d: &Done| {
            if several {
                dir.join(&d.name)
            } else {
                dir.to_path_buf()
            }
        };
        let made: Vec<bool> = done
            .iter()
            .map(|d| {
                let sub = sub(d);
                let r = fs::create_dir_all(&sub);
                if let Err(e) = &r {
                    errors.push(anyhow::anyhow!("{}: {e}", sub.display()));
                }
                r.is_ok()
            })
            .collect();
        let per_file: Vec<(usize, Result<()>)> = done
            .par_iter()
            .enumerate()
            .filter(|(n, _)| made[*n])
            .flat_map(|(n, d)| (0..=TABLES).into_par_iter().map(move |i| (n, d, i)))
            .map(|(n, d, i)| {
                let sub = sub(d);
                if i == TABLES {
                    let v = summary_json(&d.summary, &d.labels, stamp);
                    return (n, write_summary(&sub.join("summary.json"), &v, force));
                }
                let t = capture_table(d, i, sort, labeller);
                let path = sub.join(format!("{}.{ext}", t.name));
                (n, write_file(&path, &[(None, &t)], opts, force))
            })
            .collect();
        // The first failure of each capture is reported (the rest are usually the same one).
        let mut last = None;
        per_file
            .into_iter()
            .filter(|(_, r)| r.is_err())
            .filter(|(n, _)| last.replace(*n) != Some(*n))
            .map(|(_, r)| r)
            .collect()
    };
    errors.extend(results.into_iter().filter_map(Result::err));
    errors
}

fn print_tables(
    args: &Args,
    done: &[Done],
    sort: SortBy,
    opts: WriteOptions,
    rules: &Rules,
    vendor: &Vendor,
) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.format.is_some() {
        let hosts: Vec<(Option<&str>, Table<'_>)> = done
            .iter()
            .map(|d| {
                let order = host_order(&d.summary, &d.labels, sort);
                let capture = (done.len() > 1).then_some(d.name.as_str());
                (capture, tables::hosts(&d.summary, &d.labels, &order))
            })
            .collect();
        let hosts: Vec<(Option<&str>, Table<'_>)> = if std::io::stdout().is_terminal() {
            // Straight to a terminal: no control characters from the capture.
            let escape: fn(&str) -> String = |t| terminal(t).into_owned();
            hosts
                .into_iter()
                .map(|(c, t)| (c, t.map_text(escape)))
                .collect()
        } else {
            hosts
        };
        let parts: Vec<(Option<&str>, &Table)> = hosts.iter().map(|(c, t)| (*c, t)).collect();
        write_tables(&mut out, &parts, opts)?;
        return Ok(());
    }
    let color = match args.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let vendor_name = rules
        .owner(vendor.id())
        .map_or_else(|| vendor.id().to_string(), |o| o.name.clone());
    let topts = TableOptions {
        sort,
        top: args.top,
        color,
        vendor_name,
    };
    for (i, d) in done.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        out.write_all(render(&d.summary, &d.labels, &topts).as_bytes())?;
    }
    Ok(())
}
