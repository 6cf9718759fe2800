//! `phonehome-synth`: a developer tool that turns a scenario file into a capture.
//!
//! `phonehome-synth data/scenarios/macos-catalina-install.toml -o install.pcap`
//!
//! For the limit tests and the memory benchmark it also writes hostile shapes:
//! `phonehome-synth --syn-scan 3000000 -o scan.pcap`, `phonehome-synth --dns-flood 2000000 -o
//! flood.pcap`; and, for the small-packet benchmark, a DNS-heavy capture:
//! `phonehome-synth --dns-lookups 5000000 -o lookups.pcap`.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use phonehome_synth::{generate, GenerateOptions, Scenario};

/// Turn a scenario (data/scenarios/*.toml) into a capture, deterministically.
#[derive(Debug, Parser)]
#[command(name = "phonehome-synth", version)]
struct Args {
    /// The scenario file.
    #[arg(required_unless_present_any = ["syn_scan", "dns_flood", "dns_lookups"])]
    scenario: Option<PathBuf>,
    /// Output capture.
    #[arg(short, long)]
    output: PathBuf,
    /// Write pcapng instead of pcap.
    #[arg(long)]
    pcapng: bool,
    /// Play the timeline N times in a row (large captures for benchmarks, constant memory).
    #[arg(long, default_value_t = 1, value_name = "N")]
    repeat: u32,
    /// Play the timeline as often as needed for a file of at least MIB mebibytes (overrides
    /// --repeat).
    #[arg(long, value_name = "MIB")]
    size: Option<u64>,
    /// Store bulk data segments whole (realistic frame sizes for benchmarks) instead of their
    /// first 54 bytes.
    #[arg(long)]
    full_payload: bool,
    /// Vary the passes of a long capture: of every four, one tagged with a VLAN id, one over
    /// IPv6, one both with its HTTPS contacts over QUIC (the benchmark mix).
    #[arg(long)]
    mix: bool,
    /// Instead of a scenario: a SYN scan of N distinct targets (one flow each), 10 µs apart.
    #[arg(long, value_name = "N", conflicts_with_all = ["scenario", "dns_flood", "dns_lookups"])]
    syn_scan: Option<u64>,
    /// Instead of a scenario: a flood of N DNS answers, each a new name and address, 20 µs apart.
    #[arg(long, value_name = "N", conflicts_with_all = ["scenario", "dns_lookups"])]
    dns_flood: Option<u64>,
    /// Instead of a scenario: N DNS lookups (query and answer, ~80 and ~110-byte frames) of
    /// 2,000 names that keep their addresses, as a busy client makes them, 20 µs apart.
    #[arg(long, value_name = "N", conflicts_with = "scenario")]
    dns_lookups: Option<u64>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let file = File::create(&args.output).with_context(|| args.output.display().to_string())?;
    let mut w = BufWriter::new(file);
    let stress = match (args.syn_scan, args.dns_flood, args.dns_lookups) {
        (Some(n), _, _) => Some(phonehome_synth::stress::syn_scan(n, 10, &mut w)),
        (_, Some(n), _) => Some(phonehome_synth::stress::dns_flood(n, 20, &mut w)),
        (_, _, Some(n)) => Some(phonehome_synth::stress::dns_lookups(n, 20, &mut w)),
        _ => None,
    };
    if let Some(written) = stress {
        let written = written.with_context(|| args.output.display().to_string())?;
        std::io::Write::flush(&mut w)?;
        eprintln!(
            "{}: {} frames, {} bytes",
            args.output.display(),
            written.frames,
            written.bytes
        );
        return Ok(());
    }
    let Some(path) = &args.scenario else {
        anyhow::bail!("a scenario file, --syn-scan, --dns-flood or --dns-lookups is needed");
    };
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let scenario = Scenario::parse(&text).with_context(|| path.display().to_string())?;
    let mut opts = GenerateOptions {
        pcapng: args.pcapng,
        repeat: args.repeat,
        full_payload: args.full_payload,
        mix: args.mix,
    };
    if let Some(mib) = args.size {
        // Passes to a sink give the size of one timeline (of four, their mean, when they vary).
        let passes: u32 = if args.mix { 4 } else { 1 };
        let some = generate(
            &scenario,
            GenerateOptions {
                repeat: passes,
                ..opts
            },
            &mut std::io::sink(),
        )?;
        let one = (some.bytes / u64::from(passes)).max(1);
        let want = mib.saturating_mul(1 << 20);
        opts.repeat = u32::try_from(want.div_ceil(one).max(1)).unwrap_or(u32::MAX);
    }
    let written =
        generate(&scenario, opts, &mut w).with_context(|| args.output.display().to_string())?;
    std::io::Write::flush(&mut w)?;
    eprintln!(
        "{}: {} frames, {} bytes",
        args.output.display(),
        written.frames,
        written.bytes
    );
    Ok(())
}
